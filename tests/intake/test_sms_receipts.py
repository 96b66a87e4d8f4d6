"""An SMS is committed as received and answered 200 first, then filed: nothing answered is ever
lost or stored twice, whatever happens between the two phases.

- `case-gateway serve` in its production configuration (Twilio provider) killed with SIGKILL
  after the 200s and before filing: the restarted process files every one, once.
- The same MessageSid twice while the first is still waiting (also with its parameters in
  another order), and again after it was filed: one receipt, one message.
- A store failure answers 503; Twilio's retry is then stored once.
- Two instances on PostgreSQL receiving the same MessageSids at once: each stored once.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func, select

from gateway.intake import IntakeFinish, IntakeResult
from gateway.receipts import BURST_MAX_LAG_SECONDS, HeldReceipt, Processor, ReceiptWorker
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import RunningGateway, start_gateway
from gateway.storage.db import Database
from gateway.storage.models import InboundReceipt, Message, QueueItem
from tests.conftest import (
    SERVICE_NUMBER,
    RecordingSender,
    make_settings,
)
from tests.foundation.test_serve_production import free_port
from tests.helpers import (
    PARENT_PHONE,
    post_twilio,
    prepared_cli,
    processed,
    restart_env,
    seed_case,
    sign,
    twilio_params,
    wait_filed,
    wait_ready,
)

PATH = "/webhooks/twilio/sms"


async def stored(db: Database, table: type[Message] | type[InboundReceipt]) -> int:
    """Receipts, or inbound messages (auto-replies to the family are messages too)."""
    query = select(func.count()).select_from(table)
    if table is Message:
        query = query.where(Message.direction == "in")
    async with db.read() as s:
        return int((await s.execute(query)).scalar_one())


async def per_sid(db: Database) -> dict[str, int]:
    async with db.read() as s:
        rows = await s.execute(
            select(Message.provider_id, func.count())
            .where(Message.direction == "in")
            .group_by(Message.provider_id)
        )
        return {str(sid): int(n) for sid, n in rows.all()}


def holding(gw: RunningGateway) -> asyncio.Event:
    """Hold the filing of SMS until the returned event is set (the answers are not held)."""
    assert gw.receipts is not None
    real: Processor = gw.receipts.processors["sms"]
    release = asyncio.Event()

    async def held_filing(held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
        await release.wait()
        return await real(held, finish)

    gw.receipts.processors["sms"] = held_filing
    return release


async def test_sigkill_after_200_the_restarted_process_files_every_sms_once(
    db_url: str, tmp_path: Path
) -> None:
    web_port = free_port()
    env = restart_env(db_url, web_port, str(tmp_path / "keys"), CASE_GATEWAY_SMTP_ENABLED="false")
    cli = await prepared_cli(tmp_path, env)
    config = ["--config", str(tmp_path / "none.toml")]
    base = f"http://127.0.0.1:{web_port}"
    sids = [f"SM{n:032d}" for n in range(5)]
    log = (tmp_path / "first.log").open("wb")
    # The first process answers every SMS and files none: each is certainly only a receipt
    # when the process dies.
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.intake.serve_holding_sms", *config, "serve",
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    db = Database(db_url)
    try:
        await wait_ready(base, first)
        for n, sid in enumerate(sids):
            params = twilio_params(sid=sid, sender=f"+47912{n:05d}", body=f"Melding {n}")
            assert (await post_twilio(web_port, params))[0] == 200
        first.send_signal(signal.SIGKILL)
        assert await first.wait() in (-signal.SIGKILL, 255)
        assert await stored(db, InboundReceipt) == len(sids)
        assert await stored(db, Message) == 0
        log2 = (tmp_path / "second.log").open("wb")
        second = await asyncio.create_subprocess_exec(
            *cli, "serve", env=env, stdout=log2, stderr=log2
        )
        try:
            await wait_ready(base, second)
            await wait_filed(base, second)  # once the dead process's leases ran out
            # Twilio's retry of one of them, after it was filed: answered 200, stored once.
            params = twilio_params(sid=sids[0], sender="+4791200000", body="Melding 0")
            assert (await post_twilio(web_port, params))[0] == 200
            await wait_filed(base, second)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await second.wait() == 0, (tmp_path / "second.log").read_text()[-3000:]
        assert await per_sid(db) == dict.fromkeys(sids, 1)
        assert await stored(db, InboundReceipt) == 0
        async with db.read() as s:
            texts = (
                await s.execute(select(Message.redacted_text).order_by(Message.provider_id))
            ).scalars()
            assert [t for t in texts] == [f"Melding {n}" for n in range(len(sids))]
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
        await db.close()


async def test_the_same_message_sid_while_waiting_and_after_filing_is_one_message(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    release = holding(gateway)
    params = twilio_params(body="Kan vi flytte møtet?")
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    assert (await post_twilio(gateway.web_port, params))[0] == 200  # Twilio's retry
    # The same signed parameters in another order: other bytes, the same message.
    reordered = dict(reversed(list(params.items())))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{gateway.web_port}{PATH}",
            data=urlencode(reordered),
            headers={
                "X-Twilio-Signature": sign(PATH, params),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ) as resp,
    ):
        assert resp.status == 200
    assert await stored(runtime.db, InboundReceipt) == 1
    assert await stored(runtime.db, Message) == 0  # answered, not filed yet
    release.set()
    await processed(gateway)
    assert (await post_twilio(gateway.web_port, params))[0] == 200  # a retry after filing
    await processed(gateway)
    assert await per_sid(runtime.db) == {params["MessageSid"]: 1}
    assert await stored(runtime.db, InboundReceipt) == 0
    async with runtime.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(QueueItem))).scalar_one() == 1


async def test_store_failure_answers_503_and_the_retry_is_stored_once(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)

    def fail() -> None:
        raise OSError("disk full")

    params = twilio_params(body="Ring meg")
    runtime.db.fault = fail
    status, body = await post_twilio(gateway.web_port, params)
    runtime.db.fault = None
    assert status == 503 and "retry" in body
    assert await stored(runtime.db, InboundReceipt) == 0
    assert await stored(runtime.db, Message) == 0
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    assert (await post_twilio(gateway.web_port, params))[0] == 200
    await processed(gateway)
    assert await per_sid(runtime.db) == {params["MessageSid"]: 1}


async def test_answers_go_on_while_a_backlog_is_filed(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    """Filing waits; answering does not: every SMS is answered while none can be filed, and
    /readyz shows them waiting until they are."""
    release = holding(gateway)
    sids = [f"SM{n:032d}" for n in range(20)]
    answers = await asyncio.gather(
        *(
            post_twilio(gateway.web_port, twilio_params(sid=sid, sender=f"+4740000{n:03d}"))
            for n, sid in enumerate(sids)
        )
    )
    assert [status for status, _ in answers] == [200] * len(sids)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{gateway.web_port}/readyz") as resp,
    ):
        ready = await resp.json()
    assert resp.status == 200 and ready["receipts"]["waiting"] == len(sids)
    assert ready["receipts"]["by_channel"] == {"sms": len(sids)}
    release.set()
    await processed(gateway)
    assert await per_sid(runtime.db) == dict.fromkeys(sids, 1)


# --- two instances on PostgreSQL ---------------------------------------------------------


@asynccontextmanager
async def instance(url: str, keys: str) -> AsyncIterator[tuple[Runtime, RunningGateway]]:
    rt = build_runtime(
        make_settings(url, email={"receipt_poll_seconds": 0.05}),
        senders={"sms": RecordingSender(), "email": RecordingSender()},
        keyring=parse_keys(keys),
    )
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)
    try:
        yield rt, gw
    finally:
        await gw.stop()


async def test_two_instances_receiving_the_same_message_sids_store_each_once(
    pg_url: str,
) -> None:
    keys = new_key_line("shared")
    async with instance(pg_url, keys) as (a, ga), instance(pg_url, keys) as (_b, gb):
        await seed_case(a)

        def delivery(gw: RunningGateway, sid: str) -> Awaitable[tuple[int, str]]:
            params = twilio_params(sid=sid, sender=PARENT_PHONE, body=f"Hei {sid[-2:]}")
            return post_twilio(gw.web_port, params)

        sids = [f"SM{n:032d}" for n in range(40)]
        owner = {sid: (ga, gb)[n % 2] for n, sid in enumerate(sids)}
        other = {sid: (gb, ga)[n % 2] for n, sid in enumerate(sids)}
        # Each instance takes its share first; then Twilio's retries reach both instances
        # while those are being filed, and half of them reach both at the same moment.
        first = await asyncio.gather(*(delivery(owner[sid], sid) for sid in sids[:20]))
        again = await asyncio.gather(
            *(delivery(gw, sid) for sid in sids for gw in (other[sid], owner[sid]))
        )
        assert [status for status, _ in first + again] == [200] * (len(first) + len(again))
        assert ga.receipts is not None and gb.receipts is not None
        await ga.receipts.until_drained()
        await processed(ga)
        await processed(gb)
        assert ga.receipts.processed > 0 and gb.receipts.processed > 0  # both filed a share
        assert await per_sid(a.db) == dict.fromkeys(sids, 1)
        assert await stored(a.db, InboundReceipt) == 0


async def test_in_a_burst_filing_rests_unless_the_oldest_message_waits_too_long(
    runtime: Runtime,
) -> None:
    """While senders are being answered, filing rests between messages; once the oldest
    message waiting has waited BURST_MAX_LAG_SECONDS it is filed without rest (never starved)."""
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    started: list[int] = []
    release = asyncio.Event()

    async def filing(held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
        started.append(held.id)
        await release.wait()
        return IntakeResult(held.id, duplicate=False)

    worker = ReceiptWorker(
        runtime.db, runtime.keyring, runtime.settings, {"sms": filing}, clock=lambda: now
    )
    worker._last_poll = time.monotonic()  # no claiming from the database in this test

    def waiting(id_: int, age: float) -> HeldReceipt:
        received = now - timedelta(seconds=age)
        return HeldReceipt(
            id_, "sms", f"SM{id_}", PARENT_PHONE, SERVICE_NUMBER, b"", {}, received, 1
        )

    worker.writer.writing = True  # senders are being answered
    worker._burst_rest_until = time.monotonic() + 3600  # it has just filed one
    worker._local.append(waiting(1, BURST_MAX_LAG_SECONDS / 2))
    assert await worker.run_once() == 0 and not worker._tasks  # resting
    worker._local.appendleft(waiting(2, BURST_MAX_LAG_SECONDS))
    assert await worker.run_once() == 1 and list(worker._tasks) == [2]  # too old to rest
    assert await worker.run_once() == 0  # still one at a time in a burst
    worker.writer.writing = False
    worker.writer.last_batch_at = float("-inf")  # the burst is over: no rest, full concurrency
    assert await worker.run_once() == 1 and sorted(worker._tasks) == [1, 2]
    release.set()
    await asyncio.gather(*worker._tasks.values())
    assert sorted(started) == [1, 2]
