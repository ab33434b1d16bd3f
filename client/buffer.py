"""The metric buffer: `log_metric` appends to a deque and returns; a thread ships batches.

`deque.append` and `popleft` are atomic, so training threads never take a lock to log. Memory
is bounded: past `max_points` buffered, `log_metric` waits for the sender (back-pressure rather
than dropping points).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

Point = tuple[str, float, int, int]  # key, value, step, timestamp (ms)
# Points one request carries at most. The sender ships when `batch_size` are waiting, but while a
# request is in flight more pile up: the next request takes them all, up to this, so a fast
# training loop pays the per-request costs (HTTP, transaction, run lookup) five times less.
# The server takes up to 100,000.
MAX_REQUEST_POINTS = 50_000
Shipper = Callable[[list[str], list[float], list[int], list[int]], None]


class MetricBuffer:
    def __init__(self, ship: Shipper, *, batch_size: int, interval: float, max_points: int) -> None:
        self._points: deque[Point] = deque()
        self._ship = ship
        self.batch_size = batch_size
        self.interval = interval
        self.max_points = max_points
        self._wake = threading.Event()
        self._drained = threading.Condition()
        self._taken = 0  # points the sender has taken out of the deque
        self._shipped = 0  # ... and of those, acknowledged by the server or spooled
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="mlledger-metrics", daemon=True)
        self._thread.start()

    def add(self, point: Point) -> None:
        points = self._points
        points.append(point)
        n = len(points)
        if n >= self.batch_size:
            # is_set() is a plain read; set() takes a lock, which per point (while a batch is in
            # flight and the queue stays full) cost more than the rest of log_metric.
            if not self._wake.is_set():
                self._wake.set()
            if n >= self.max_points:
                self._wait_below(self.max_points // 2)

    def _wait_below(self, limit: int) -> None:
        with self._drained:
            while len(self._points) > limit and self._thread.is_alive():
                self._drained.wait(0.1)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every point added before this call is acknowledged by the server or
        safely spooled (True), or `timeout` passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._drained:
            # Taken + still queued = everything added so far (the sender takes under this lock).
            goal = self._taken + len(self._points)
            self._wake.set()
            while self._shipped < goal and self._thread.is_alive():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._drained.wait(0.05 if remaining is None else min(0.05, remaining))
                self._wake.set()
        return True

    def close(self, timeout: float | None = None) -> bool:
        done = self.flush(timeout)
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=1.0)
        return done

    def _run(self) -> None:
        points = self._points
        while True:
            if len(points) < self.batch_size:
                self._wake.wait(self.interval)
            self._wake.clear()
            while points:
                n = min(len(points), max(self.batch_size, MAX_REQUEST_POINTS))
                keys: list[str] = []
                values: list[float] = []
                steps: list[int] = []
                stamps: list[int] = []
                pop = points.popleft
                with self._drained:
                    for _ in range(n):
                        k, v, s, t = pop()
                        keys.append(k)
                        values.append(v)
                        steps.append(s)
                        stamps.append(t)
                    self._taken += n
                try:
                    self._ship(keys, values, steps, stamps)
                finally:
                    with self._drained:
                        self._shipped += n
                        self._drained.notify_all()
            if self._closed:
                return
