"""Per-sender inbound rate limits: past the limit a message is stored and flagged, never dropped.

The limit counts the sender's inbound messages on the same channel within a sliding window
(``practice.rate_limit_count`` per ``practice.rate_limit_minutes``), this one included. A
message past the limit is in the record and in the queue like any other; it carries the flag
``rate_limited``, gets no automatic reply and notifies nobody unless it is urgent, so a flood
neither reaches staff phones nor makes the service answer it.
"""

from __future__ import annotations

import math
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import String, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.intake import IntakeBatch, IntakeContext
from gateway.intake_cache import PREFETCH_CHUNK
from gateway.settings import Settings
from gateway.storage.db import among
from gateway.storage.models import Message

log = structlog.get_logger("gateway.ratelimit")

RATE_LIMITED = "rate_limited"


def set_flag(message: Message, name: str, value: object = True) -> None:
    """Set one flag on a message (a new dict, so the JSON column is written)."""
    message.flags = {**(message.flags or {}), name: value}


async def serialise_sender(ctx: IntakeContext) -> None:
    """On PostgreSQL, one sender's messages pass the policy hooks one at a time.

    Two messages from one number arriving together would otherwise both count below the
    limit and both get a receipt. The lock ends with the transaction; SQLite already
    serialises writers (BEGIN IMMEDIATE).
    """
    session = ctx.tx.session
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"sender:{ctx.message.channel}:{ctx.message.sender}"},
        )


async def serialise_senders(session: AsyncSession, senders: Iterable[tuple[str, str]]) -> None:
    """``serialise_sender`` for every sender of an intake batch, in one statement.

    Taken in one order (sorted keys) by every process, so two batches that share senders wait
    for each other instead of deadlocking.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({f"sender:{channel}:{address}" for channel, address in senders})
    if keys:
        await session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(hashtext(k))) "
                "FROM (SELECT unnest(:keys) AS k ORDER BY 1) AS sorted_keys"
            ).bindparams(bindparam("keys", type_=ARRAY(String))),
            {"keys": keys},
        )


class InboundRateLimit:
    """An intake hook that flags a sender's messages past the configured limit.

    In a batch the senders are locked and their recent messages counted once (``prepare``);
    each message then adds what the batch itself has stored from that sender.
    """

    FACTS = "rate_limit"

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.practice.rate_limit_count
        self.window = timedelta(minutes=settings.practice.rate_limit_minutes)

    async def prepare(self, batch: IntakeBatch) -> None:
        s = batch.tx.session
        await serialise_senders(s, batch.senders)
        # Counted from the batch's start: a message leaving the window during the batch (a few
        # milliseconds) may still count, never one that should count is left out.
        since = batch.now - self.window
        counts: dict[tuple[str, str], int] = {}
        addresses = sorted({address for _, address in batch.senders})
        for start in range(0, len(addresses), PREFETCH_CHUNK):
            rows = await s.execute(
                select(Message.channel, Message.sender, func.count(Message.id))
                .where(
                    among(s, Message.sender, addresses[start : start + PREFETCH_CHUNK]),
                    Message.direction == "in",
                    Message.created_at > since,
                )
                .group_by(Message.channel, Message.sender)
            )
            for channel, sender, n in rows:
                counts[(str(channel), str(sender))] = int(n)
        batch.facts[self.FACTS] = counts

    async def _count(self, ctx: IntakeContext) -> int:
        """The sender's inbound messages on this channel within the window, this one included."""
        message = ctx.message
        counts = ctx.batch.facts.get(self.FACTS) if ctx.batch is not None else None
        if ctx.batch is not None and counts is not None:
            this_batch = sum(
                1
                for m in ctx.batch.stored
                if m.direction == "in"
                and m.sender == message.sender
                and m.channel == message.channel
            )
            return counts.get((message.channel, message.sender), 0) + this_batch + 1
        await serialise_sender(ctx)
        since = ctx.now - self.window
        return int(
            (
                await ctx.tx.session.execute(
                    select(func.count(Message.id)).where(
                        Message.sender == message.sender,
                        Message.channel == message.channel,
                        Message.direction == "in",
                        Message.created_at > since,
                    )
                )
            ).scalar_one()
        )

    async def __call__(self, ctx: IntakeContext) -> None:
        message = ctx.message
        count = await self._count(ctx)
        if count <= self.limit:
            return
        set_flag(message, RATE_LIMITED)
        ctx.tx.audit(
            "system",
            "message.rate_limited",
            f"message:{message.id}",
            channel=message.channel,
            count=count,
            limit=self.limit,
            window_minutes=int(self.window.total_seconds() // 60),
        )
        log.info("message.rate_limited", message_id=message.id, channel=message.channel)


class FailureThrottle:
    """Counts failures per key (an address, a token's hash) and locks a key out for a while.

    ``limit`` failures within ``window`` seconds start a lockout of ``lockout`` seconds; while
    locked, callers answer 429 with Retry-After without checking anything. In memory, per
    process, bounded: the oldest keys are forgotten first when ``max_keys`` is reached.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        lockout: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until ``key`` may try again, or None when it is not locked out."""
        until = self._locked_until.get(key)
        if until is None:
            return None
        left = until - self.clock()
        if left <= 0:
            del self._locked_until[key]
            return None
        return max(1, math.ceil(left))

    def failed(self, key: str) -> bool:
        """Record one failure; True when it starts a lockout (the caller audits that)."""
        now = self.clock()
        times = self._failures.pop(key, None) or deque()
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            self._locked_until[key] = now + self.lockout
            self._forget_oldest(self._locked_until)
            return True
        self._failures[key] = times  # re-inserted: the dict keeps recent keys last
        self._forget_oldest(self._failures)
        return False

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _forget_oldest(self, table: dict[str, Any]) -> None:
        while len(table) > self.max_keys:
            del table[next(iter(table))]


def client_address(remote: str | None, forwarded_for: str | None, trusted_proxy: bool) -> str:
    """The address failures are counted against.

    Behind the operator's proxy (``web.trusted_proxy``) every request comes from the proxy,
    so one attacker would lock everybody out; there the last ``X-Forwarded-For`` entry (the
    one our proxy added) is the client. Earlier entries are whatever the client wrote.
    """
    if trusted_proxy and forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return remote or "unknown"


class Throttles:
    """The throttles of one running gateway (API sign-in failures, bad webhook signatures)."""

    def __init__(self, settings: Settings) -> None:
        sec = settings.security
        self.api = FailureThrottle(
            sec.auth_failure_limit, sec.auth_failure_window_seconds, sec.auth_lockout_seconds
        )
        self.webhooks = FailureThrottle(
            sec.webhook_failure_limit, sec.auth_failure_window_seconds, sec.auth_lockout_seconds
        )


# By id, with a weak reference to tell a reused id apart (the runtime is not hashable).
_THROTTLES: dict[int, tuple[weakref.ref[object], Throttles]] = {}


def throttles_for(owner: object, settings: Settings) -> Throttles:
    """The throttles belonging to ``owner`` (the runtime), made on first use."""
    found = _THROTTLES.get(id(owner))
    if found is not None and found[0]() is owner:
        return found[1]
    for key in [k for k, (ref, _) in _THROTTLES.items() if ref() is None]:
        del _THROTTLES[key]
    throttles = Throttles(settings)
    _THROTTLES[id(owner)] = (weakref.ref(owner), throttles)
    return throttles
