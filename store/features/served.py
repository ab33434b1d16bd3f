"""A sample of the feature vectors the online path served, kept as Parquet.

Training/serving skew can only be measured against what was really served. A sampled request
(`sample_rate`, decided once per request so the hot path pays one random draw) is copied
into memory; a background thread writes the buffer every `flush_seconds` (or at `flush_rows`,
or on shutdown) as one Parquet file per project and feature view:

    <root>/<project>/<view>/date=YYYY-MM-DD/part-<time>-<id>.parquet

with the view's join keys, `served_at` (UTC) and the requested features (null where the answer
was NOT_FOUND or OUTSIDE_MAX_AGE). Files of one view may carry different feature subsets;
`read` unifies them.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .online import OnlineResult, Snapshot

log = logging.getLogger(__name__)


class ServedLog:
    def __init__(
        self,
        root: Path,
        sample_rate: float,
        *,
        flush_seconds: float = 30.0,
        flush_rows: int = 50_000,
        rng: random.Random | None = None,
    ) -> None:
        self.root = root
        self.sample_rate = sample_rate
        self.flush_seconds = flush_seconds
        self.flush_rows = flush_rows
        self._rng = rng or random.Random()
        self._pending: dict[tuple[str, str], list[pa.Table]] = defaultdict(list)
        self._rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def offer(self, project: str, snap: Snapshot, result: OnlineResult) -> None:
        """Keep this answer if it is drawn into the sample."""
        if self.sample_rate <= 0 or self._rng.random() >= self.sample_rate:
            return
        served_at = datetime.now(UTC)
        columns = dict(zip(result.feature_names, result.values, strict=True))
        by_view: dict[str, list[str]] = defaultdict(list)
        for name in result.feature_names:
            view, sep, feature = name.partition(":")
            if sep and view in snap.views:
                by_view[view].append(feature)
        n = len(result.values[0]) if result.values else 0
        tables = []
        for view, feature_names in by_view.items():
            data: dict[str, Any] = {k: columns[k] for k in snap.views[view].join_keys}
            data["served_at"] = pa.array([served_at] * n, pa.timestamp("us", tz="UTC"))
            for feature in feature_names:
                data[feature] = columns[f"{view}:{feature}"]
            tables.append((view, pa.table(data)))
        with self._lock:
            for view, table in tables:
                self._pending[(project, view)].append(table)
            self._rows += n
            full = self._rows >= self.flush_rows
        if full:
            self._wake.set()
        self._ensure_thread()

    def flush(self) -> list[Path]:
        """Write everything buffered; the files written."""
        with self._lock:
            pending, self._pending = self._pending, defaultdict(list)
            self._rows = 0
        written = []
        now = datetime.now(UTC)
        for (project, view), tables in pending.items():
            folder = self.root / _segment(project) / _segment(view) / f"date={now:%Y-%m-%d}"
            path = folder / f"part-{now:%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.concat_tables(tables, promote_options="permissive"), path)
            except OSError:
                log.exception("could not write %s; kept for the next flush", path)
                self._put_back(project, view, tables)
                continue
            written.append(path)
        return written

    def _put_back(self, project: str, view: str, tables: list[pa.Table]) -> None:
        with self._lock:
            kept = self._pending[(project, view)]
            kept[:0] = tables
            self._rows += sum(t.num_rows for t in tables)
            # While the disk refuses, keep at most ten flushes' worth (a sample may thin out).
            while self._rows > 10 * self.flush_rows and len(kept) > 1:
                self._rows -= kept.pop(0).num_rows
                log.warning("served-feature log over its buffer; oldest sample dropped")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="mlledger-served-log", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()


def _segment(name: str) -> str:
    """A name as one safe path segment."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return cleaned if cleaned.strip(".") else f"_{cleaned}"


def read(root: Path, project: str, view: str) -> pa.Table | None:
    """Every logged vector of one view (files with other feature subsets unified), or None."""
    files = sorted((root / _segment(project) / _segment(view)).glob("date=*/*.parquet"))
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
