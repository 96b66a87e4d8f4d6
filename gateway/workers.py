"""The loop every background worker runs (outbox relay, MMS media, staff notifications)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from gateway.storage.db import StoreUnavailable

log = structlog.get_logger("gateway.workers")


async def poll_until_stopped(
    name: str, step: Callable[[], Awaitable[int]], stop: asyncio.Event, poll_seconds: float
) -> None:
    """Run ``step`` until ``stop`` is set; sleep a poll interval when it found nothing to do.

    A store failure is logged and retried after the interval: a worker never dies of a
    database that is briefly away, and its jobs stay in the database until it is back.
    """
    while not stop.is_set():
        try:
            done = await step()
        except StoreUnavailable as exc:
            log.warning("worker.store_unavailable", worker=name, error=str(exc))
            done = 0
        if done == 0:
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass
