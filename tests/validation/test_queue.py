"""The validation queue on the real databases: workers never share a job, a dead worker's job
goes to another, and a job that keeps losing its worker fails with the reason."""

from __future__ import annotations

import threading
import time

import pytest

from mlledger.service.domain import artifacts, validation
from mlledger.store.errors import FailedPrecondition
from mlledger.store.metadata.artifacts import NewArtifact


def datasets(db, who, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        artifacts.create(
            db, who, NewArtifact(kind="dataset", name=f"d{i}", uri=f"file:///tmp/d{i}.parquet")
        )[0].id
        for i in range(n)
    ]


def test_concurrent_workers_never_take_the_same_job(db, principal) -> None:  # type: ignore[no-untyped-def]
    ids = datasets(db, principal, 24)
    for i in ids:
        validation.request(db, principal, i, {}, rerun=False)
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while (got := validation.lease(db, principal, name, 60)) is not None:
                with lock:
                    taken.append(got.job.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(taken) == len(set(taken)) == len(ids)


def test_a_dead_workers_job_is_retried_then_failed(db, principal) -> None:  # type: ignore[no-untyped-def]
    (dataset,) = datasets(db, principal, 1)
    job, _, new = validation.request(db, principal, dataset, {}, rerun=False)
    assert new
    again, _, new_again = validation.request(db, principal, dataset, {}, rerun=False)
    assert again.id == job.id and not new_again  # one job per version while it is open

    first = validation.lease(db, principal, "dies", 0.05)
    assert first is not None and first.job.attempts == 1
    assert validation.lease(db, principal, "other", 60) is None  # still leased
    time.sleep(0.1)  # "dies" stops renewing
    second = validation.lease(db, principal, "survivor", 0.05)
    assert second is not None and second.job.id == job.id and second.job.attempts == 2
    with pytest.raises(FailedPrecondition, match="not leased to 'dies'"):
        validation.heartbeat(db, principal, job.id, "dies", 60)
    with pytest.raises(FailedPrecondition):
        validation.report(db, principal, job.id, validation.Report(worker="dies", error="late"))

    time.sleep(0.1)
    assert validation.lease(db, principal, "third", 0.05) is not None  # attempt 3
    time.sleep(0.1)
    assert validation.lease(db, principal, "fourth", 60) is None  # out of attempts
    _, gate, failed = validation.gate(db, principal, dataset)
    assert failed is not None and failed.state == "failed" and "3 attempts" in (failed.error or "")
    assert gate is not None and gate.status == "error"
    assert "3 attempts" in gate.reasons[0]["message"]
    rerun, _, new = validation.request(db, principal, dataset, {}, rerun=False)
    assert new and rerun.id != job.id  # a failed job does not block a new request
