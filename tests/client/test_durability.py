"""Nothing lost, nothing twice: concurrent writers, lost acknowledgements, a server that goes
away, a training process that is killed, and `mlledger sync`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import httpx
import pytest

import mlledger


def totals(api: httpx.Client, run: str, keys: list[str]) -> dict[str, tuple[int, list[int]]]:
    out = {}
    for key in keys:
        h = api.get(f"/runs/{run}/metrics/{key}", params={"max_points": 1_000_000}).json()
        out[key] = (h["total"], h["steps"])
    return out


WORKER = textwrap.dedent(
    """
    import sys, threading, mlledger
    url, project, run_id, rank, spool = sys.argv[1:6]
    client = mlledger.Client(url, project=project, spool_dir=spool)
    with client.start_run("ddp", run_id=run_id, capture_environment=False) as run:
        def log(t):
            for step in range(12_500):
                run.log_metric(f"rank{rank}.thread{t}", float(step), step=step)
        threads = [threading.Thread(target=log, args=(t,)) for t in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
    client.close()
    """
)


def test_100k_points_from_4_threads_in_2_processes_arrive_exactly_once(
    server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    run_id = f"job-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                server.url,
                project,
                run_id,
                str(rank),
                str(tmp_path / f"s{rank}"),
            ]
        )
        for rank in range(2)
    ]
    assert [p.wait(timeout=240) for p in procs] == [0, 0]
    keys = [f"rank{r}.thread{t}" for r in range(2) for t in range(4)]
    got = totals(api, run_id, keys)
    for key in keys:
        total, steps = got[key]
        assert total == 12_500 and steps == list(range(12_500)), key
    assert api.get(f"/runs/{run_id}").json()["state"] == "complete"


class LoseFirstAcks(httpx.HTTPTransport):
    """Delivers the request to the real server, then drops the answer: the write happened but
    the client cannot know, so it retries — with the same idempotency key."""

    def __init__(self, lose: int) -> None:
        super().__init__()
        self.lose = lose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/metrics") and self.lose > 0:
            self.lose -= 1
            response.read()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


def test_a_retried_batch_is_stored_once(
    server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    transport = LoseFirstAcks(lose=2)
    client = mlledger.Client(server.url, project=project, spool_dir=tmp_path, transport=transport)
    with client.start_run("retry", capture_environment=False) as run:
        for step in range(2_500):
            run.log_metric("loss", 1.0, step=step)
    client.close()
    assert transport.lose == 0
    assert totals(api, run.uuid, ["loss"])["loss"][0] == 2_500


def test_server_down_mid_run_then_back(own_server, project: str, tmp_path: Path) -> None:
    client = mlledger.Client(
        own_server.url, project=project, spool_dir=tmp_path / "spool", retries=1, timeout=2
    )
    run = client.start_run("outage", params={"lr": 0.1}, capture_environment=False)
    for step in range(1000):
        run.log_metric("loss", float(step), step=step)
    assert run.flush(timeout=30)
    own_server.stop()
    for step in range(1000, 3000):
        run.log_metric("loss", float(step), step=step)
    run.set_tags({"phase": "offline"})
    assert run.flush(timeout=60)  # spooled, not lost
    assert client.pending() > 0
    run.end()
    own_server.start()
    assert client.transport.drain(timeout=60)
    client.close()
    with httpx.Client(
        base_url=f"{own_server.url}/api/v1", headers={"X-Mlledger-Project": project}
    ) as api:
        total, steps = totals(api, run.uuid, ["loss"])["loss"]
        assert total == 3000 and steps == list(range(3000))
        body = api.get(f"/runs/{run.uuid}").json()
        assert body["state"] == "complete" and body["tags"] == {"phase": "offline"}


def test_a_run_started_while_the_server_is_down_is_replayed_by_mlledger_sync(
    own_server, project: str, tmp_path: Path
) -> None:
    own_server.stop()
    spool = tmp_path / "spool"
    client = mlledger.Client(
        own_server.url, project=project, spool_dir=spool, retries=0, timeout=1, exit_timeout=0
    )
    with client.start_run("offline", capture_environment=False) as run:
        for step in range(500):
            run.log_metric("loss", float(step), step=step)
    client.close()
    assert list(spool.glob("*.jsonl"))
    own_server.start()
    done = subprocess.run(
        [sys.executable, "-m", "mlledger.client", "sync", "--spool-dir", str(spool)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pending 0, rejected 0" in done.stdout
    assert not list(spool.glob("*.jsonl"))
    with httpx.Client(
        base_url=f"{own_server.url}/api/v1", headers={"X-Mlledger-Project": project}
    ) as api:
        assert totals(api, run.uuid, ["loss"])["loss"][0] == 500
        assert api.get(f"/runs/{run.uuid}").json()["state"] == "complete"


KILLED = textwrap.dedent(
    """
    import sys, time, mlledger
    url, project, spool = sys.argv[1:4]
    client = mlledger.Client(url, project=project, spool_dir=spool)
    run = client.start_run("killed", capture_environment=False)
    for step in range(20_000):
        run.log_metric("loss", float(step), step=step)
    assert run.flush()
    print(run.uuid, flush=True)
    for step in range(20_000, 10**9):
        run.log_metric("loss", float(step), step=step)
        if step % 1000 == 0:
            time.sleep(0.001)
    """
)


def test_sigkill_after_an_acknowledged_flush_keeps_what_was_acknowledged(
    server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    proc = subprocess.Popen(
        [sys.executable, str(script), server.url, project, str(tmp_path / "spool")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    run_uuid = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    h = api.get(f"/runs/{run_uuid}/metrics/loss", params={"max_points": 1_000_000}).json()
    assert h["steps"][:20_000] == list(range(20_000))
    assert len(set(h["steps"])) == len(h["steps"])  # whatever else arrived, arrived once


def test_the_spool_survives_a_killed_writer(tmp_path: Path) -> None:
    """A torn last line (killed mid-write) was never acknowledged: replay stops before it."""
    from mlledger.client.spool import Record, Spool

    spool = Spool(tmp_path, server="http://x", project="p", name="a.jsonl")
    spool.append(Record("POST", "/runs", {"uuid": "u"}, "k1"))
    with spool.path.open("a") as f:
        f.write('{"method": "POST", "pa')
    reopened = Spool.open(spool.path)
    assert reopened.size() == 1 and reopened.peek() == Record("POST", "/runs", {"uuid": "u"}, "k1")


@pytest.mark.parametrize("threads", [8])
def test_many_threads_logging_and_flushing(
    server, project: str, api: httpx.Client, tmp_path: Path, threads: int
) -> None:
    client = mlledger.Client(server.url, project=project, spool_dir=tmp_path)
    with client.start_run("threads", capture_environment=False) as run:

        def work(t: int) -> None:
            for step in range(3000):
                run.log_metric(f"t{t}", float(step), step=step)
                if step % 1000 == 999:
                    assert run.flush(timeout=60)

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for p in pool:
            p.start()
        for p in pool:
            p.join()
    client.close()
    got = totals(api, run.uuid, [f"t{t}" for t in range(threads)])
    assert all(total == 3000 and steps == list(range(3000)) for total, steps in got.values())


def test_replay_waits_for_a_run_still_to_be_created_and_sets_aside_other_404s(
    server, project: str, api: httpx.Client, tmp_path: Path
) -> None:
    """A spooled write that belongs to a run (`Record.needs`) and meets a 404 waits: the run's
    creation is still spooled by another process. A 404 on anything else is a refusal: set
    aside (not retried forever), and replay goes on."""
    import uuid

    from mlledger.client.spool import Record

    client = mlledger.Client(server.url, project=project, spool_dir=tmp_path, retries=0)
    run_uuid = str(uuid.uuid4())
    points = {"keys": ["loss"], "values": [0.5], "steps": [0], "timestamps": [1]}
    spool = client.transport.spool
    spool.append(
        Record("POST", f"/api/v1/runs/{run_uuid}/metrics", points, "key-0001", needs=run_uuid)
    )
    assert client.transport.replay_once() is False  # the run does not exist yet: wait
    assert spool.size() == 1 and not spool.path.with_suffix(".rejected").exists()

    api.post("/runs", json={"experiment": "late", "uuid": run_uuid}).raise_for_status()
    assert client.transport.replay_once() is True
    assert api.get(f"/runs/{run_uuid}/metrics/loss").json()["steps"] == [0]

    # A model version the run wrote (not a /runs/ path) waits for its run just the same.
    later = str(uuid.uuid4())
    version = {"run": later, "artifact": {"kind": "model", "name": "late-model"}}
    spool.append(Record("POST", "/api/v1/models/late/versions", version, "key-0003", needs=later))
    assert client.transport.replay_once() is False and spool.size() == 1
    api.post("/runs", json={"experiment": "late", "uuid": later}).raise_for_status()
    assert client.transport.replay_once() is True
    assert api.get("/models/late/versions/1").json()["run_id"] is not None

    spool.append(Record("GET", "/api/v1/models/no-such-model", None, "key-0002"))
    assert client.transport.replay_once() is True  # a plain 404: set aside, not waited on
    assert "no-such-model" in spool.path.with_suffix(".rejected").read_text()
    client.close()
