"""The supervised loop every background worker runs (outbox relay, MMS media, notifications, ...).

A worker is a ``step`` (claim a batch, work it, return how many) run by ``poll_until_stopped``.
The loop is its own supervisor, so every worker gets supervision by construction:

- a store failure (``StoreUnavailable``) is expected weather: logged, retried after the poll
  interval; the jobs stay in the database until it is back;
- any other error is a crash of that pass: the error class is logged (never its text, which may
  quote a message), the restart is counted, and the worker starts again after a capped,
  doubling backoff, so one bad job or one bug never stops replies from leaving for good;
- every pass that completes records its time, exported as a metric and read by ``/readyz``:
  a worker that has not completed a pass within its window makes the instance not ready.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from gateway.metrics import WORKER_LAST_SUCCESS, WORKER_RESTARTS
from gateway.settings import WorkerSettings
from gateway.storage.db import StoreUnavailable

log = structlog.get_logger("gateway.workers")


@dataclass
class WorkerHealth:
    """What one running worker last did; read by /readyz and exported as metrics."""

    name: str
    window_seconds: float
    started_at: float = field(default_factory=time.time)
    last_success: float | None = None
    restarts: int = 0
    last_error: str = ""
    running: bool = True

    def succeeded(self) -> None:
        self.last_success = time.time()
        self.last_error = ""
        WORKER_LAST_SUCCESS.labels(self.name).set(self.last_success)

    def crashed(self, error: str) -> None:
        self.restarts += 1
        self.last_error = error
        WORKER_RESTARTS.labels(self.name).inc()

    def overdue(self, now: float | None = None) -> bool:
        """No completed pass within the window (counted from the start before the first)."""
        if not self.running:
            return False
        since = self.last_success if self.last_success is not None else self.started_at
        return (time.time() if now is None else now) - since > self.window_seconds


class WorkerRegistry:
    """The workers of one running gateway and the policy they restart by."""

    def __init__(self, policy: WorkerSettings | None = None) -> None:
        self.policy = policy or WorkerSettings()
        self.workers: dict[str, WorkerHealth] = {}

    def register(self, name: str, poll_seconds: float) -> WorkerHealth:
        # A window shorter than a few polls would flap on an idle worker.
        window = max(self.policy.ready_window_seconds, 3 * poll_seconds)
        health = WorkerHealth(name, window)
        self.workers[name] = health
        WORKER_RESTARTS.labels(name).inc(0)
        return health

    def overdue(self) -> list[WorkerHealth]:
        now = time.time()
        return [w for w in self.workers.values() if w.overdue(now)]

    def restart_delay(self, failures: int) -> float:
        base = self.policy.restart_backoff_base_seconds
        return float(min(self.policy.restart_backoff_cap_seconds, base * 2 ** (failures - 1)))

    @contextmanager
    def adopting(self) -> Iterator[None]:
        """Workers started (tasks created) inside this block report to this registry."""
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)


# Tasks copy the context they are created in: a worker reports to the registry of the gateway
# that started it, without every worker class having to be handed one.
_CURRENT: contextvars.ContextVar[WorkerRegistry | None] = contextvars.ContextVar(
    "case_gateway_workers", default=None
)


def _where(exc: BaseException) -> str:
    """The innermost frame of the error as module:line (code location, never data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


async def _pause(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    if wake is None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            pass
        return
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def poll_until_stopped(
    name: str,
    step: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    poll_seconds: float,
    wake: asyncio.Event | None = None,
) -> None:
    """Run ``step`` until ``stop`` is set, supervised; sleep a poll interval when idle.

    ``wake`` (optional) ends an idle pause early: work handed over in memory starts at once.
    """
    registry = _CURRENT.get() or WorkerRegistry()
    health = registry.register(name, poll_seconds)
    failures = 0
    try:
        while not stop.is_set():
            try:
                done = await step()
            except StoreUnavailable as exc:
                log.warning("worker.store_unavailable", worker=name, error=str(exc))
                done = 0
            except Exception as exc:
                failures += 1
                error = exc.__class__.__name__
                health.crashed(error)
                delay = registry.restart_delay(failures)
                log.error(
                    "worker.crashed",
                    worker=name,
                    error=error,
                    where=_where(exc),
                    restarts=health.restarts,
                    restart_in_seconds=round(delay, 3),
                )
                await _pause(stop, delay)
                if not stop.is_set():
                    log.info("worker.restarted", worker=name, restarts=health.restarts)
                continue
            else:
                failures = 0
                health.succeeded()
            if done == 0:
                await _pause(stop, poll_seconds, wake)
    finally:
        health.running = False
