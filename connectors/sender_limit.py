"""The hard per-sender limit of the SMTP/LMTP servers: past it, the sending MTA is told to wait.

A sliding window of accepted deliveries per envelope sender, kept in memory in this process
(every process has its own; with N processes a sender may get up to N times the count). The
soft limit in ``gateway.ratelimit`` is different: it counts stored messages in the database and
flags those past its limit. Nothing is lost at the hard limit: 451 4.7.1 is temporary, so the
sending MTA keeps the message and tries again later.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

# The null reverse-path (bounces, delivery reports) shares one bucket under this key.
NULL_SENDER = "<>"


class SenderLimit:
    """At most ``count`` deliveries per sender within ``window`` seconds; ``count`` 0 is off."""

    def __init__(
        self,
        count: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_senders: int = 100_000,
    ) -> None:
        self.count = count
        self.window = window
        self.clock = clock
        self.max_senders = max_senders
        self._seen: dict[str, deque[float]] = {}

    @staticmethod
    def key(sender: str | None) -> str:
        return (sender or "").strip().lower() or NULL_SENDER

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._seen[key]
        return times

    def allows(self, sender: str | None) -> bool:
        """Whether one more delivery from ``sender`` is within the limit (nothing recorded)."""
        if self.count <= 0:
            return True
        return len(self._recent(self.key(sender), self.clock())) < self.count

    def take(self, sender: str | None) -> bool:
        """Count one delivery if it is within the limit; False (nothing counted) otherwise.

        Check and count happen without an await in between, so concurrent sessions on the
        event loop cannot both take the last place.
        """
        if self.count <= 0:
            return True
        now = self.clock()
        key = self.key(sender)
        times = self._recent(key, now)
        if len(times) >= self.count:
            return False
        if key not in self._seen:
            if len(self._seen) >= self.max_senders:
                self._forget_idle(now)
            self._seen[key] = times
        times.append(now)
        return True

    def give_back(self, sender: str | None) -> None:
        """Undo the latest :meth:`take` (the delivery was not stored after all)."""
        times = self._seen.get(self.key(sender))
        if times:
            times.pop()

    def _forget_idle(self, now: float) -> None:
        for key in list(self._seen):
            self._recent(key, now)
        if len(self._seen) >= self.max_senders:
            # Still full of active senders: drop the oldest to bound memory.
            oldest = min(self._seen, key=lambda k: self._seen[k][-1])
            del self._seen[oldest]
