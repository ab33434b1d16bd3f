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
