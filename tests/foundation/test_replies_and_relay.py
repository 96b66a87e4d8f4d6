"""Replies through the API, the outbox and the relay: sent once, retried, dead-lettered."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import select

from connectors.base import SendOutcome
from gateway.relay import Relay
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, Message, OutboxJob
from tests.conftest import RecordingSender
from tests.helpers import PARENT_PHONE, api, post_twilio, processed, seed_case, twilio_params


async def test_reply_is_queued_then_sent_once(
    runtime: Runtime, gateway: RunningGateway, sms_sender: RecordingSender
) -> None:
    token = await seed_case(runtime)
    await post_twilio(gateway.web_port, twilio_params(body="Hei"))
    await processed(gateway)
    status, body = await api(
        gateway.web_port,
        "POST",
        "/api/v1/cases/2026-0412/replies",
        token,
        {"body": "Takk, vi ringer i morgen."},
    )
    assert status == 202, body
    assert body["channel"] == "sms" and body["segments"] == 1
    assert sms_sender.sent == []  # nothing is sent by the API itself
    assert await runtime.relay.run_once() == 1
    assert await runtime.relay.run_once() == 0
    assert [(e.to, e.body) for e in sms_sender.sent] == [
        (PARENT_PHONE, "Takk, vi ringer i morgen.")
    ]
    async with runtime.db.read() as s:
        msg = await s.get(Message, body["message_id"])
        actions = (
            (await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))).scalars().all()
        )
    assert msg is not None and msg.status == "sent" and msg.provider_id
    assert "message.reply_queued" in actions and "message.sent" in actions


async def test_dry_run_counts_segments_and_writes_nothing(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    token = await seed_case(runtime)
    await post_twilio(gateway.web_port, twilio_params())
    await processed(gateway)
    status, body = await api(
        gateway.web_port,
        "POST",
        "/api/v1/cases/2026-0412/replies",
        token,
        {"body": "Hei 👋 " + "a" * 70, "dry_run": True},
    )
    assert status == 200
    assert (body["segments"], body["encoding"], body["message_id"]) == (2, "UCS-2", None)
    async with runtime.db.read() as s:
        assert (await s.execute(select(OutboxJob))).first() is None


async def test_temporary_failures_retry_then_succeed(
    runtime: Runtime, gateway: RunningGateway, sms_sender: RecordingSender
) -> None:
    token = await seed_case(runtime)
    await post_twilio(gateway.web_port, twilio_params())
    await processed(gateway)
    sms_sender.script = [SendOutcome(False, error_code="20429", error_text="too many requests")] * 2
    await api(gateway.web_port, "POST", "/api/v1/cases/2026-0412/replies", token, {"body": "Hei"})
    for _ in range(3):
        await runtime.relay.run_once()
    assert len(sms_sender.sent) == 3
    async with runtime.db.read() as s:
        job = (await s.execute(select(OutboxJob))).scalar_one()
    assert (job.state, job.attempts) == ("sent", 3)


async def test_permanent_failure_is_dead_lettered_with_reason_on_the_message(
    runtime: Runtime, gateway: RunningGateway, sms_sender: RecordingSender
) -> None:
    token = await seed_case(runtime)
    await post_twilio(gateway.web_port, twilio_params())
    await processed(gateway)
    sms_sender.script = [
        SendOutcome(False, permanent=True, error_code="21211", error_text="invalid number")
    ]
    await api(gateway.web_port, "POST", "/api/v1/cases/2026-0412/replies", token, {"body": "Hei"})
    await runtime.relay.run_once()
    await runtime.relay.run_once()
    assert len(sms_sender.sent) == 1
    _, thread = await api(gateway.web_port, "GET", "/api/v1/cases/2026-0412/messages", token)
    out = next(m for m in thread["messages"] if m["direction"] == "out")
    assert (out["status"], out["error"]) == ("failed", "invalid number")


async def test_reply_refused_without_consent(runtime: Runtime, gateway: RunningGateway) -> None:
    token = await seed_case(runtime, consent=False)
    await post_twilio(gateway.web_port, twilio_params())
    await processed(gateway)
    status, body = await api(
        gateway.web_port, "POST", "/api/v1/cases/2026-0412/replies", token, {"body": "Hei"}
    )
    assert status == 409 and body["error"]["code"] == "no_consent"


async def test_api_rejects_bad_input_clearly(runtime: Runtime, gateway: RunningGateway) -> None:
    token = await seed_case(runtime)
    status, body = await api(
        gateway.web_port, "POST", "/api/v1/cases/2026-0412/replies", token, {"body": "x", "bcc": 1}
    )
    assert status == 400 and "bcc" in body["error"]["message"]
    status, body = await api(gateway.web_port, "GET", "/api/v1/queue", "not-a-token")
    assert status == 401
    status, body = await api(
        gateway.web_port, "POST", "/api/v1/cases/1999-0001/replies", token, {"body": "x"}
    )
    assert status == 404


async def test_two_workers_send_each_job_once(
    db_url: str, runtime: Runtime, gateway: RunningGateway, sms_sender: RecordingSender
) -> None:
    token = await seed_case(runtime)
    await post_twilio(gateway.web_port, twilio_params())
    await processed(gateway)
    for i in range(12):
        status, _ = await api(
            gateway.web_port,
            "POST",
            "/api/v1/cases/2026-0412/replies",
            token,
            {"body": f"svar {i}"},
        )
        assert status == 202
    settings = replace(runtime.settings, relay=replace(runtime.settings.relay, batch_size=3))
    workers = [Relay(runtime.db, runtime.keyring, {"sms": sms_sender}, settings) for _ in range(2)]

    async def drain(relay: Relay) -> None:
        while await relay.run_once():
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(w) for w in workers))
    bodies = sorted(e.body for e in sms_sender.sent)
    assert bodies == sorted(f"svar {i}" for i in range(12))


async def test_email_reply_keeps_the_familys_subject_not_our_case_number(
    runtime: Runtime, gateway: RunningGateway, email_sender: RecordingSender
) -> None:
    from tests.foundation.test_email_intake import SERVICE, mail, smtp_session

    token = await seed_case(runtime)
    out = await asyncio.to_thread(smtp_session, gateway.smtp_port, [SERVICE], mail())
    assert out["data"][0] == 250  # type: ignore[index]
    await processed(gateway)
    status, _ = await api(
        gateway.web_port,
        "POST",
        "/api/v1/cases/2026-0412/replies",
        token,
        {"body": "Det passer fint.", "channel": "email"},
    )
    assert status == 202
    await runtime.relay.run_once()
    [sent] = email_sender.sent
    assert sent.subject == "Re: Møte"
    assert "2026-0412" not in sent.subject
    assert sent.in_reply_to == "<m1@example.org>"
    assert sent.reply_to is not None and sent.reply_to.startswith("case.")
