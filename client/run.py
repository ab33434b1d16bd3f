"""A run, as training code sees it: a context manager that logs without ever getting in the way."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import fingerprint
from .buffer import MetricBuffer
from .errors import ApiError

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("mlledger")

_KEY = re.compile(r"^[\w\-. /:]{1,250}$")
_INT64 = 2**63
_MAX_BODY = 8 * 1024 * 1024  # half the server's default request limit


@dataclass(frozen=True, slots=True)
class LoggedArtifact:
    """What was logged; `id` is None while the write waits in the spool."""

    kind: str
    name: str
    uri: str
    fingerprint: str
    properties: dict[str, Any]
    id: int | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedModel:
    name: str
    artifact: LoggedArtifact
    version: int | None  # None while spooled


def check_key(key: Any, what: str = "metric") -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(
            f"{what} key {key!r} must be 1-250 letters, digits, or _ - . / : and spaces"
        )
    return key


def param_text(key: str, value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        text = str(value)
    else:
        raise TypeError(f"param {key!r}: {value!r} is not a string, int, finite float or bool")
    if len(text) > 6000:
        raise ValueError(f"param {key!r} is {len(text)} characters; the limit is 6000")
    return text


class Run:
    """Logging into one run. Metrics are buffered and shipped by a background thread; every
    other write is sent at once, or spooled when the server is unreachable."""

    def __init__(
        self, client: Client, uuid: str, info: dict[str, Any] | None, *, owner: bool
    ) -> None:
        self.client = client
        self.uuid = uuid
        self.info = info  # the server's view at start; None if the start was spooled
        self.owner = owner
        self._path = f"/api/v1/runs/{quote(uuid, safe='')}"
        self._known_keys: set[str] = set()
        self._ended = False
        self._lock = threading.Lock()
        settings = client.settings
        self._buffer = MetricBuffer(
            self._ship,
            batch_size=settings.batch_size,
            interval=settings.flush_interval,
            max_points=settings.max_buffered_points,
        )

    @property
    def id(self) -> int | None:
        """The run's execution id in the lineage graph (None while its start is spooled)."""
        return self.info["id"] if self.info else None

    # -- metrics ----------------------------------------------------------------------------

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: int | None = None
    ) -> None:
        """Buffer one point and return at once. NaN and ±Infinity are kept (a diverging loss
        is information); a non-numeric value, a bad key or a non-integer step raise here."""
        if key not in self._known_keys:
            self._known_keys.add(check_key(key))
        if type(value) is not float:
            if isinstance(value, bool) or not hasattr(value, "__float__"):
                raise TypeError(f"metric {key!r}: {value!r} is not a number")
            value = float(value)
        if type(step) is not int:
            if isinstance(step, bool) or not hasattr(step, "__index__"):
                raise TypeError(f"metric {key!r}: step {step!r} is not an integer")
            step = step.__index__()
        if not -_INT64 <= step < _INT64:
            raise ValueError(f"metric {key!r}: step {step} does not fit in 64 bits")
        if timestamp is None:
            timestamp = time.time_ns() // 1_000_000
        elif type(timestamp) is not int or not 0 <= timestamp < _INT64:
            raise TypeError(
                f"metric {key!r}: timestamp must be non-negative epoch milliseconds in 64 bits"
            )
        self._buffer.add((key, value, step, timestamp))

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        now = time.time_ns() // 1_000_000
        for key, value in metrics.items():
            self.log_metric(key, value, step, now)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every metric logged so far is acknowledged by the server or written to
        the local spool (True), or `timeout` passes (False)."""
        return self._buffer.flush(timeout)

    def _ship(
        self, keys: list[str], values: list[float], steps: list[int], stamps: list[int]
    ) -> None:
        # Long non-ASCII keys could take a large batch past the server's 16 MiB body limit:
        # past a bound on its size (4 bytes a key character, 40 a point's numbers), it goes as
        # two requests, in order.
        if len(keys) > 1 and 4 * sum(map(len, keys)) + 40 * len(keys) > _MAX_BODY:
            half = len(keys) // 2
            self._ship(keys[:half], values[:half], steps[:half], stamps[:half])
            self._ship(keys[half:], values[half:], steps[half:], stamps[half:])
            return
        body = {
            "keys": keys,
            "values": [v if math.isfinite(v) else _non_finite(v) for v in values]
            if not all(map(math.isfinite, values))
            else values,
            "steps": steps,
            "timestamps": stamps,
        }
        self._send("POST", f"{self._path}/metrics", body, fast_json=True)

    # -- params, tags, artifacts --------------------------------------------------------------

    def log_params(self, params: dict[str, Any]) -> None:
        """Params are set once; logging a different value for a key raises ApiError (409)."""
        body = {"params": {check_key(k, "param"): param_text(k, v) for k, v in params.items()}}
        self._send("PATCH", self._path, body, raise_refusal=True)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        body = {"tags": {check_key(k, "tag"): str(v) for k, v in tags.items()}}
        self._send("PATCH", self._path, body, raise_refusal=True)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def use_dataset(
        self, location: str | PathLike[str], *, name: str | None = None, role: str = "dataset"
    ) -> LoggedArtifact:
        """Record that the run reads this data: an INPUT edge to a dataset artifact versioned by
        content, so the same data used twice is one version."""
        return self._artifact("inputs", "dataset", location, name, role)

    def log_artifact(
        self,
        location: str | PathLike[str],
        *,
        name: str | None = None,
        kind: str = "other",
        role: str | None = None,
        upload: bool | None = None,
    ) -> LoggedArtifact:
        """Record a file or directory the run wrote: an OUTPUT edge. The URI and fingerprint
        are recorded; with `upload` (default: the client's `upload_artifacts`) the bytes go
        to the server's artifact store too and the URI names them there."""
        if self._uploads(upload):
            fp = fingerprint.of(location)
            folder = f"runs/{self.uuid}/{quote(name or Path(str(location)).name, safe='')}"
            uri = self._upload(Path(location), folder)
            return self._artifact("outputs", kind, location, name, role, fp=fp, uri=uri)
        return self._artifact("outputs", kind, location, name, role)

    def _uploads(self, upload: bool | None) -> bool:
        return self.client.settings.upload_artifacts if upload is None else upload

    def _upload(self, local: Path, folder: str) -> str:
        """Send a file or a folder's files to the artifact store under `folder`, each with its
        sha256; the URI that names them there. Synchronous (and not spooled): the call returns
        once the server holds every byte."""
        if not local.exists():
            raise FileNotFoundError(f"{local}: no such file or directory")
        files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
        for f in files:
            rel = f.name if local.is_file() else f.relative_to(local).as_posix()
            target = f"{folder}/{rel}"
            self.client.transport.upload(
                f"/api/v1/files/{quote(target)}", f, fingerprint.file_sha256(f)
            )
        return f"mlledger-artifacts:/{folder}"  # a file is uploaded into the folder by its name

    def _artifact(
        self,
        side: str,
        kind: str,
        location: Any,
        name: str | None,
        role: str | None,
        *,
        fp: fingerprint.Fingerprint | None = None,
        uri: str | None = None,
    ) -> LoggedArtifact:
        fp = fp or fingerprint.of(location)
        label = name or str(location)
        artifact = {
            "kind": kind,
            "name": label,
            "uri": uri or fp.uri,
            "fingerprint": fp.fingerprint,
            "properties": fp.properties,
        }
        answer = self._send(
            "POST", f"{self._path}/{side}", {"artifact": artifact, "role": role}, raise_refusal=True
        )
        return LoggedArtifact(
            kind=kind,
            name=label,
            uri=uri or fp.uri,
            fingerprint=fp.fingerprint,
            properties=fp.properties,
            id=answer["id"] if answer else None,
            version=answer["version"] if answer else None,
        )

    def log_model(
        self,
        name: str,
        *,
        path: str | PathLike[str],
        metrics: dict[str, float] | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        upload: bool | None = None,
    ) -> LoggedModel:
        """Record the model as this run's OUTPUT and register it as the next version of `name`
        (the same files again are the same version). With `upload` (default: the client's
        `upload_artifacts`) its files go to the server's artifact store, from where
        `mlledger models download` and `models:/NAME@ALIAS` fetch them."""
        for key, value in (metrics or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"model metric {key!r}: {value!r} is not a number")
            if not math.isfinite(value):
                raise ValueError(f"model metric {key!r} is {value}: gates need finite numbers")
        fp = fingerprint.of(path)
        uri = fp.uri
        if self._uploads(upload):  # by content: the same files upload to the same place
            digest = fp.fingerprint.partition(":")[2]
            uri = self._upload(Path(path), f"models/{quote(name, safe='')}/{digest}")
        artifact = {
            "kind": "model",
            "name": name,
            "uri": uri,
            "fingerprint": fp.fingerprint,
            "properties": fp.properties,
        }
        body = {
            "run": self.uuid,
            "artifact": artifact,
            "metrics": {k: float(v) for k, v in (metrics or {}).items()},
            "tags": tags or {},
            "description": description,
        }
        answer = self._send(
            "POST", f"/api/v1/models/{quote(name, safe='')}/versions", body, raise_refusal=True
        )
        logged = LoggedArtifact(
            "model",
            name,
            uri,
            fp.fingerprint,
            fp.properties,
            id=answer["artifact_id"] if answer else None,
            version=answer["artifact"]["version"] if answer and answer.get("artifact") else None,
        )
        return LoggedModel(name, logged, answer["version"] if answer else None)

    # -- delivery ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        raise_refusal: bool = False,
        fast_json: bool = False,
    ) -> Any:
        """Deliver or spool. A refusal (4xx) is the caller's mistake: raised when the caller is
        still on the line, logged when it happened in the background."""
        try:
            return self.client.transport.send(
                method, path, body, needs=self.uuid, fast_json=fast_json
            )
        except ApiError:
            if raise_refusal:
                raise
            log.exception("mlledger: the server refused %s %s", method, path)
            return None
        except Exception:  # never let logging crash training
            log.exception("mlledger: could not deliver %s %s", method, path)
            return None

    # -- lifecycle --------------------------------------------------------------------------

    def end(self, state: str = "complete") -> None:
        """Flush metrics and record the end. Only the process that created the run marks it
        complete; any process marks it failed."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._buffer.close()
        if self.owner or state == "failed":
            body = {"state": state, "ended_at": _now_iso()}
            self._send("PATCH", self._path, body)
        self.client._forget(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end("failed" if exc_type is not None else "complete")


def _non_finite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()
