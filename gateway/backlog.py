"""Backlog gauges computed from the database on scrape, at most once per cache period.

A scrape never costs more than a handful of indexed aggregate queries, and scrapes closer
together than ``metrics.cache_seconds`` are answered from the last reading, so several
Prometheus servers (or an impatient operator) cannot load the database.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import structlog
from sqlalchemy import and_, func, or_, select

from gateway.metrics import (
    MEDIA_PENDING,
    NOTIFICATIONS_PENDING,
    OUTBOX_DEAD,
    OUTBOX_DUE,
    QUEUE_OLDEST_SECONDS,
    RECEIPTS_OLDEST_SECONDS,
    RECEIPTS_WAITING,
)
from gateway.storage.db import Database, StoreUnavailable, as_utc, utcnow
from gateway.storage.models import InboundReceipt, OutboxJob, QueueItem, StaffNotification

log = structlog.get_logger("gateway.backlog")


class BacklogGauges:
    """Refreshes the backlog gauges from one database, cached for ``cache_seconds``."""

    def __init__(self, db: Database, cache_seconds: float) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._read_at: float | None = None
        self._lock = asyncio.Lock()
        self.reads = 0  # how many times the database was actually asked

    async def refresh(self) -> None:
        async with self._lock:
            fresh = self._read_at is not None and (
                time.monotonic() - self._read_at < self.cache_seconds
            )
            if fresh:
                return
            try:
                await self._read()
            except (StoreUnavailable, OSError) as exc:
                # Metrics still answer (with the last values); /readyz reports the database.
                log.warning("metrics.backlog_unavailable", error=str(exc))
                return
            self._read_at = time.monotonic()

    async def _read(self) -> None:
        now = utcnow()
        async with self.db.read() as s:
            due = (
                await s.execute(
                    select(OutboxJob.kind, func.count())
                    .where(
                        or_(
                            and_(OutboxJob.state == "pending", OutboxJob.next_attempt_at <= now),
                            and_(OutboxJob.state == "sending", OutboxJob.lease_until <= now),
                        )
                    )
                    .group_by(OutboxJob.kind)
                )
            ).all()
            dead = (
                await s.execute(
                    select(OutboxJob.kind, func.count())
                    .where(OutboxJob.state == "dead")
                    .group_by(OutboxJob.kind)
                )
            ).all()
            media = (
                await s.execute(
                    select(func.count()).where(
                        OutboxJob.kind == "fetch_media", OutboxJob.state.in_(("pending", "sending"))
                    )
                )
            ).scalar_one()
            team = func.coalesce(QueueItem.owner_team, QueueItem.owner_kind)
            oldest = (
                await s.execute(
                    select(QueueItem.owner_kind, team, func.min(QueueItem.created_at))
                    .where(QueueItem.state == "new")
                    .group_by(QueueItem.owner_kind, team)
                )
            ).all()
            notifications = (
                await s.execute(
                    select(func.count()).where(StaffNotification.state.in_(("pending", "sending")))
                )
            ).scalar_one()
            receipts = (
                await s.execute(
                    select(
                        InboundReceipt.channel, func.count(), func.min(InboundReceipt.received_at)
                    ).group_by(InboundReceipt.channel)
                )
            ).all()
        self.reads += 1
        OUTBOX_DUE.clear()
        OUTBOX_DEAD.clear()
        for kind in ("send", "fetch_media"):  # always present, so a zero is visible
            OUTBOX_DUE.labels(kind).set(0)
            OUTBOX_DEAD.labels(kind).set(0)
        for kind, count in due:
            OUTBOX_DUE.labels(kind).set(count)
        for kind, count in dead:
            OUTBOX_DEAD.labels(kind).set(count)
        MEDIA_PENDING.set(media)
        NOTIFICATIONS_PENDING.set(notifications)
        RECEIPTS_WAITING.clear()
        for channel in ("email", "sms"):  # always present, so a zero is visible
            RECEIPTS_WAITING.labels(channel).set(0)
        for channel, count, _ in receipts:
            RECEIPTS_WAITING.labels(channel).set(count)
        RECEIPTS_OLDEST_SECONDS.set(max((_age(now, r[2]) for r in receipts), default=0.0))
        QUEUE_OLDEST_SECONDS.clear()
        ages: dict[str, float] = {}
        for kind, name, created in oldest:
            label = kind if kind in ("duty", "triage") else str(name)
            ages[label] = max(ages.get(label, 0.0), _age(now, created))
        for label, age in ages.items():
            QUEUE_OLDEST_SECONDS.labels(label).set(age)


def _age(now: datetime, created: datetime | None) -> float:
    when = as_utc(created)
    return max(0.0, (now - when).total_seconds()) if when is not None else 0.0
