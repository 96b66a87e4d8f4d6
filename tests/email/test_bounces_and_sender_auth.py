"""Machine mail over SMTP: a bounce of our reply marks it failed on the case (and is never
answered), and Authentication-Results are trusted only from our own authserv-id."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.bounces import mark_bounced_replies
from gateway.core.email.dsn import dsn_diagnostic
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, QueueItem
from gateway.storage.models import Message as Msg
from tests.email.conftest import (
    AUTHSERV,
    SERVICE,
    FakeMTA,
    deliver,
    mail_gateway,
    mail_settings,
    smtp_port,
)
from tests.email.test_threading_and_replies import family_mail, reply_via_api, send_in
from tests.helpers import PARENT_EMAIL, processed, seed_case

DIAGNOSTIC = "550 5.1.1 <kari.nordmann@example.org>: Recipient address rejected: User unknown"


def dsn(
    returned_id: str, *, diagnostic: str = DIAGNOSTIC, own_id: str = "<dsn-1@mx.example.org>"
) -> bytes:
    """A Postfix-style delivery status notification returning one of our replies."""
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        f"To: {SERVICE}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {own_id}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {PARENT_EMAIL}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"From: Barneverntjenesten <{SERVICE}>\r\n"
        f"To: {PARENT_EMAIL}\r\n"
        "Subject: Re: 2026-0412\r\n"
        f"Message-ID: {returned_id}\r\n"
        "\r\n"
        "--B1--\r\n"
    ).encode()


def test_dsn_diagnostic_table() -> None:
    assert dsn_diagnostic(dsn("<x@y>")) == DIAGNOSTIC
    no_code = dsn("<x@y>").replace(f"Diagnostic-Code: smtp; {DIAGNOSTIC}\r\n".encode(), b"")
    assert dsn_diagnostic(no_code) == "status 5.1.1"
    plain = (
        b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Undeliverable\r\n\r\n"
        b"Delivery failed.\r\n  554 5.7.1 Message rejected\r\nMore text\r\n"
    )
    assert dsn_diagnostic(plain) == "554 5.7.1 Message rejected"
    assert dsn_diagnostic(b"\x00\xff garbage") == ""
    injected = dsn("<x@y>", diagnostic="550 a\x00b\u2028c")
    assert "\x00" not in dsn_diagnostic(injected)


async def test_bounce_of_our_reply_marks_it_failed_on_the_case(
    runtime: Runtime, gateway: RunningGateway, mta: FakeMTA
) -> None:
    token = await seed_case(runtime)
    await send_in(gateway, family_mail("<first@example.org>"))
    reply_id = await reply_via_api(runtime, gateway, token, "Vi ringer deg i morgen.")
    while await runtime.relay.run_once():
        pass
    async with runtime.db.read() as s:
        reply = await s.get(Msg, reply_id)
        assert reply is not None and reply.status == "sent"
        our_id = reply.email_message_id
        outbound_before = (
            await s.execute(select(func.count()).select_from(Msg).where(Msg.direction == "out"))
        ).scalar_one()
    assert our_id
    bounce = dsn(our_id)
    for _ in range(2):  # Postfix may deliver the same report twice: stored once, marked once
        refused = await asyncio.to_thread(
            deliver, smtp_port(gateway), bounce, sender="", rcpts=[SERVICE]
        )
        assert refused == {}
        await processed(gateway)
    while await runtime.relay.run_once():
        pass
    async with runtime.db.read() as s:
        reply = await s.get(Msg, reply_id)
        stored = (
            (await s.execute(select(Msg).where(Msg.email_message_id == "<dsn-1@mx.example.org>")))
            .scalars()
            .all()
        )
        items = (
            (await s.execute(select(QueueItem).where(QueueItem.message_id == reply_id)))
            .scalars()
            .all()
        )
        bounced_events = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action == "message.bounced")))
            .scalars()
            .all()
        )
        outbound_after = (
            await s.execute(select(func.count()).select_from(Msg).where(Msg.direction == "out"))
        ).scalar_one()
    assert reply is not None and reply.status == "failed"
    assert reply.error_code == "bounced" and reply.error_text == DIAGNOSTIC
    assert (
        len(stored) == 1 and stored[0].flags.get("machine_mail") and stored[0].flags.get("bounce")
    )
    assert [i.owner_kind for i in items] == ["user"]
    assert items[0].reason == f"E-mail not delivered: {DIAGNOSTIC}"
    assert len(bounced_events) == 1 and bounced_events[0].subject == f"message:{reply_id}"
    assert outbound_after == outbound_before  # machine mail is never answered


async def test_bounce_naming_no_reply_of_ours_changes_nothing(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    refused = await asyncio.to_thread(
        deliver, smtp_port(gateway), dsn("<not-ours@elsewhere.example>"), sender="", rcpts=[SERVICE]
    )
    assert refused == {}
    await processed(gateway)
    async with runtime.db.read() as s:
        events = (
            await s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "message.bounced")
            )
        ).scalar_one()
        msg = (await s.execute(select(Msg).where(Msg.direction == "in"))).scalar_one()
        outbound = (
            await s.execute(select(func.count()).select_from(Msg).where(Msg.direction == "out"))
        ).scalar_one()
    assert events == 0 and msg.flags.get("machine_mail") and outbound == 0
    assert mark_bounced_replies in runtime.intake.hooks


def authenticated_mail(msg_id: str, *headers: str) -> bytes:
    head = "".join(f"Authentication-Results: {h}\r\n" for h in headers)
    return (
        f"{head}From: Kari Nordmann <{PARENT_EMAIL}>\r\nTo: {SERVICE}\r\nSubject: Møte\r\n"
        f"Message-ID: {msg_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hei, vi kommer torsdag.\r\n"
    ).encode()


TRUSTED_FAIL = f"{AUTHSERV}; spf=pass smtp.mailfrom=example.org; dkim=fail header.d=example.org; dmarc=fail header.from=example.org"
FORGED_FAIL = "evil.example; dkim=fail; dmarc=fail header.from=example.org"
FORGED_PASS = "evil.example; dkim=pass header.d=example.org; dmarc=pass header.from=example.org"


@pytest.mark.parametrize(
    ("policy", "headers", "attached", "flagged"),
    [
        ("triage", (TRUSTED_FAIL,), False, True),
        ("flag", (TRUSTED_FAIL,), True, True),
        ("triage", (FORGED_FAIL,), True, False),  # anyone can write that header: ignored
        ("triage", (FORGED_PASS, TRUSTED_FAIL), False, True),  # a forged pass cannot help
    ],
)
async def test_authentication_results_only_from_our_authserv_id(
    db_url: str,
    mta: FakeMTA,
    policy: str,
    headers: tuple[str, ...],
    attached: bool,
    flagged: bool,
) -> None:
    settings = mail_settings(db_url, mta.port, email={"dmarc_fail_policy": policy})
    async with mail_gateway(settings) as (rt, gw):
        await seed_case(rt)
        refused = await asyncio.to_thread(
            deliver,
            smtp_port(gw),
            authenticated_mail("<auth-1@example.org>", *headers),
            sender=PARENT_EMAIL,
        )
        assert refused == {}
        await processed(gw)
        async with rt.db.read() as s:
            msg = (await s.execute(select(Msg).where(Msg.direction == "in"))).scalar_one()
    assert (msg.case_id is not None) is attached
    assert bool(msg.flags.get("sender_authentication_failed")) is flagged
    if not attached:
        assert msg.triage_reason == "sender authentication failed"


async def test_machine_mail_from_a_family_is_stored_but_never_answered(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)

    async def outbound() -> int:
        async with runtime.db.read() as s:
            return int(
                (
                    await s.execute(
                        select(func.count()).select_from(Msg).where(Msg.direction == "out")
                    )
                ).scalar_one()
            )

    vacation = (
        f"From: Kari Nordmann <{PARENT_EMAIL}>\r\nTo: {SERVICE}\r\n"
        "Subject: Automatisk svar: Møte\r\nAuto-Submitted: auto-replied\r\n"
        "X-Auto-Response-Suppress: All\r\nMessage-ID: <vacation@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nJeg er på ferie til 1. desember.\r\n"
    ).encode()
    assert await asyncio.to_thread(deliver, smtp_port(gateway), vacation, sender=PARENT_EMAIL) == {}
    await processed(gateway)
    async with runtime.db.read() as s:
        stored = (await s.execute(select(Msg).where(Msg.direction == "in"))).scalar_one()
    assert stored.case_id is not None and stored.flags.get("machine_mail")
    assert await outbound() == 0
    # Silent because it is machine mail (not because of office hours or a recent reply).
    decision = stored.flags["auto_reply_decision"]
    assert decision["kind"] is None and decision["reason"].startswith("machine mail")
