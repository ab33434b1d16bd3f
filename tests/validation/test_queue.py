"""The validation queue on the real databases: workers never share a job, a dead worker's job
goes to another, and a job that keeps losing its worker fails with the reason."""

from __future__ import annotations

import threading

import pytest

from mlledger.service.domain import artifacts, data_gates
from mlledger.service.domain.principal import Principal
from mlledger.store.errors import FailedPrecondition, PermissionDenied
from mlledger.store.metadata.artifacts import NewArtifact


@pytest.fixture
def worker(principal: Principal) -> Principal:
    """A worker token's principal in the test's project (only it may lease and report)."""
    return Principal(principal.project_id, principal.project_name, "worker", "token:0:worker")


def datasets(db, who, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        artifacts.create(
            db, who, NewArtifact(kind="dataset", name=f"d{i}", uri=f"file:///tmp/d{i}.parquet")
        )[0].id
        for i in range(n)
    ]


def test_concurrent_workers_never_take_the_same_job(db, principal, worker) -> None:  # type: ignore[no-untyped-def]
    ids = datasets(db, principal, 24)
    for i in ids:
        data_gates.request(db, principal, i, {}, rerun=False)
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while (got := data_gates.lease(db, worker, name, 60, ["direct"])) is not None:
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


def test_a_dead_workers_job_is_retried_then_failed(db, principal, worker) -> None:  # type: ignore[no-untyped-def]
    (dataset,) = datasets(db, principal, 1)
    job, _, new = data_gates.request(db, principal, dataset, {}, rerun=False)
    assert new
    again, _, new_again = data_gates.request(db, principal, dataset, {}, rerun=False)
    assert again.id == job.id and not new_again  # one job per version while it is open

    first = data_gates.lease(db, worker, "dies", 60, ["direct"])
    assert first is not None and first.job.attempts == 1
    assert data_gates.lease(db, worker, "other", 60, ["direct"]) is None  # still leased
    # A lease renewed for 0 s is over by the next call (the clock has moved on): no sleeping.
    data_gates.heartbeat(db, worker, job.id, "dies", first.secret, 0)  # then "dies" dies
    second = data_gates.lease(db, worker, "survivor", 0, ["direct"])
    assert second is not None and second.job.id == job.id and second.job.attempts == 2
    with pytest.raises(FailedPrecondition, match="not leased to 'dies'"):
        data_gates.heartbeat(db, worker, job.id, "dies", first.secret, 60)
    with pytest.raises(FailedPrecondition):
        data_gates.report(
            db, worker, job.id, data_gates.Report(worker="dies", lease=first.secret, error="late")
        )

    assert data_gates.lease(db, worker, "third", 0, ["direct"]) is not None  # attempt 3
    assert data_gates.lease(db, worker, "fourth", 60, ["direct"]) is None  # out of attempts
    _, gate, failed = data_gates.gate(db, principal, dataset)
    assert failed is not None and failed.state == "failed" and "3 attempts" in (failed.error or "")
    assert gate is not None and gate.status == "error"
    assert "3 attempts" in gate.reasons[0]["message"]
    rerun, _, new = data_gates.request(db, principal, dataset, {}, rerun=False)
    assert new and rerun.id != job.id  # a failed job does not block a new request


def test_only_a_worker_holding_the_lease_secret_may_report(db, principal, worker) -> None:  # type: ignore[no-untyped-def]
    """A write token cannot lease or report; a worker that knows the job's id and the
    leaseholder's name (both readable with `read`) still cannot report without the secret."""
    (dataset,) = datasets(db, principal, 1)
    job, _, _ = data_gates.request(db, principal, dataset, {}, rerun=False)
    for scope in ("read", "write", "admin"):
        other = Principal(principal.project_id, principal.project_name, scope, "token:9:x")
        with pytest.raises(PermissionDenied, match="needs 'worker'"):
            data_gates.lease(db, other, "forger", 60, ["direct"])
        with pytest.raises(PermissionDenied):
            data_gates.report(
                db, other, job.id, data_gates.Report(worker="w", lease="x" * 43, error="forged")
            )
    with pytest.raises(PermissionDenied):  # a worker token reads nothing else
        data_gates.get_job(db, worker, job.id)
    got = data_gates.lease(db, worker, "w", 60, ["direct"])
    assert got is not None and len(got.secret) >= 40
    leased = data_gates.get_job(db, principal, job.id)
    assert leased.worker == "w"  # known to any reader, and still not enough:
    with pytest.raises(FailedPrecondition, match="lease secret"):
        data_gates.report(
            db, worker, job.id, data_gates.Report(worker="w", lease="y" * 43, error="forged")
        )
    with pytest.raises(FailedPrecondition):
        data_gates.heartbeat(db, worker, job.id, "w", "y" * 43, 60)
    data_gates.heartbeat(db, worker, job.id, "w", got.secret, 60)
    _, gate, done = data_gates.report(
        db, worker, job.id, data_gates.Report(worker="w", lease=got.secret, error="unreadable")
    )
    assert done.state == "failed" and gate.status == "error"
    with pytest.raises(FailedPrecondition):  # a finished lease's secret is spent
        data_gates.report(
            db, worker, job.id, data_gates.Report(worker="w", lease=got.secret, error="again")
        )


def test_jobs_go_only_to_workers_with_their_profile(db, principal, worker) -> None:  # type: ignore[no-untyped-def]
    a, b = datasets(db, principal, 2)
    data_gates.request(db, principal, a, {}, profile="flink", rerun=False)
    data_gates.request(db, principal, b, {}, rerun=False)
    got = data_gates.lease(db, worker, "plain", 60, ["direct"])
    assert got is not None and got.job.dataset_id == b and got.job.profile == "direct"
    assert data_gates.lease(db, worker, "plain", 60, ["direct"]) is None
    flink = data_gates.lease(db, worker, "big", 60, ["direct", "flink"])
    assert flink is not None and flink.job.dataset_id == a and flink.job.profile == "flink"


def test_concurrent_requests_for_one_version_queue_one_job(db, principal) -> None:  # type: ignore[no-untyped-def]
    (dataset,) = datasets(db, principal, 1)
    ids: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def ask() -> None:
        try:
            barrier.wait()
            job, _, _ = data_gates.request(db, principal, dataset, {}, rerun=False)
            ids.append(job.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(ids)) == 1
