"""Replies over real SMTP to a fake remote MTA, and the family's answers threading back.

A caseworker replies through the API; the relay hands the reply to the MTA from the service
address with our recorded Message-ID and a Reply-To carrying the case token; the family's
answer (In-Reply-To, or to the token address) lands in the same case, the same answer from
anyone else does not. 4xx is retried and delivered exactly once; 5xx is dead-lettered with
the reason on the case.
"""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, OutboxJob, QueueItem, ReplyToken
from gateway.storage.models import Message as Msg
from tests.email.conftest import (
    DOMAIN,
    SERVICE,
    FakeMTA,
    deliver,
    mail_gateway,
    mail_settings,
    smtp_port,
)
from tests.helpers import PARENT_EMAIL, api, processed, seed_case

REF = "2026-0412"


def family_mail(
    msg_id: str,
    *,
    sender: str = PARENT_EMAIL,
    to: str = SERVICE,
    in_reply_to: str | None = None,
    body: str = "Hei, vi kommer torsdag.",
) -> bytes:
    m = EmailMessage()
    m["From"] = f"Kari Nordmann <{sender}>"
    m["To"] = to
    m["Subject"] = "Re: Møte" if in_reply_to else "Møte"
    m["Message-ID"] = msg_id
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = f"<first@example.org> {in_reply_to}"
    m.set_content(body)
    return m.as_bytes()


async def send_in(
    gw: RunningGateway, data: bytes, sender: str = PARENT_EMAIL, to: str = SERVICE
) -> None:
    refused = await asyncio.to_thread(deliver, smtp_port(gw), data, sender=sender, rcpts=[to])
    assert refused == {}
    await processed(gw)


async def reply_via_api(rt: Runtime, gw: RunningGateway, token: str, body: str) -> int:
    status, out = await api(
        gw.web_port,
        "POST",
        f"/api/v1/cases/{REF}/replies",
        token,
        {"body": body, "channel": "email"},
    )
    assert status == 202, out
    return int(out["message_id"])


async def inbound(rt: Runtime, email_message_id: str) -> Msg:
    async with rt.db.read() as s:
        return (
            await s.execute(select(Msg).where(Msg.email_message_id == email_message_id))
        ).scalar_one()


async def test_reply_threads_back_to_the_case_over_real_smtp(
    runtime: Runtime, gateway: RunningGateway, mta: FakeMTA
) -> None:
    token = await seed_case(runtime)
    await send_in(gateway, family_mail("<first@example.org>"))
    # Only the caseworker's reply goes out: automatic receipts are sent by the relay too.
    await runtime.relay.run_once()
    mta.delivered.clear()
    reply_id = await reply_via_api(runtime, gateway, token, "Hei Kari, torsdag kl. 10 passer fint.")
    assert await runtime.relay.run_once() == 1
    assert len(mta.delivered) == 1
    sent = mta.delivered[0]
    assert sent.mail_from == SERVICE and sent.rcpt_tos == [PARENT_EMAIL]
    mail = message_from_bytes(sent.data, policy=policy.default)
    async with runtime.db.read() as s:
        reply = await s.get(Msg, reply_id)
        tokens = (await s.execute(select(ReplyToken.token))).scalars().all()
    assert reply is not None and reply.status == "sent"
    # Our Message-ID, made by the core and recorded on the reply.
    assert mail["Message-ID"] == reply.email_message_id
    assert (reply.email_message_id or "").endswith(f"@{DOMAIN}>")
    assert parseaddr(str(mail["From"])) == ("Barneverntjenesten", SERVICE)
    assert parseaddr(str(mail["Reply-To"]))[1] == f"case.{tokens[0]}@{DOMAIN}"
    assert mail["In-Reply-To"] == "<first@example.org>"
    assert "Auto-Submitted" not in mail
    assert "torsdag kl. 10" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # The family answers the reply: In-Reply-To names our Message-ID.
    await send_in(gateway, family_mail("<answer1@example.org>", in_reply_to=reply.email_message_id))
    by_thread = await inbound(runtime, "<answer1@example.org>")
    assert by_thread.case_id == reply.case_id
    assert by_thread.classification["match_rule"] == "thread"

    # ... or writes to the token address from the Reply-To.
    token_address = f"case.{tokens[0]}@{DOMAIN}"
    await send_in(gateway, family_mail("<answer2@example.org>", to=token_address), to=token_address)
    by_token = await inbound(runtime, "<answer2@example.org>")
    assert by_token.case_id == reply.case_id
    assert by_token.classification["match_rule"] == "reply_token"

    # The same answer from someone else lands in triage, both ways.
    stranger = "someone.else@example.net"
    await send_in(
        gateway,
        family_mail("<answer3@example.net>", sender=stranger, in_reply_to=reply.email_message_id),
        sender=stranger,
    )
    await send_in(
        gateway,
        family_mail("<answer4@example.net>", sender=stranger, to=token_address),
        sender=stranger,
        to=token_address,
    )
    for mid in ("<answer3@example.net>", "<answer4@example.net>"):
        other = await inbound(runtime, mid)
        assert other.case_id is None and other.status == "triage"
        assert other.triage_reason in {"unknown sender", "token used by another sender"}


