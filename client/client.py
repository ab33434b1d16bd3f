"""`mlledger.Client`: runs, the registry and search, over the REST API."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import uuid as uuids
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from . import environment, fingerprint
from .errors import ApiError, Unavailable
from .features import Features
from .results import (
    HISTORY_COLUMNS,
    Alias,
    Evaluation,
    MetricHistory,
    ModelGate,
    ModelPush,
    ModelVerdict,
    ModelVersion,
    RegisteredModel,
    RunRecord,
)
from .run import Run, check_key, param_text
from .spool import Spool
from .transport import Transport

log = logging.getLogger("mlledger")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class ClientSettings:
    """The client's one configuration object: arguments, else MLLEDGER_* variables."""

    url: str = "http://127.0.0.1:8080"
    token: str | None = None
    project: str | None = None
    timeout: float = 10.0
    retries: int = 3
    spool_dir: Path = field(default_factory=lambda: Path.home() / ".mlledger" / "spool")
    batch_size: int = 10_000
    flush_interval: float = 1.0
    max_buffered_points: int = 1_000_000
    exit_timeout: float = 10.0
    # Send logged models' and artifacts' bytes to the server's artifact store by default
    # (`upload=` of log_model / log_artifact decides per call).
    upload_artifacts: bool = False

    @classmethod
    def from_env(cls, **overrides: Any) -> ClientSettings:
        env = os.environ
        values: dict[str, Any] = {
            "url": env.get("MLLEDGER_URL", cls.url),
            "token": env.get("MLLEDGER_TOKEN") or None,
            "project": env.get("MLLEDGER_PROJECT") or None,
            "timeout": _env_float("MLLEDGER_TIMEOUT", cls.timeout),
            "retries": int(_env_float("MLLEDGER_RETRIES", cls.retries)),
            "flush_interval": _env_float("MLLEDGER_FLUSH_INTERVAL", cls.flush_interval),
            "exit_timeout": _env_float("MLLEDGER_EXIT_TIMEOUT", cls.exit_timeout),
            "upload_artifacts": env.get("MLLEDGER_UPLOAD_ARTIFACTS", "").lower()
            in ("1", "true", "yes"),
        }
        if env.get("MLLEDGER_SPOOL_DIR"):
            values["spool_dir"] = Path(env["MLLEDGER_SPOOL_DIR"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("spool_dir"), str):
            values["spool_dir"] = Path(values["spool_dir"])
        return cls(**values)


_clients: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _at_exit() -> None:
    for client in list(_clients):
        client.close()


class Client:
    """Talks to an mlledger server. Thread-safe; one per process is enough.

    `Client()` reads MLLEDGER_URL, MLLEDGER_TOKEN and MLLEDGER_PROJECT; arguments win.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        project: str | None = None,
        spool_dir: str | Path | None = None,
        transport: httpx.BaseTransport | None = None,
        **settings: Any,
    ) -> None:
        self.settings = ClientSettings.from_env(
            url=url, token=token, project=project, spool_dir=spool_dir, **settings
        )
        s = self.settings
        self.transport = Transport(
            s.url,
            token=s.token,
            project=s.project,
            timeout=s.timeout,
            retries=s.retries,
            spool=Spool(s.spool_dir, server=s.url, project=s.project),
            transport=transport,
        )
        self.features = Features(self.transport)
        self._runs: set[Run] = set()
        self._lock = threading.Lock()
        self._closed = False
        _clients.add(self)

    # -- runs -----------------------------------------------------------------------------

    def start_run(
        self,
        experiment: str = "default",
        name: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        run_id: str | None = None,
        capture_environment: bool = True,
    ) -> Run:
        """Start a run (use it as a context manager). Processes of one job that pass the same
        `run_id` share one run: the first creates it, the others attach.

        Raises:
            ValueError, TypeError: bad params or tags (checked here, not later on the server).
            ApiError: the server refused the run (e.g. an invalid name).
        """
        run_uuid = run_id or str(uuids.uuid4())
        body: dict[str, Any] = {
            "uuid": run_uuid,
            "experiment": experiment,
            "name": name or run_uuid,
            "params": {check_key(k, "param"): param_text(k, v) for k, v in (params or {}).items()},
            "tags": {check_key(k, "tag"): str(v) for k, v in (tags or {}).items()},
            "started_at": datetime.now(UTC).isoformat(),
        }
        packages: list[str] = []
        digest = ""
        if capture_environment:
            env, packages, digest = environment.capture()
            git = env.get("git") or {}
            if git.get("commit"):
                body["code_version"] = git["commit"] + ("-dirty" if git.get("dirty") else "")
            body["environment"] = env
        answer, status = self.transport.send_with_status("POST", "/api/v1/runs", body)
        run = Run(self, run_uuid, answer, owner=(status != 200))
        with self._lock:
            self._runs.add(run)
        if packages:
            run._send(
                "POST",
                f"{run._path}/inputs",
                {
                    "artifact": {
                        "kind": "other",
                        "name": "python-environment",
                        "fingerprint": f"sha256:{digest}",
                        "properties": {"packages": packages},
                    },
                    "role": "environment",
                },
            )
        return run

    def _forget(self, run: Run) -> None:
        with self._lock:
            self._runs.discard(run)

    def get_run(self, run: str) -> RunRecord:
        """A run by uuid or id, with the latest value of each metric."""
        return RunRecord.of(self.transport.call("GET", f"/api/v1/runs/{quote(run, safe='')}"))

    def search_runs(
        self,
        filter: str | None = None,
        *,
        experiments: list[str] | None = None,
        order_by: str | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Every matching run (following pages), e.g. `metrics.auc > 0.9 and params.lr = "0.1"`."""
        params: dict[str, Any] = {"limit": min(limit, 1000)}
        if filter:
            params["filter"] = filter
        if order_by:
            params["order_by"] = order_by
        if experiments:
            params["experiment"] = experiments
        found: list[RunRecord] = []
        while len(found) < limit:
            page = self.transport.call("GET", "/api/v1/runs", params=params)
            found += [RunRecord.of(r) for r in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        return found[:limit]

    def metric_history(self, run: str, key: str, *, max_points: int = 100_000) -> MetricHistory:
        """A metric's points in step order; above `max_points`, downsampled into buckets."""
        response = self.transport.request(
            "GET",
            f"/api/v1/runs/{quote(run, safe='')}/metrics/{quote(key, safe='/')}",
            params={"max_points": max_points},
            accept=f"{HISTORY_COLUMNS}, application/json;q=0.5",
        )
        if response.headers.get("content-type", "").startswith(HISTORY_COLUMNS):
            return MetricHistory.unpack(key, response.content, response.headers)
        return MetricHistory.of(response.json())  # a server from before packed columns

    # -- registry -------------------------------------------------------------------------

    def get_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.of(
            self.transport.call("GET", f"/api/v1/models/{quote(name, safe='')}")
        )

    def model_version(self, name: str, version: int | str) -> ModelVersion:
        """A version by number, or by alias (`"production"`)."""
        base = f"/api/v1/models/{quote(name, safe='')}"
        if isinstance(version, int):
            return ModelVersion.of(self.transport.call("GET", f"{base}/versions/{version}"))
        return ModelVersion.of(
            self.transport.call("GET", f"{base}/aliases/{quote(version, safe='')}")
        )

    def set_alias(
        self, name: str, alias: str, version: int, *, expected_version: Any = ...
    ) -> Alias:
        """Point `alias` at `version`; with `expected_version` (None: must not exist) only if
        nobody moved it meanwhile — ApiError 409 otherwise."""
        body: dict[str, Any] = {"version": version}
        if expected_version is not ...:
            body["expected_version"] = expected_version
        return Alias.of(
            self.transport.call(
                "PUT",
                f"/api/v1/models/{quote(name, safe='')}/aliases/{quote(alias, safe='')}",
                json=body,
            )
        )

    # -- model gates --------------------------------------------------------------------

    def download_model(
        self,
        name: str,
        target: str | os.PathLike[str],
        *,
        alias: str | None = None,
        version: int | None = None,
    ) -> Path:
        """Fetch a model version's files (by `alias`, e.g. "production", or `version`) from the
        server's artifact store into the folder `target`; each file's sha256 is checked.
        Returns the folder. The version must have been logged with upload.

        Raises:
            ApiError: no such model, version or alias; a version logged by URI only (409).
            OSError: a file arrived with another sha256 than the server holds.
        """
        if (alias is None) == (version is None):
            raise TypeError("give exactly one of alias and version")
        base = f"/api/v1/models/{quote(name, safe='')}/" + (
            f"aliases/{quote(alias, safe='')}" if alias is not None else f"versions/{version}"
        )
        listing = self.transport.call("GET", f"{base}/files")
        folder = Path(target)
        for entry in listing["files"]:
            local = folder.joinpath(*entry["path"].split("/"))
            if folder.resolve() not in local.resolve().parents:
                raise OSError(f"refusing to write {entry['path']!r} outside {folder}")
            local.parent.mkdir(parents=True, exist_ok=True)
            self.transport.download_to(f"{base}/files/{quote(entry['path'])}", local)
            if fingerprint.file_sha256(local) != entry["sha256"]:
                raise OSError(f"{local}: the download's sha256 differs from the server's")
        return folder

    def set_model_gate(self, name: str, gate: dict[str, Any]) -> ModelGate:
        """TFMA-style thresholds every version must meet before a push (see the README's
        "Model gates"); a changed gate makes earlier blessings stale."""
        path = f"/api/v1/models/{quote(name, safe='')}/gate"
        return ModelGate.of(self.transport.call("PUT", path, json=gate))

    def model_verdict(self, name: str, version: int) -> ModelVerdict:
        """Would a push of this version go through (blessed against the incumbent, training
        data passed its gates)? What `mlledger gate model` asks, without waiting."""
        path = f"/api/v1/models/{quote(name, safe='')}/versions/{version}/gate"
        return ModelVerdict.of(self.transport.call("GET", path))

    def evaluate_model(
        self,
        name: str,
        version: int,
        metrics: dict[str, float],
        *,
        slices: list[dict[str, Any]] | None = None,
        dataset: int | str | None = None,
        example_count: int | None = None,
    ) -> Evaluation:
        """Submit a version's evaluation (overall metrics, and per slice:
        `{"slice": {"country": "DE"}, "metrics": {...}, "example_count": n}`); the answer is
        the blessing, with each threshold's value, bound and verdict."""
        body: dict[str, Any] = {"metrics": metrics, "slices": slices or []}
        if dataset is not None:
            body["dataset"] = dataset
        if example_count is not None:
            body["example_count"] = example_count
        return Evaluation.of(
            self.transport.call(
                "POST",
                f"/api/v1/models/{quote(name, safe='')}/versions/{version}/evaluations",
                json=body,
            )
        )

    def push_model(
        self,
        name: str,
        version: int | None = None,
        *,
        to: str = "production",
        rollback: bool = False,
    ) -> ModelPush:
        """Move `to` to `version` if the gate allows (ApiError 409 `gate_blocked` with the
        reasons otherwise), or with `rollback=True` back to the version before the last push."""
        body: dict[str, Any] = {"to": to}
        if rollback:
            body["rollback"] = True
        else:
            body["version"] = version
        # A retried push is safe (the second finds the alias moved: "unchanged"); a retried
        # rollback is not (it would roll back twice).
        return ModelPush.of(
            self.transport.call(
                "POST",
                f"/api/v1/models/{quote(name, safe='')}/pushes",
                json=body,
                retries=0 if rollback else None,
            )
        )

    # -- spool ----------------------------------------------------------------------------

    def pending(self) -> int:
        """Writes waiting in this client's spool."""
        return self.transport.spool.size()

    def close(self) -> None:
        """End open runs (complete), flush, and give spooled writes `exit_timeout` seconds to
        reach the server; what remains stays on disk for `mlledger sync`."""
        if self._closed:
            return
        self._closed = True
        for run in list(self._runs):
            run.end("complete")
        if not self.transport.drain(self.settings.exit_timeout):
            log.warning(
                "mlledger: %d writes are still spooled in %s; run `mlledger sync` when the "
                "server is reachable",
                self.transport.spool.size(),
                self.transport.spool.path,
            )
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sync(spool_dir: Path, *, token: str | None = None, timeout: float = 10.0) -> dict[str, int]:
    """Replay every spool file in `spool_dir` in order; {"delivered", "pending", "rejected"}.

    Files are replayed in passes until no more progress: a file whose run is created by a
    write in another file waits for that one.
    """
    spools = [Spool.open(p) for p in Spool.files(spool_dir)]
    start = sum(s.size() for s in spools)
    rejected = 0

    def count(*_: object) -> None:
        nonlocal rejected
        rejected += 1

    progress = True
    while progress:
        progress = False
        for spool in spools:
            before = spool.size()
            if not before:
                continue
            transport = Transport(
                spool.server,
                token=token,
                project=spool.project,
                timeout=timeout,
                retries=2,
                spool=spool,
            )
            try:
                transport.replay_once(on_rejected=count)
            finally:
                transport.close()
            progress |= spool.size() < before
    pending = sum(s.size() for s in spools)
    return {"delivered": start - pending - rejected, "pending": pending, "rejected": rejected}


__all__ = ["ApiError", "Client", "ClientSettings", "Run", "Unavailable", "sync"]
