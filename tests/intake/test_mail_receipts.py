"""Mail is committed as received and answered 250 first, then processed: nothing answered is
ever lost or stored twice, whatever happens between the two phases.

- `case-gateway serve` killed with SIGKILL after the 250 and before processing: the restarted
  process processes the message (the lease of the dead one runs out).
- The same DATA twice while the first is still waiting: one receipt, one message.
- Two instances on PostgreSQL claiming the same receipts: each is processed by one of them,
  and a receipt whose holder stalls past its lease is finished by the other, stored once.
- A burst past what is held in memory waits in the database, leased here, and is filed in
  the order it came, each once; on stop it is handed back with the rest.
"""

from __future__ import annotations

import asyncio
import signal
import smtplib
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.email_in import ServiceMailHandler
from connectors.email_parsing import ParserPool
from gateway import receipts
from gateway.intake import IntakeFinish, IntakeResult
from gateway.receipts import HeldReceipt, Receipt, ReceiptWorker, ReceiptWriter
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.settings import Settings
from gateway.storage.db import Database
from gateway.storage.models import InboundReceipt, Message
from tests.conftest import RecordingSender, make_settings
from tests.email.conftest import SERVICE, crlf, mail_gateway, smtp_port
from tests.foundation.test_serve_production import free_port
from tests.helpers import (
    PARENT_PHONE,
    post_twilio,
    prepared_cli,
    processed,
    restart_env,
    twilio_params,
    wait_ready,
)
from tests.security.holding_parser import held_parse

FAMILY = "kari.nordmann@example.org"


def family_mail(n: int, hold: Path | None = None) -> bytes:
    held = f"X-Test-Hold: {hold}\n" if hold else ""
    return crlf(
        (
            f"From: Kari <{FAMILY}>\nTo: {SERVICE}\nSubject: Møtet\n{held}"
            f"Message-ID: <receipt-{n}@example.org>\nContent-Type: text/plain; charset=utf-8\n\n"
            f"Kan vi flytte møtet til fredag? ({n})\n"
        ).encode()
    )


def send(port: int, data: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        return client.sendmail(FAMILY, [SERVICE], data)


async def stored_count(db: Database, table: type[Message] | type[InboundReceipt]) -> int:
    """Receipts, or inbound messages (auto-replies to the family are messages too)."""
    query = select(func.count()).select_from(table)
    if table is Message:
        query = query.where(Message.direction == "in")
    async with db.read() as s:
        return int((await s.execute(query)).scalar_one())


async def wait_until_stored(
    db: Database, provider_id: str, proc: asyncio.subprocess.Process
) -> None:
    """Wait for the restarted process to file the message (it exits only if it crashes)."""
    while proc.returncode is None:
        async with db.read() as s:
            found = (
                await s.execute(select(Message.id).where(Message.provider_id == provider_id))
            ).first()
        if found is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"serve exited with {proc.returncode} before filing the message")


async def test_sigkill_after_250_loses_nothing_the_restarted_process_files_it(
    db_url: str, tmp_path: Path
) -> None:
    web_port, smtp = free_port(), free_port()
    env = restart_env(db_url, web_port, str(tmp_path / "keys"), CASE_GATEWAY_SMTP_PORT=str(smtp))
    cli = await prepared_cli(tmp_path, env)
    config = ["--config", str(tmp_path / "none.toml")]
    base = f"http://127.0.0.1:{web_port}"
    never = tmp_path / "never-released"
    log = (tmp_path / "first.log").open("wb")
    # The first process parses with a parser that holds the marked message: it is answered
    # 250 and is certainly not processed when the process dies.
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.intake.serve_holding_mail", *config, "serve",
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    db = Database(db_url)
    try:
        await wait_ready(base, first)
        assert await asyncio.to_thread(send, smtp, family_mail(1, hold=never)) == {}
        first.send_signal(signal.SIGKILL)
        assert await first.wait() in (-signal.SIGKILL, 255)
        assert await stored_count(db, InboundReceipt) == 1
        assert await stored_count(db, Message) == 0
        log2 = (tmp_path / "second.log").open("wb")
        second = await asyncio.create_subprocess_exec(
            *cli, "serve", env=env, stdout=log2, stderr=log2
        )
        try:
            await wait_until_stored(db, f"<receipt-1@example.org>|{SERVICE}", second)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
        assert await stored_count(db, Message) == 1
        assert await stored_count(db, InboundReceipt) == 0
        async with db.read() as s:
            text = (
                await s.execute(select(Message.redacted_text).where(Message.direction == "in"))
            ).scalar_one()
        assert "fredag" in text  # parsed normally by the process that took it over
    finally:
        never.touch()  # lets the dead process's orphaned parser worker finish and exit
        if first.returncode is None:
            first.kill()
            await first.wait()
        await db.close()