async def test_451_then_250_is_delivered_exactly_once(
    runtime: Runtime, gateway: RunningGateway, mta: FakeMTA
) -> None:
    token = await seed_case(runtime)
    await send_in(gateway, family_mail("<first@example.org>"))
    await runtime.relay.run_once()
    mta.delivered.clear()
    mta.attempts = 0
    mta.script = ["451 4.3.0 Try again later"]
    reply_id = await reply_via_api(runtime, gateway, token, "Vi ringer deg i morgen.")
    assert await runtime.relay.run_once() == 1  # 451: kept for a retry
    async with runtime.db.read() as s:
        job = (
            await s.execute(select(OutboxJob).where(OutboxJob.message_id == reply_id))
        ).scalar_one()
        assert job.state == "pending" and job.last_error == "4.3.0 Try again later"
    assert mta.delivered == []
    assert await runtime.relay.run_once() == 1  # delivered
    assert await runtime.relay.run_once() == 0  # nothing left to send
    assert mta.attempts == 2 and len(mta.delivered) == 1
    async with runtime.db.read() as s:
        job = (
            await s.execute(select(OutboxJob).where(OutboxJob.message_id == reply_id))
        ).scalar_one()
        reply = await s.get(Msg, reply_id)
        actions = (
            (
                await s.execute(
                    select(AuditEvent.action).where(AuditEvent.subject == f"message:{reply_id}")
                )
            )
            .scalars()
            .all()
        )
    assert job.state == "sent" and job.attempts == 2
    assert reply is not None and reply.status == "sent"
    assert actions == ["message.reply_queued", "message.send_retry", "message.sent"]


async def test_550_dead_letters_with_the_reason_on_the_case(
    runtime: Runtime, gateway: RunningGateway, mta: FakeMTA
) -> None:
    token = await seed_case(runtime)
    await send_in(gateway, family_mail("<first@example.org>"))
    await runtime.relay.run_once()
    mta.script = ["550 5.1.1 <kari.nordmann@example.org>: Recipient address rejected"]
    reply_id = await reply_via_api(runtime, gateway, token, "Vi ringer deg i morgen.")
    await runtime.relay.run_once()
    assert await runtime.relay.run_once() == 0  # never retried
    async with runtime.db.read() as s:
        reply = await s.get(Msg, reply_id)
        job = (
            await s.execute(select(OutboxJob).where(OutboxJob.message_id == reply_id))
        ).scalar_one()
        items = (
            (await s.execute(select(QueueItem).where(QueueItem.message_id == reply_id)))
            .scalars()
            .all()
        )
    assert job.state == "dead" and job.attempts == 1
    assert reply is not None and reply.status == "failed" and reply.error_code == "550"
    assert "Recipient address rejected" in (reply.error_text or "")
    assert [i.owner_kind for i in items] == ["user"]
    assert items[0].reason.startswith("EMAIL not sent: 5.1.1")
    # What the caseworker sees on the case thread.
    status, thread = await api(gateway.web_port, "GET", f"/api/v1/cases/{REF}/messages", token)
    assert status == 200
    shown = next(m for m in thread["messages"] if m["id"] == reply_id)
    assert shown["status"] == "failed" and "Recipient address rejected" in shown["error"]
    assert shown["delivery"]["state"] == "dead"


async def test_refused_recipient_and_unusable_address_are_final(
    runtime: Runtime, gateway: RunningGateway, mta: FakeMTA
) -> None:
    token = await seed_case(runtime)
    await send_in(gateway, family_mail("<first@example.org>"))
    while await runtime.relay.run_once():
        pass
    mta.rcpt_script = ["550 5.1.1 No such user"]
    refused_id = await reply_via_api(runtime, gateway, token, "Vi ringer deg i morgen.")
    assert await runtime.relay.run_once() == 1
    assert await runtime.relay.run_once() == 0
    async with runtime.db.read() as s:
        refused = await s.get(Msg, refused_id)
    assert refused is not None and refused.status == "failed"
    assert (refused.error_code, refused.error_text) == ("550", "5.1.1 No such user")


async def test_reply_to_an_address_we_cannot_write_is_failed_not_retried(
    runtime: Runtime, gateway: RunningGateway, mta: FakeMTA
) -> None:
    family = "kåre@example.no"
    token = await seed_case(runtime, email=family)
    data = family_mail("<first@example.no>").replace(PARENT_EMAIL.encode(), family.encode())
    assert (
        await asyncio.to_thread(
            deliver, smtp_port(gateway), data, sender=family, mail_options=["SMTPUTF8"]
        )
        == {}
    )
    await processed(gateway)
    while await runtime.relay.run_once():
        pass
    reply_id = await reply_via_api(runtime, gateway, token, "Vi ringer deg i morgen.")
    assert await runtime.relay.run_once() == 1
    assert await runtime.relay.run_once() == 0
    async with runtime.db.read() as s:
        reply = await s.get(Msg, reply_id)
        items = (
            (await s.execute(select(QueueItem).where(QueueItem.message_id == reply_id)))
            .scalars()
            .all()
        )
    assert reply is not None and reply.status == "failed" and reply.error_code == "bad_address"
    assert [i.owner_kind for i in items] == ["user"]
    assert not [d for d in mta.delivered if family in d.rcpt_tos]


async def test_unreachable_relay_is_retried(db_url: str) -> None:
    closed = mail_settings(db_url, 1)  # nothing listens on port 1
    async with mail_gateway(closed) as (rt, gw):
        token = await seed_case(rt)
        await send_in(gw, family_mail("<first@example.org>"))
        reply_id = await reply_via_api(rt, gw, token, "Vi ringer deg i morgen.")
        while await rt.relay.run_once():
            pass  # backoff is 0 in tests: every attempt is due at once, up to max_attempts
        async with rt.db.read() as s:
            job = (
                await s.execute(select(OutboxJob).where(OutboxJob.message_id == reply_id))
            ).scalar_one()
            reply = await s.get(Msg, reply_id)
    assert job.attempts == rt.settings.relay.max_attempts  # retried, not failed at once
    assert (job.last_error or "").startswith("mail relay unreachable")
    assert reply is not None and reply.status == "failed"
