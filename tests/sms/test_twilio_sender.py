"""The relay's Twilio sender against the fake Twilio REST API on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.twilio_rest import IDEMPOTENCY_HEADER, SendRate, TwilioSmsSender
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Contact, OutboxJob, QueueItem
from tests.conftest import ACCOUNT_SID, PUBLIC_URL, SERVICE_NUMBER, TWILIO_TOKEN
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import PARENT_PHONE, seed_case
from tests.sms.support import audit_actions, drain_relay, message, queued_reply, rows


def to_family(fake: FakeTwilio, body: str) -> list[dict[str, str]]:
    return [r.form for r in fake.sent() if r.form.get("Body") == body]


async def test_reply_is_sent_from_our_number_with_callback_and_idempotency_key(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    token = await seed_case(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token, "Vi ringer deg i morgen.")
    await drain_relay(runtime)
    (request,) = [r for r in fake_twilio.sent() if r.form.get("Body") == "Vi ringer deg i morgen."]
    assert request.auth == (ACCOUNT_SID, TWILIO_TOKEN)
    assert request.form["To"] == PARENT_PHONE
    assert request.form["From"] == SERVICE_NUMBER
    assert "MessagingServiceSid" not in request.form
    assert request.form["StatusCallback"] == (
        f"{PUBLIC_URL}/webhooks/twilio/status?message={reply_id}"
    )
    async with runtime.db.read() as s:
        job = (
            await s.execute(OutboxJob.__table__.select().where(OutboxJob.message_id == reply_id))
        ).one()
    assert request.headers[IDEMPOTENCY_HEADER] == job.idempotency_key
    msg = await message(runtime, reply_id)
    assert msg.status == "sent" and msg.provider_id == fake_twilio.by_token[job.idempotency_key]


async def test_messaging_service_is_used_instead_of_the_number(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio, sms_sender: TwilioSmsSender
) -> None:
    service = "MG" + "e" * 32
    sms_sender.settings = replace(
        sms_sender.settings,
        twilio=replace(sms_sender.settings.twilio, messaging_service_sid=service),
    )
    token = await seed_case(runtime)
    await queued_reply(runtime, gateway.web_port, token, "Fra tjenesten.")
    await drain_relay(runtime)
    (form,) = to_family(fake_twilio, "Fra tjenesten.")
    assert form["MessagingServiceSid"] == service and "From" not in form


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, None), (503, 20503), (429, None), (429, 20429)],
    ids=["500", "503", "429", "20429"],
)
async def test_temporary_failures_retry_with_the_same_idempotency_key(
    runtime: Runtime,
    gateway: RunningGateway,
    fake_twilio: FakeTwilio,
    status: int,
    code: int | None,
) -> None:
    token = await seed_case(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token, "Prøv igjen.")
    fake_twilio.fail_next(status, code)
    await runtime.relay.run_once()
    (job,) = await rows(runtime, OutboxJob, OutboxJob.message_id == reply_id)
    assert (job.state, job.attempts) == ("pending", 1)
    assert (await message(runtime, reply_id)).status == "queued"
    await drain_relay(runtime)
    attempts = [r for r in fake_twilio.sent() if r.form.get("Body") == "Prøv igjen."]
    assert len(attempts) == 2
    assert len({r.headers[IDEMPOTENCY_HEADER] for r in attempts}) == 1
    assert (await message(runtime, reply_id)).status == "sent"
    assert "message.send_retry" in await audit_actions(runtime)


async def test_timeout_is_retried(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio, sms_sender: TwilioSmsSender
) -> None:
    token = await seed_case(runtime)
    await drain_relay(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token, "Sakte svar.")
    sms_sender.http.timeout = 0.2
    fake_twilio.fail_next(500, stall=1.0)
    await runtime.relay.run_once()
    (job,) = await rows(runtime, OutboxJob, OutboxJob.message_id == reply_id)
    assert job.state == "pending" and "unreachable" in (job.last_error or "")


@pytest.mark.parametrize(
    ("code", "words", "opted_out"),
    [(21211, "not a valid number", False), (21610, "unsubscribed", True)],
    ids=["21211", "21610"],
)
async def test_permanent_failures_dead_letter_at_once_and_show_on_the_case(
    runtime: Runtime,
    gateway: RunningGateway,
    fake_twilio: FakeTwilio,
    code: int,
    words: str,
    opted_out: bool,
) -> None:
    token = await seed_case(runtime)
    await drain_relay(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token, "Dette kommer ikke fram.")
    fake_twilio.fail_next(400, code)
    await drain_relay(runtime)
    (job,) = await rows(runtime, OutboxJob, OutboxJob.message_id == reply_id)
    assert (job.state, job.attempts) == ("dead", 1)
    msg = await message(runtime, reply_id)
    assert msg.status == "failed" and msg.error_code == str(code) and words in msg.error_text
    (item,) = await rows(runtime, QueueItem, QueueItem.message_id == reply_id)
    assert item.owner_kind == "user" and item.state == "new"
    assert item.reason.startswith("SMS not sent:") and words in item.reason
    (contact,) = await rows(runtime, Contact)
    assert contact.opted_out_sms is opted_out


async def test_relay_refuses_a_queued_reply_when_the_family_opted_out_meanwhile(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    token = await seed_case(runtime)
    await drain_relay(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token, "For sent.")
    async with runtime.db.transaction() as tx:
        contact = (await tx.session.execute(Contact.__table__.select())).one()
        row = await tx.session.get(Contact, contact.id)
        assert row is not None
        row.opted_out_sms = True
        tx.audit("test", "contact.sms_opted_out", f"contact:{row.id}")
    await drain_relay(runtime)
    assert to_family(fake_twilio, "For sent.") == []
    msg = await message(runtime, reply_id)
    assert msg.status == "failed" and msg.error_code == "opted_out"
    assert "opted out of SMS" in msg.error_text
    (item,) = await rows(runtime, QueueItem, QueueItem.message_id == reply_id)
    assert "opted out of SMS" in item.reason


async def test_send_rate_paces_sends_per_number() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = SendRate(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await bucket.acquire()
    # One send at once, then one every half second: four sends had to wait.
    assert len(slept) == 4
    assert now[0] == pytest.approx(2.0)
    now[0] += 10.0  # idle time does not build up more than one send of credit
    await bucket.acquire()
    await bucket.acquire()
    assert len(slept) == 5
