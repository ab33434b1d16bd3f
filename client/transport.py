"""HTTP with retries and idempotency keys, falling back to the local spool.

Two kinds of call:
- `call`: reads and writes whose answer the caller needs now; retried, then `Unavailable`.
- `send`: writes that must never be lost (metrics, run state, lineage). Retried, then appended
  to the spool; while the spool holds anything, later writes queue behind it, so the server
  sees every write in the order it was made.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from .errors import ApiError, ServerError, Unavailable, api_error
from .spool import Record, Spool

log = logging.getLogger("mlledger")

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Answers that mean "not now" (a proxy without its backend, overload, a timeout): the write
# waits for the server. Any other 5xx that repeats is the server refusing this write.
UNAVAILABLE_STATUSES = frozenset({408, 425, 429, 502, 503, 504})


def new_key() -> str:
    return str(uuid.uuid4())


class Transport:
    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        project: str | None,
        timeout: float,
        retries: int,
        spool: Spool,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "mlledger-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if project:
            headers["X-Mlledger-Project"] = project
        self.url = url.rstrip("/")
        self.project = project
        self.retries = retries
        self.spool = spool
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )
        self._order = threading.Lock()  # decides "send now" vs "queue behind the spool"
        self._replaying = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._replayer: threading.Thread | None = None

    # -- calls whose answer is needed -------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call_with_status(method, path, **kwargs)[0]

    def call_with_status(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        retries: int | None = None,
        fast_json: bool = False,
    ) -> Any:
        """Send with retries; (the decoded JSON answer, its status). `fast_json`: the body
        holds only strings and numbers within 64 bits (a metric batch), which orjson encodes
        exactly and ten times faster than the standard library (it would refuse a larger
        integer, so it is not used for other calls). Raises as `request`."""
        response = self.request(
            method, path, json=json, params=params, key=key, retries=retries, fast_json=fast_json
        )
        return (response.json() if response.content else None), response.status_code

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        retries: int | None = None,
        fast_json: bool = False,
        accept: str | None = None,
    ) -> httpx.Response:
        """Send with retries; the first answer that is not an error.

        Raises:
            ApiError: a 4xx (the request is wrong).
            ServerError: the same 5xx (not 502/503/504) on every attempt.
            Unavailable: no answer after the retries, or only "not now" answers.
        """
        headers = {"Idempotency-Key": key} if key else {}
        if accept:
            headers["Accept"] = accept
        content = None
        if fast_json and json is not None:
            content, json = orjson.dumps(json), None
            headers["Content-Type"] = "application/json"
        attempts = 1 + (self.retries if retries is None else retries)
        last: Exception | None = None
        answers: set[int] = set()  # statuses of the attempts the server answered
        unreachable = False
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
            try:
                response = self._http.request(
                    method, path, json=json, content=content, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                last, unreachable = exc, True
                continue
            if response.status_code in RETRY_STATUSES:
                last = _api_error(response)
                answers.add(response.status_code)
                continue
            if response.status_code >= 400:
                raise _api_error(response)
            return response
        if not unreachable and len(answers) == 1 and not answers & UNAVAILABLE_STATUSES:
            assert isinstance(last, ApiError)
            raise ServerError(last.status, last.code, last.message, last.details)
        raise Unavailable(f"{method} {self.url}{path} failed after {attempts} attempts: {last}")

    def upload(self, path: str, local: Path, sha256: str) -> Any:
        """PUT a file's bytes, streamed, with their sha256 (the server refuses a body that
        arrives changed); retried like other calls, each attempt from the file's start."""
        attempts = 1 + self.retries
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
            try:
                with local.open("rb") as body:
                    response = self._http.put(
                        path,
                        content=iter(lambda: body.read(1024 * 1024), b""),
                        headers={
                            "X-Mlledger-Sha256": sha256,
                            "Content-Type": "application/octet-stream",
                        },
                    )
            except httpx.TransportError as exc:
                last = exc
                continue
            if response.status_code in RETRY_STATUSES:
                last = _api_error(response)
                continue
            if response.status_code >= 400:
                raise _api_error(response)
            return response.json()
        raise Unavailable(f"PUT {self.url}{path} failed after {attempts} attempts: {last}")

    def download_to(self, path: str, target: Path) -> None:
        """Stream a GET's body into `target` (a model file)."""
        with self._http.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                raise _api_error(response)
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1024 * 1024):
                    out.write(chunk)

    def download(self, path: str) -> bytes:
        """Raw bytes of a GET (a training set's Parquet file)."""
        response = self._http.get(path)
        if response.status_code >= 400:
            raise _api_error(response)
        return response.content

    # -- writes that must not be lost -------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        key: str | None = None,
        needs: str | None = None,
        fast_json: bool = False,
    ) -> Any:
        """Deliver a write now, or spool it; the answer, or None when spooled. `needs`: the
        run (uuid) the write belongs to (spool.Record.needs); `fast_json` as in `call`."""
        return self.send_with_status(method, path, body, key=key, needs=needs, fast_json=fast_json)[
            0
        ]

    def send_with_status(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        key: str | None = None,
        needs: str | None = None,
        fast_json: bool = False,
    ) -> tuple[Any, int | None]:
        """Deliver a write now, or spool it for replay: (answer, status), or (None, None)
        when spooled.

        Raises:
            ApiError: the server refused it with a 4xx (misuse: the caller's bug, not an
                outage). A write the server keeps failing with the same 5xx is set aside in
                the spool's `.rejected` file with the reason instead (training goes on).
        """
        record = Record(method=method, path=path, body=body, key=key or new_key(), needs=needs)
        with self._order:
            if self.spool.pending():
                self._append(record)
                return None, None
        try:
            return self.call_with_status(
                method, path, json=body, key=record.key, fast_json=fast_json
            )
        except ServerError as exc:
            self.spool.reject(record, exc)
            log.error(
                "mlledger: the server keeps failing %s %s (%s); set aside in %s",
                method,
                path,
                exc,
                self.spool.path.with_suffix(".rejected"),
            )
            return None, None
        except Unavailable as exc:
            with self._order:
                self._append(record)
            log.warning("mlledger: server unreachable (%s); spooled to %s", exc, self.spool.path)
            return None, None

    def _append(self, record: Record) -> None:
        self.spool.append(record)
        self._start_replayer()
        self._wake.set()

    def _start_replayer(self) -> None:
        if self._replayer is None or not self._replayer.is_alive():
            self._replayer = threading.Thread(
                target=self._replay_loop, name="mlledger-replay", daemon=True
            )
            self._replayer.start()

    def _replay_loop(self) -> None:
        delay = 0.5
        while not self._closed:
            self._wake.wait(delay)
            self._wake.clear()
            if self._closed:
                return
            delay = 0.5 if self.replay_once() else min(30.0, delay * 2)

    def replay_once(self, *, on_rejected: Callable[[Record, ApiError], None] | None = None) -> bool:
        """Deliver spooled writes in order until the spool is empty (True) or the server is
        unreachable / not ready for the next one (False).

        One replay at a time: the background replayer and an explicit `drain` (run end, exit,
        `mlledger sync`) would otherwise both deliver the head record and both advance past it.
        """
        with self._replaying:
            return self._replay(on_rejected)

    def _replay(self, on_rejected: Callable[[Record, ApiError], None] | None) -> bool:
        while True:
            record = self.spool.peek()
            if record is None:
                return True
            try:
                self.call(record.method, record.path, json=record.body, key=record.key, retries=2)
            except Unavailable:
                return False
            except ApiError as exc:  # a 4xx, or the same 5xx three times: set aside, go on
                if exc.status == 404 and record.needs is not None:
                    # Its run is created by a write still spooled elsewhere (another process).
                    return False
                self.spool.reject(record, exc)
                if on_rejected is not None:
                    on_rejected(record, exc)
                log.error(
                    "mlledger: the server refused a spooled write %s %s: %s",
                    record.method,
                    record.path,
                    exc,
                )
            with self._order:
                self.spool.advance()

    def drain(self, timeout: float) -> bool:
        """Wait until the spool is empty (True) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while self.spool.pending():
            if time.monotonic() >= deadline:
                return False
            if self.replay_once():
                return True
            time.sleep(0.2)
        return True

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._replayer is not None and self._replayer is not threading.current_thread():
            self._replayer.join(timeout=5)
        self._http.close()


def _api_error(response: httpx.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return api_error(
            response.status_code, error["code"], error["message"], error.get("details")
        )
    except (ValueError, KeyError, TypeError):
        return api_error(response.status_code, "http_error", response.text[:500])