async def test_the_same_data_twice_while_waiting_is_one_receipt_and_one_message(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with mail_gateway(make_settings(sqlite_url)) as (rt, gw):
        assert gw.mail_handler is not None
        gw.mail_handler.parser = ParserPool(1, 60.0, parse=held_parse)
        release = tmp_path / "release"
        data = family_mail(2, hold=release)
        for _ in range(2):  # the MTA's retry arrives while the first is still being parsed
            assert await asyncio.to_thread(send, smtp_port(gw), data) == {}
        assert await stored_count(rt.db, InboundReceipt) == 1
        release.touch()
        await processed(gw)
        # And a retry after it was filed is recognised by the message's own key.
        assert await asyncio.to_thread(send, smtp_port(gw), data) == {}
        await processed(gw)
        assert await stored_count(rt.db, Message) == 1
        assert await stored_count(rt.db, InboundReceipt) == 0
        gw.mail_handler.parser.close()


async def test_an_sms_and_health_go_on_while_mail_is_answered_and_held(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The second phase holds nobody: a held message does not delay the next one's 250."""
    async with mail_gateway(make_settings(sqlite_url)) as (rt, gw):
        assert gw.mail_handler is not None and gw.receipts is not None
        gw.mail_handler.parser = ParserPool(1, 60.0, parse=held_parse)
        release = tmp_path / "release"
        assert await asyncio.to_thread(send, smtp_port(gw), family_mail(3, hold=release)) == {}
        # The only parser worker is busy; still the next sender gets its 250 at once.
        assert await asyncio.to_thread(send, smtp_port(gw), family_mail(4)) == {}
        status, _ = await post_twilio(gw.web_port, twilio_params(sender=PARENT_PHONE))
        assert status == 200
        # The SMS is filed; both mails wait, one held in the parser, one for the parser.
        await gw.receipts.until_settled(still_held=2)
        assert await stored_count(rt.db, InboundReceipt) == 2
        assert await stored_count(rt.db, Message) == 1  # the SMS
        release.touch()
        await processed(gw)
        assert await stored_count(rt.db, Message) == 3
        gw.mail_handler.parser.close()


# --- two instances on PostgreSQL ---------------------------------------------------------


def instance_settings(url: str, lease_seconds: float) -> Settings:
    return make_settings(
        url,
        email={
            "receipt_lease_seconds": lease_seconds,
            "receipt_poll_seconds": 0.05,
            "parse_workers": 1,
        },
    )


@asynccontextmanager
async def instance(
    url: str, keys: str, lease_seconds: float = 60.0
) -> AsyncIterator[tuple[Runtime, ServiceMailHandler]]:
    rt = build_runtime(
        instance_settings(url, lease_seconds),
        senders={"sms": RecordingSender(), "email": RecordingSender()},
        keyring=parse_keys(keys),
    )
    handler = ServiceMailHandler(rt.intake, rt.settings)
    try:
        yield rt, handler
    finally:
        handler.close()
        await rt.close()


async def commit_unleased(rt: Runtime, count: int) -> None:
    """Receipts as a stopped instance hands them back: committed, held by nobody."""
    writer = ReceiptWriter(rt.db, rt.keyring, owner="stopped-instance", lease_seconds=0)
    for n in range(count):
        raw = family_mail(100 + n)
        key = f"<receipt-{100 + n}@example.org>|{SERVICE}"
        await writer.write(Receipt("email", key, FAMILY, SERVICE, raw))
    await writer.close()


async def test_two_instances_process_each_receipt_once(pg_url: str) -> None:
    keys = new_key_line("shared")
    total = 40
    async with instance(pg_url, keys) as (a, ha), instance(pg_url, keys) as (b, hb):
        await a.db.migrate()
        await commit_unleased(a, total)
        seen: Counter[int] = Counter()

        def counting(handler: ServiceMailHandler):  # type: ignore[no-untyped-def]
            async def process(held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
                seen[held.id] += 1
                return await handler.process_receipt(held, finish)

            return process

        workers = [
            ReceiptWorker(rt.db, rt.keyring, rt.settings, {"email": counting(h)})
            for rt, h in ((a, ha), (b, hb))
        ]
        stop = asyncio.Event()
        running = [asyncio.create_task(w.run(stop)) for w in workers]
        await workers[0].until_drained()
        stop.set()
        await asyncio.gather(*running)
        assert sorted(seen) == sorted(set(seen)) and len(seen) == total
        assert set(seen.values()) == {1}  # no receipt was processed twice
        assert all(w.processed > 0 for w in workers)  # both took a share
        async with a.db.read() as s:
            per_key = (
                await s.execute(
                    select(Message.provider_id, func.count()).group_by(Message.provider_id)
                )
            ).all()
        assert len(per_key) == total and {n for _, n in per_key} == {1}


async def test_a_receipt_whose_holder_stalls_past_its_lease_is_filed_once(pg_url: str) -> None:
    keys = new_key_line("shared")
    async with (
        instance(pg_url, keys, lease_seconds=1.0) as (a, ha),
        instance(pg_url, keys, lease_seconds=1.0) as (b, hb),
    ):
        await a.db.migrate()
        await commit_unleased(a, 1)
        stalled = asyncio.Event()
        go_on = asyncio.Event()

        async def stalling(held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
            stalled.set()
            await go_on.wait()  # a pause longer than the lease (a stopped VM, a long GC)
            return await ha.process_receipt(held, finish)

        slow = ReceiptWorker(a.db, a.keyring, a.settings, {"email": stalling})
        other = ReceiptWorker(b.db, b.keyring, b.settings, {"email": hb.process_receipt})
        [held] = await slow.claim(10)  # no renewal runs: its lease will run out
        task = asyncio.create_task(slow._process(held))
        await stalled.wait()
        stop = asyncio.Event()
        running = asyncio.create_task(other.run(stop))
        await other.until_drained()  # the other instance took it over once the lease ran out
        stop.set()
        await running
        go_on.set()
        await task  # the stalled holder's write is refused: its lease is gone
        assert other.processed == 1 and slow.processed == 0
        assert await stored_count(a.db, Message) == 1
        assert await stored_count(a.db, InboundReceipt) == 0


async def test_a_burst_past_what_is_held_in_memory_waits_in_the_database_and_is_filed_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receipts, "HELD_IN_MEMORY", 4)
    keys = new_key_line("shared")
    total = 15
    async with instance(sqlite_url, keys) as (rt, handler):
        await rt.db.migrate()
        seen: Counter[int] = Counter()

        async def counting(held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
            seen[held.id] += 1
            return await handler.process_receipt(held, finish)

        worker = ReceiptWorker(rt.db, rt.keyring, rt.settings, {"email": counting})
        for n in range(total):  # answered before any is processed: a burst
            key = f"<receipt-{200 + n}@example.org>|{SERVICE}"
            assert await worker.receive(
                Receipt("email", key, FAMILY, SERVICE, family_mail(200 + n))
            )
        # Four wait in memory with their payload; the rest only by id, each leased here.
        assert len(worker._local) == 4 and len(worker._parked) == total - 4
        leased = worker.leased_here()
        assert len(leased) == total
        async with rt.db.read() as s:
            owners = set((await s.execute(select(InboundReceipt.lease_owner))).scalars().all())
        assert owners == {worker.owner}

        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await worker.until_settled()
        stop.set()
        await running
        # Filed in the order they came, each once.
        assert list(seen) == leased and set(seen.values()) == {1}
        assert await stored_count(rt.db, Message) == total
        assert await stored_count(rt.db, InboundReceipt) == 0
        await worker.writer.close()


async def test_receipts_waiting_in_the_database_are_handed_back_on_stop(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receipts, "HELD_IN_MEMORY", 2)
    keys = new_key_line("shared")
    async with instance(sqlite_url, keys) as (rt, handler):
        await rt.db.migrate()
        worker = ReceiptWorker(rt.db, rt.keyring, rt.settings, {"email": handler.process_receipt})
        for n in range(6):
            key = f"<receipt-{300 + n}@example.org>|{SERVICE}"
            assert await worker.receive(
                Receipt("email", key, FAMILY, SERVICE, family_mail(300 + n))
            )
        assert len(worker._parked) == 4
        stop = asyncio.Event()
        stop.set()  # stopped before processing anything: everything goes back
        await worker.run(stop, drain_seconds=0)
        assert worker.leased_here() == [] and worker.processed == 0
        async with rt.db.read() as s:
            owners = (await s.execute(select(InboundReceipt.lease_owner))).scalars().all()
        assert len(owners) == 6 and set(owners) == {None}  # the next instance takes them all
