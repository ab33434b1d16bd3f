"""`mlledger worker`: takes validation jobs from the service and runs TFDV on them.

Runs in the validator environment and talks to the service only through the light client
(REST): lease a job, renew the lease while working (a worker that dies stops renewing, and the
job goes to another worker), report the protos or the data error. Several workers may run
side by side; the service hands each job to one of them.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
from typing import Any

from mlledger.client.errors import ApiError, Unavailable
from mlledger.client.spool import Spool
from mlledger.client.transport import Transport

from .reading import DIRECT, DataError, DataRoots, Profile

log = logging.getLogger("mlledger.worker")


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def _bytes(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text else None


class Worker:
    def __init__(
        self,
        transport: Transport,
        *,
        name: str | None = None,
        lease_seconds: float = 60.0,
        poll_seconds: float = 0.25,
        roots: DataRoots | None = None,
        profiles: dict[str, Profile] | None = None,
    ) -> None:
        self.t = transport
        self.roots = roots or DataRoots.of([])
        self.profiles = profiles or {DIRECT: Profile(DIRECT)}
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()

    def run(self, *, once: bool = False) -> int:
        """Work until stopped (or, with `once`, until the queue is empty); jobs done."""
        done = 0
        while not self.stop.is_set():
            try:
                job = self.t.call(
                    "POST",
                    "/api/v1/validation/jobs/lease",
                    json={
                        "worker": self.name,
                        "lease_seconds": self.lease_seconds,
                        "profiles": sorted(self.profiles),
                    },
                )
            except Unavailable as exc:
                log.warning("service unreachable, retrying: %s", exc)
                self.stop.wait(self.poll_seconds * 5)
                continue
            if job is None:
                if once:
                    return done
                self.stop.wait(self.poll_seconds)
                continue
            self.work(job)
            done += 1
        return done

    def work(self, job: dict[str, Any]) -> None:
        job_id, secret = job["id"], job["secret"]
        log.info("job %s: dataset %s", job_id, job["dataset"]["uri"])
        renewing = threading.Event()
        heart = threading.Thread(target=self._renew, args=(job_id, secret, renewing), daemon=True)
        heart.start()
        try:
            report = self._validate(job)
        except DataError as exc:
            log.warning("job %s: %s", job_id, exc)
            report = {"error": _describe(exc)}
        except Exception as exc:  # the data (or TFDV) failed: the gate says so, not a crash
            log.exception("job %s failed", job_id)
            report = {"error": _describe(exc)}
        finally:
            renewing.set()
            heart.join()
        try:
            self.t.call(
                "POST",
                f"/api/v1/validation/jobs/{job_id}/result",
                json={"worker": self.name, "lease": secret, **report},
            )
        except ApiError as exc:  # e.g. the lease ran out and the job went to another worker
            log.warning("job %s: result refused: %s", job_id, exc)

    def _renew(self, job_id: int, secret: str, finished: threading.Event) -> None:
        while not finished.wait(self.lease_seconds / 3):
            try:
                self.t.call(
                    "POST",
                    f"/api/v1/validation/jobs/{job_id}/heartbeat",
                    json={
                        "worker": self.name,
                        "lease": secret,
                        "lease_seconds": self.lease_seconds,
                    },
                )
            except (ApiError, Unavailable) as exc:
                log.warning("job %s: lease not renewed: %s", job_id, exc)

    def _validate(self, job: dict[str, Any]) -> dict[str, Any]:
        from . import checks  # TFDV: only in the validator environment

        options = job.get("options") or {}
        name = job.get("profile") or DIRECT
        profile = self.profiles.get(name)
        if profile is None:  # the lease only hands out our profiles; a server of another mind
            raise DataError(f"this worker has no runner profile {name!r}")
        dataset = job["dataset"]
        # Checked before anything is read: the URI is a request's, the roots are ours.
        path = self.roots.resolve(dataset["uri"])
        fmt = checks.data_format(dataset["uri"], dataset["properties"].get("format"))
        beam = options.get("beam")
        stats = checks.statistics(path, fmt, beam=beam, profile=profile)
        serving = None
        if job.get("serving"):
            s = job["serving"]
            serving = checks.statistics(
                self.roots.resolve(s["uri"]),
                checks.data_format(s["uri"], s["properties"].get("format")),
                beam=beam,
                profile=profile,
            )
        outcome = checks.validate(
            stats,
            schema=_bytes(job.get("schema")),
            environment=options.get("environment"),
            previous=_bytes(job.get("previous_statistics")),
            serving=serving,
            thresholds={"drift": options.get("drift"), "skew": options.get("skew")},
        )
        return {
            "statistics": _b64(outcome.statistics),
            "anomalies": _b64(outcome.anomalies),
            "inferred_schema": _b64(outcome.inferred_schema),
        }


def _describe(exc: Exception) -> str:
    """The data's problem as the gate shows it; for anything else, the exception's kind too."""
    text = (str(exc).strip().splitlines() or [""])[0]
    if type(exc).__name__ == "DataError":
        return text[:2000]
    return f"{type(exc).__name__}: {text}"[:2000]


def main(
    url: str | None,
    token: str | None,
    project: str | None,
    *,
    once: bool,
    poll: float = 0.25,
    roots: DataRoots | None = None,
    profiles: dict[str, Profile] | None = None,
) -> int:
    """The worker process (the CLI's `mlledger worker`)."""
    from mlledger.client.client import ClientSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    s = ClientSettings.from_env(url=url, token=token, project=project)
    # The worker only makes calls whose answer it needs (never spooled writes): the spool is
    # the client's usual one and stays untouched.
    transport = Transport(
        s.url,
        token=s.token,
        project=s.project,
        timeout=60,
        retries=3,
        spool=Spool(s.spool_dir, server=s.url, project=s.project),
    )
    worker = Worker(transport, poll_seconds=poll, roots=roots, profiles=profiles)
    log.info(
        "worker %s serving %s (project %s); reads under %s; profiles %s",
        worker.name,
        s.url,
        s.project or "default",
        worker.roots.describe(),
        ", ".join(sorted(worker.profiles)),
    )
    try:
        return worker.run(once=once)
    except KeyboardInterrupt:
        return 0
    finally:
        transport.close()
