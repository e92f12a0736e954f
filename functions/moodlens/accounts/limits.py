"""Rate limits for local accounts: a flood of sign-ins or sign-ups is refused before any password is hashed.

In-process counters: each worker counts its own requests, so N workers allow up to N times the limits; that still
bounds a flood to what the hardware shrugs off. Firebase Auth applies its own limits in firebase mode.
"""

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimited(Exception):
    def __init__(self, retry_after_s: float):
        super().__init__(f"retry after {retry_after_s:.0f} s")
        self.retry_after_s = max(1, math.ceil(retry_after_s))


class RateLimiter:
    """At most `limit` events per `window_s` seconds for each key (a sliding window)."""

    # Keys kept at most; the least recently used go first, so a flood of made-up keys cannot exhaust memory.
    MAX_KEYS = 50_000

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raises RateLimited when `key` has used up its events in the window."""
        with self._lock:
            self._refuse_if_full(self._recent(key))

    def record(self, key: str) -> None:
        with self._lock:
            self._add(self._recent(key))

    def hit(self, key: str) -> None:
        """check() and record() at once: one event that must fit in the window."""
        with self._lock:
            events = self._recent(key)
            self._refuse_if_full(events)
            self._add(events)

    def _refuse_if_full(self, events: deque[float]) -> None:
        if len(events) >= self.limit:
            raise RateLimited(events[0] + self.window_s - self.clock())

    def _add(self, events: deque[float]) -> None:
        events.append(self.clock())
        while len(self._events) > self.MAX_KEYS:
            self._events.popitem(last=False)

    def _recent(self, key: str) -> deque[float]:
        events = self._events.setdefault(key, deque())
        self._events.move_to_end(key)
        horizon = self.clock() - self.window_s
        while events and events[0] <= horizon:
            events.popleft()
        return events
