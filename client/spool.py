"""The append-only spool: writes the server could not take, kept on local disk in order.

One file per client process (`<dir>/<host>-<pid>-<random>.jsonl`), one JSON line per write, each
fsynced before `append` returns — a write the client accepted survives the process being killed.
A sidecar `.done` file holds how many lines were delivered, so a replay resumes where the last
one stopped; delivering a line twice is harmless because every line carries its idempotency key.
Writes the server refuses go to `<file>.rejected` with the reason, never silently away.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Record:
    method: str
    path: str
    body: Any
    key: str
    # The run (uuid) this write belongs to. Its creation may still be spooled by another
    # process, so a 404 on replay means "not yet", not "refused": replay waits for it.
    needs: str | None = None


class Spool:
    def __init__(
        self, directory: Path, *, server: str, project: str | None, name: str | None = None
    ) -> None:
        self.directory = directory
        self.server = server
        self.project = project
        self.path = directory / (
            name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        )
        self._lock = threading.Lock()
        self._records: list[Record] | None = None
        self._done = 0

    @classmethod
    def files(cls, directory: Path) -> list[Path]:
        return sorted(directory.glob("*.jsonl")) if directory.is_dir() else []

    @classmethod
    def open(cls, path: Path) -> Spool:
        """An existing spool file (for `mlledger sync`)."""
        with path.open() as f:
            header = json.loads(f.readline())
        spool = cls(
            path.parent, server=header["server"], project=header.get("project"), name=path.name
        )
        spool._load()
        return spool

    def _load(self) -> None:
        records: list[Record] = []
        with self.path.open() as f:
            f.readline()  # header
            for line in f:
                if not line.endswith("\n"):
                    break  # torn last line of a killed writer: it was never acknowledged
                records.append(Record(**json.loads(line)))
        self._records = records
        done = self.path.with_suffix(".done")
        self._done = int(done.read_text() or 0) if done.exists() else 0

    def pending(self) -> bool:
        with self._lock:
            return self._records is not None and self._done < len(self._records)

    def append(self, record: Record) -> None:
        line = json.dumps(asdict(record), separators=(",", ":")) + "\n"
        with self._lock:
            if self._records is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                header = {"server": self.server, "project": self.project}
                with self.path.open("a") as f:
                    f.write(json.dumps(header) + "\n")
                self._records = []
            with self.path.open("a") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self._records.append(record)

    def peek(self) -> Record | None:
        with self._lock:
            if self._records is None or self._done >= len(self._records):
                return None
            return self._records[self._done]

    def advance(self) -> None:
        """Mark the record `peek` returned as delivered; remove the files once all are."""
        with self._lock:
            assert self._records is not None
            self._done += 1
            if self._done >= len(self._records):
                self.path.unlink(missing_ok=True)
                self.path.with_suffix(".done").unlink(missing_ok=True)
                self._records = None
                self._done = 0
                return
            tmp = self.path.with_suffix(".done.tmp")
            tmp.write_text(str(self._done))
            os.replace(tmp, self.path.with_suffix(".done"))

    def reject(self, record: Record, reason: Exception) -> None:
        # The first write refused may come before anything was spooled: no directory yet.
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.with_suffix(".rejected").open("a") as f:
            f.write(json.dumps({**asdict(record), "reason": str(reason)}) + "\n")

    def size(self) -> int:
        with self._lock:
            return 0 if self._records is None else len(self._records) - self._done
