"""Twilio delivery status callbacks: recorded payloads, ordering, dedupe, errors, opt-out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Contact, QueueItem, SmsStatusEvent
from tests.helpers import post_twilio, seed_case
from tests.sms.conftest import load_fixtures
from tests.sms.support import audit_actions, count, drain_relay, message, queued_reply, rows

STATUS = load_fixtures("status_")


async def sent_reply(runtime: Runtime, gateway: RunningGateway) -> tuple[int, str]:
    token = await seed_case(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token)
    await drain_relay(runtime)
    msg = await message(runtime, reply_id)
    assert msg.status == "sent" and msg.provider_id
    return reply_id, str(msg.provider_id)


async def callback(
    port: int, fixture: dict[str, Any], sid: str, message_id: int | None
) -> tuple[int, str]:
    params = dict(fixture["params"], MessageSid=sid, SmsSid=sid)
    path = "/webhooks/twilio/status" + (f"?message={message_id}" if message_id else "")
    return await post_twilio(port, params, path=path)


@pytest.mark.parametrize("name", sorted(STATUS))
async def test_recorded_status_callback_updates_the_message(
    runtime: Runtime, gateway: RunningGateway, name: str
) -> None:
    expect = STATUS[name]["expect"]
    reply_id, sid = await sent_reply(runtime, gateway)
    status, _ = await callback(gateway.web_port, STATUS[name], sid, reply_id)
    assert status == 204
    msg = await message(runtime, reply_id)
    # "queued" is older than the relay's "sent": statuses only move forward.
    assert msg.status == ("sent" if expect["status"] == "queued" else expect["status"])
    assert msg.error_code == expect.get("error_code")
    if "error_contains" in expect:
        assert expect["error_contains"] in msg.error_text
    items = await rows(runtime, QueueItem, QueueItem.message_id == reply_id)
    assert bool(items) is bool(expect.get("queued"))
    if items:
        assert items[0].owner_kind == "user" and items[0].reason.startswith("SMS not delivered")
    (contact,) = await rows(runtime, Contact)
    assert contact.opted_out_sms is bool(expect.get("opted_out"))
    if expect.get("opted_out"):
        assert "contact.sms_opted_out" in await audit_actions(runtime)
    assert await count(runtime, SmsStatusEvent) == 1


async def test_out_of_order_callbacks_only_move_forward(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    reply_id, sid = await sent_reply(runtime, gateway)
    for name in ("delivered", "sent", "queued"):
        assert (await callback(gateway.web_port, STATUS[name], sid, reply_id))[0] == 204
    assert (await message(runtime, reply_id)).status == "delivered"
    assert await count(runtime, SmsStatusEvent) == 3


async def test_same_callback_twice_is_recorded_once(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    reply_id, sid = await sent_reply(runtime, gateway)
    fixture = STATUS["undelivered_30003"]
    assert (await callback(gateway.web_port, fixture, sid, reply_id))[0] == 204
    assert (await callback(gateway.web_port, fixture, sid, reply_id))[0] == 204
    assert await count(runtime, SmsStatusEvent) == 1
    assert await count(runtime, QueueItem, QueueItem.message_id == reply_id) == 1


async def test_callback_found_by_sid_without_our_id(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    reply_id, sid = await sent_reply(runtime, gateway)
    assert (await callback(gateway.web_port, STATUS["delivered"], sid, None))[0] == 204
    assert (await message(runtime, reply_id)).status == "delivered"


async def test_callback_before_the_relay_recorded_the_sid(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    token = await seed_case(runtime)
    reply_id = await queued_reply(runtime, gateway.web_port, token)
    sid = "SM" + "9" * 32
    assert (await callback(gateway.web_port, STATUS["delivered"], sid, reply_id))[0] == 204
    msg = await message(runtime, reply_id)
    assert (msg.status, msg.provider_id) == ("delivered", sid)


async def test_unknown_sid_and_bad_input_get_clear_errors(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    fixture = STATUS["delivered"]
    status, body = await callback(gateway.web_port, fixture, "SM" + "0" * 32, None)
    assert status == 404 and "MessageSid" in body
    bad = dict(fixture["params"], MessageStatus="exploded")
    status, body = await post_twilio(gateway.web_port, bad, path="/webhooks/twilio/status")
    assert status == 400 and "MessageStatus" in body
    missing = {k: v for k, v in fixture["params"].items() if k != "MessageStatus"}
    status, body = await post_twilio(gateway.web_port, missing, path="/webhooks/twilio/status")
    assert status == 400 and "MessageStatus" in body
    status, _ = await post_twilio(
        gateway.web_port, fixture["params"], path="/webhooks/twilio/status", signature="eA=="
    )
    assert status == 403


async def test_concurrent_duplicate_callbacks_record_one_row(pg_url: str, fake_twilio: Any) -> None:
    from connectors.twilio_rest import TwilioSmsSender
    from gateway.runtime import build_runtime
    from gateway.sealing import new_key_line, parse_keys
    from gateway.server import start_gateway
    from tests.conftest import make_settings

    settings = make_settings(
        pg_url, twilio={"api_base_url": fake_twilio.base_url, "max_per_second": 1000.0}
    )
    sender = TwilioSmsSender(settings)
    rt = build_runtime(settings, senders={"sms": sender}, keyring=parse_keys(new_key_line("t")))
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)
    try:
        reply_id, sid = await sent_reply(rt, gw)
        fixture = STATUS["undelivered_30005"]
        results = await asyncio.gather(
            *(callback(gw.web_port, fixture, sid, reply_id) for _ in range(10))
        )
        assert [status for status, _ in results] == [204] * 10
        assert await count(rt, SmsStatusEvent) == 1
        assert await count(rt, QueueItem, QueueItem.message_id == reply_id) == 1
    finally:
        await gw.stop()
        await sender.close()
