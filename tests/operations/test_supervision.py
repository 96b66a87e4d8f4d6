"""Every background worker comes back after an unexpected error, and /readyz tells the truth.

Each worker is killed with an injected error in its claim step (as a bug or a poisoned job
would), inside the real gateway with its real supervision: the error class is logged, never
its text; the restart is counted and exported; while it keeps failing the instance is not
ready; once the cause is gone the worker completes passes again and the instance is ready.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from gateway.logs import scrub_personal_data
from gateway.runtime import Runtime
from gateway.server import RunningGateway, start_gateway
from gateway.settings import Settings
from gateway.storage.models import Contact
from gateway.workers import WorkerRegistry, poll_until_stopped
from tests.conftest import RecordingSender, make_settings
from tests.helpers import PARENT_PHONE, seed_case

SECRET_TEXT = "Kari Nordmann +4791234567 kari.nordmann@example.org"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(
        db_url,
        workers={
            "ready_window_seconds": 0.5,
            "restart_backoff_base_seconds": 0.01,
            "restart_backoff_cap_seconds": 0.05,
        },
    )


@pytest.fixture
async def supervised(runtime: Runtime) -> AsyncIterator[RunningGateway]:
    gw = await start_gateway(runtime, relay=True)
    yield gw
    await gw.stop()


class Fault:
    """Wraps a worker's claim step: raises while ``on`` (with personal data in the text)."""

    def __init__(self, real: Callable[[], Awaitable[Any]]) -> None:
        self.real = real
        self.on = True
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        if self.on:
            raise RuntimeError(f"poisoned job from {SECRET_TEXT}")
        return await self.real()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(600):  # polls, not a time limit on the gateway: the loop is just generous
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def readyz(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
            return resp.status, await resp.json()


async def metrics_text(port: int) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200
            return await resp.text()


WORKERS = {"relay": "relay", "media": "media", "notifications": "notifier"}


@pytest.mark.parametrize("worker", sorted(WORKERS))
async def test_a_crashed_worker_restarts_and_readiness_follows_it(
    runtime: Runtime, supervised: RunningGateway, worker: str
) -> None:
    gw = supervised
    await eventually(lambda: _ready(gw), "ready before the fault")
    target = getattr(runtime, WORKERS[worker])
    fault = Fault(target.claim)
    with capture_logs(processors=[scrub_personal_data]) as logs:
        target.claim = fault
        health = runtime.workers.workers[worker]
        await eventually(_is(lambda: health.restarts >= 3), "three restarts")
        await eventually(lambda: _unready_naming(gw, worker), "/readyz naming the worker")
        status, body = await readyz(gw.web_port)
        assert status == 503 and body["workers"][worker]["last_error"] == "RuntimeError"
        # The other workers are unaffected.
        assert [n for n, w in body["workers"].items() if w["overdue"]] == [worker]
        fault.on = False
        await eventually(lambda: _ready(gw), "ready again once the cause is gone")
    assert health.last_error == "" and health.last_success is not None
    crashes = [e for e in logs if e["event"] == "worker.crashed" and e["worker"] == worker]
    assert crashes and all(e["error"] == "RuntimeError" for e in crashes)
    assert all(e["log_level"] == "error" for e in crashes)
    text = json.dumps(logs, default=str)
    assert "Kari" not in text and "91234567" not in text and "kari.nordmann" not in text
    assert any(e["event"] == "worker.restarted" for e in logs)
    exported = await metrics_text(gw.metrics_port or 0)
    restarts = _sample(exported, f'case_gateway_worker_restarts_total{{worker="{worker}"}}')
    assert restarts >= 3
    last = _sample(
        exported, f'case_gateway_worker_last_success_timestamp_seconds{{worker="{worker}"}}'
    )
    assert last == pytest.approx(health.last_success)


async def test_the_relay_sends_what_was_queued_while_it_was_down(
    runtime: Runtime, supervised: RunningGateway, sms_sender: RecordingSender
) -> None:
    await seed_case(runtime)
    async with runtime.db.read() as s:
        contact_id = (await s.execute(select(Contact.id))).scalar_one()
    fault = Fault(runtime.relay.claim)
    runtime.relay.claim = fault  # type: ignore[method-assign]
    await runtime.replies.reply(
        actor="ola@barnevern.example.no",
        author_id=None,
        case_ref="2026-0412",
        body="Vi ringer deg i morgen.",
        channel="sms",
        contact_id=contact_id,
    )
    await eventually(_is(lambda: runtime.workers.workers["relay"].restarts >= 2), "restarts")
    assert sms_sender.sent == []
    fault.on = False
    await eventually(_is(lambda: len(sms_sender.sent) == 1), "the reply leaves")
    assert sms_sender.sent[0].to == PARENT_PHONE


async def test_readyz_fails_when_the_database_is_unreachable(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    status, body = await readyz(gateway.web_port)
    assert status == 200
    from sqlalchemy.ext.asyncio import create_async_engine

    await runtime.db.engine.dispose()
    unreachable = (
        "sqlite+aiosqlite:////nonexistent-dir/none.db"
        if runtime.db.is_sqlite
        else "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    )
    runtime.db.engine = create_async_engine(unreachable)
    status, body = await readyz(gateway.web_port)
    assert status == 503 and "database unreachable" in body["detail"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{gateway.web_port}/healthz") as resp:
            assert resp.status == 200  # liveness: the process is fine, restarting it helps nobody


async def test_backoff_doubles_up_to_its_cap() -> None:
    from gateway.settings import WorkerSettings

    registry = WorkerRegistry(
        WorkerSettings(restart_backoff_base_seconds=1, restart_backoff_cap_seconds=60)
    )
    assert [registry.restart_delay(n) for n in (1, 2, 3, 6, 7, 20)] == [1, 2, 4, 32, 60, 60]


async def test_any_worker_loop_is_supervised_by_construction() -> None:
    """A worker written later (a sequencer, a scheduler) only calls poll_until_stopped."""
    from gateway.settings import WorkerSettings

    registry = WorkerRegistry(
        WorkerSettings(restart_backoff_base_seconds=0, restart_backoff_cap_seconds=0)
    )
    stop = asyncio.Event()
    passes: list[int] = []

    async def step() -> int:
        passes.append(1)
        if len(passes) <= 2:
            raise KeyError("boom")
        if len(passes) == 5:
            stop.set()
        return 1

    with registry.adopting():
        task = asyncio.create_task(poll_until_stopped("sequencer", step, stop, 0.01))
    await asyncio.wait_for(task, timeout=30)
    health = registry.workers["sequencer"]
    assert health.restarts == 2 and health.last_success is not None and not health.running


async def _ready(gw: RunningGateway) -> bool:
    return (await readyz(gw.web_port))[0] == 200


async def _unready_naming(gw: RunningGateway, worker: str) -> bool:
    status, body = await readyz(gw.web_port)
    return status == 503 and worker in body["detail"]


def _is(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check


def _sample(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")
