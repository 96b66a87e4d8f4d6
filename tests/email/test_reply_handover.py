"""An e-mail reply whose hand-over to the mail relay went unanswered is settled by the relay's
own record, never by guessing.

The relay notes durably, right before DATA, that the content is being handed over. A
connection lost before that point cannot have delivered anything: the reply is simply sent
again. Lost after it (the relay took the whole message, its answer never came), the reply is
recorded as unconfirmed; it is then sent once more with the same Message-ID (a reply is
never silently dropped, and the receiving side can recognise the repeat by its Message-ID),
and that repeat is audited. The fake MTA takes the message and drops the connection before
its final answer, as a relay that crashed after queueing would.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from email import message_from_bytes, policy

from sqlalchemy import select

from connectors.email_out import SmtpRelaySender
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.models import AuditEvent, Contact, OutboxJob
from gateway.storage.models import Message as Msg
from tests.email.conftest import FakeMTA
from tests.helpers import PARENT_EMAIL, seed_case

REF = "2026-0412"


async def queue_reply(rt: Runtime, body: str = "Hei Kari, torsdag kl. 10 passer fint.") -> int:
    await seed_case(rt)
    async with rt.db.read() as s:
        contact_id = (
            await s.execute(select(Contact.id).where(Contact.email == PARENT_EMAIL))
        ).scalar_one()
    result = await rt.replies.reply(
        actor="ola@barnevern.example.no",
        author_id=None,
        case_ref=REF,
        body=body,
        channel="email",
        contact_id=contact_id,
    )
    assert result.message_id is not None
    return result.message_id


async def job_of(rt: Runtime, message_id: int) -> OutboxJob:
    async with rt.db.read() as s:
        return (
            await s.execute(select(OutboxJob).where(OutboxJob.message_id == message_id))
        ).scalar_one()


async def actions(rt: Runtime, message_id: int) -> list[str]:
    async with rt.db.read() as s:
        return list(
            (
                await s.execute(
                    select(AuditEvent.action)
                    .where(AuditEvent.subject == f"message:{message_id}")
                    .order_by(AuditEvent.seq)
                )
            ).scalars()
        )


def message_ids(mta: FakeMTA) -> list[str]:
    return [
        str(message_from_bytes(d.data, policy=policy.default)["Message-ID"]) for d in mta.delivered
    ]


async def test_an_answer_lost_after_data_is_recorded_unconfirmed_and_resent_once_audited(
    runtime: Runtime, mta: FakeMTA
) -> None:
    reply_id = await queue_reply(runtime)
    mta.drop_after_data = 1
    assert await runtime.relay.run_once() == 1
    job = await job_of(runtime, reply_id)
    assert job.state == "pending"
    assert job.unconfirmed_since is not None and job.handed_over_at is not None
    assert "answer to the message was lost" in (job.last_error or "")
    assert "message.send_unconfirmed" in await actions(runtime, reply_id)

    assert await runtime.relay.run_once() == 1
    job = await job_of(runtime, reply_id)
    async with runtime.db.read() as s:
        msg = await s.get(Msg, reply_id)
    assert msg is not None and msg.status == "sent" and job.state == "sent"
    # The relay had the first copy: the repeat carries the same Message-ID, and says so.
    assert len(mta.delivered) == 2
    assert message_ids(mta) == [msg.email_message_id, msg.email_message_id]
    done = await actions(runtime, reply_id)
    assert done.count("message.resent_unconfirmed") == 1 and done[-1] == "message.sent"


async def test_a_connection_lost_before_data_is_a_plain_retry(
    runtime: Runtime, mta: FakeMTA
) -> None:
    reply_id = await queue_reply(runtime)
    mta.drop_at_rcpt = 1
    assert await runtime.relay.run_once() == 1
    job = await job_of(runtime, reply_id)
    assert job.state == "pending" and job.unconfirmed_since is None
    assert job.handed_over_at is None and mta.delivered == []
    assert await runtime.relay.run_once() == 1
    assert (await job_of(runtime, reply_id)).state == "sent" and len(mta.delivered) == 1
    assert "message.resent_unconfirmed" not in await actions(runtime, reply_id)


async def test_a_refused_message_then_delivered_is_no_repeat(
    runtime: Runtime, mta: FakeMTA
) -> None:
    reply_id = await queue_reply(runtime)
    mta.script = ["451 4.3.0 Try again later"]  # a definite answer to DATA: not taken
    await runtime.relay.run_once()
    job = await job_of(runtime, reply_id)
    assert job.state == "pending" and job.handed_over_at is None
    await runtime.relay.run_once()
    assert len(mta.delivered) == 1
    assert "message.resent_unconfirmed" not in await actions(runtime, reply_id)


async def relay_dies(settings: Settings, keyring: Keyring, *, after_handover: bool) -> None:
    """A second relay claims the reply with a short lease and dies, before or after noting
    the hand-over (and, after it, having handed the message to the MTA)."""
    short = replace(settings, relay=replace(settings.relay, lease_seconds=0.2))
    dying = build_runtime(
        short, senders={"email": SmtpRelaySender(short, timeout=10)}, keyring=keyring
    )
    try:
        (claimed,) = await dying.relay.claim()
        if after_handover:
            outcome = await dying.relay._send(claimed)  # noted, then DATA answered 250 ...
            assert outcome.ok  # ... and the process dies before recording that
    finally:
        await dying.close()
    await asyncio.sleep(0.3)  # its lease runs out


async def test_a_relay_that_died_after_the_handover_resends_audited(
    settings: Settings, runtime: Runtime, mta: FakeMTA
) -> None:
    reply_id = await queue_reply(runtime)
    await relay_dies(settings, runtime.keyring, after_handover=True)
    assert len(mta.delivered) == 1
    assert await runtime.relay.run_once() == 1
    assert (await job_of(runtime, reply_id)).state == "sent"
    assert len(mta.delivered) == 2  # the record says it may have arrived: sent again, audited
    assert (await actions(runtime, reply_id)).count("message.resent_unconfirmed") == 1


async def test_a_relay_that_died_before_the_handover_sends_it_without_a_repeat(
    settings: Settings, runtime: Runtime, mta: FakeMTA
) -> None:
    reply_id = await queue_reply(runtime)
    await relay_dies(settings, runtime.keyring, after_handover=False)
    assert await runtime.relay.run_once() == 1
    job = await job_of(runtime, reply_id)
    assert job.state == "sent" and len(mta.delivered) == 1
    assert "message.resent_unconfirmed" not in await actions(runtime, reply_id)
