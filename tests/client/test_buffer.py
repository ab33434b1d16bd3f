"""The metric buffer under a training loop faster than the server: while one request is in
flight the points pile up, and the next request takes all of them (up to 50,000) instead of
sending batch after batch of `batch_size` — in order, each point once."""

from __future__ import annotations

import threading
import time

from mlledger.client.buffer import MAX_REQUEST_POINTS, MetricBuffer


def test_points_waiting_behind_a_slow_request_ship_together_in_order() -> None:
    shipped: list[tuple[list[int], float]] = []
    in_flight = threading.Lock()

    def slow_server(keys: list[str], values: list[float], steps: list[int], stamps: list[int]):  # type: ignore[no-untyped-def]
        assert in_flight.acquire(blocking=False), "two requests in flight at once"
        try:
            assert len(keys) == len(values) == len(steps) == len(stamps)
            time.sleep(0.05)
            shipped.append((steps, time.monotonic()))
        finally:
            in_flight.release()

    buffer = MetricBuffer(slow_server, batch_size=1_000, interval=0.5, max_points=1_000_000)
    total = 3 * MAX_REQUEST_POINTS + 7
    for step in range(total):
        buffer.add(("loss", 0.5, step, 1))
    assert buffer.flush(timeout=60)
    buffer.close()

    sizes = [len(steps) for steps, _ in shipped]
    assert [s for steps, _ in shipped for s in steps] == list(range(total))  # order, once each
    assert max(sizes) == MAX_REQUEST_POINTS  # the pile-up went in the largest requests allowed
    assert len(shipped) < total / 1_000 / 4  # not one request per batch_size


def test_a_slow_loop_still_ships_every_interval() -> None:
    shipped: list[int] = []
    buffer = MetricBuffer(
        lambda k, v, s, t: shipped.append(len(k)),
        batch_size=1_000,
        interval=0.05,
        max_points=10_000,
    )
    buffer.add(("loss", 0.5, 0, 1))
    deadline = time.monotonic() + 30
    while not shipped and time.monotonic() < deadline:
        time.sleep(0.01)
    buffer.close()
    assert shipped == [1]


def test_a_batch_of_long_keys_goes_in_requests_under_the_body_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """250-character non-ASCII keys: 50,000 points would be ~40 MB of JSON; the run splits the
    batch (in order) so that no request passes the server's 16 MiB limit."""
    import httpx
    import orjson

    import mlledger

    bodies: list[bytes] = []

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/metrics"):
            bodies.append(request.content)
            n = len(orjson.loads(request.content)["keys"])
            return httpx.Response(200, json={"accepted": n, "duplicate": False})
        return httpx.Response(201, json={"id": 1, "uuid": "u", "state": "running"})

    client = mlledger.Client(
        "http://mlledger.test",
        project="p",
        spool_dir=tmp_path,
        transport=httpx.MockTransport(server),
    )
    run = client.start_run("e", capture_environment=False)
    key = "é" * 250
    run._ship([key] * 50_000, [0.5] * 50_000, list(range(50_000)), [1] * 50_000)
    assert all(len(b) < 16 * 1024 * 1024 for b in bodies) and len(bodies) > 1
    steps = [s for b in bodies for s in orjson.loads(b)["steps"]]
    assert steps == list(range(50_000))
    client.close()
