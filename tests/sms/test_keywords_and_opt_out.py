"""STOP / START / HELP from a family, end to end: consent, audit, one answer, the case."""

from __future__ import annotations

import pytest

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Contact, Message, QueueItem
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import PARENT_PHONE, api, post_twilio, processed, seed_case, twilio_params
from tests.sms.support import audit_actions, drain_relay, rows

REPLIES = "/api/v1/cases/2026-0412/replies"


async def text(gw: RunningGateway, body: str, n: int, **extra: str) -> None:
    """A family's text, answered 200 and then filed."""
    sid = f"SM{n:032d}"
    assert (await post_twilio(gw.web_port, twilio_params(sid=sid, body=body, **extra)))[0] == 200
    await processed(gw)


async def contact(rt: Runtime) -> Contact:
    (row,) = await rows(rt, Contact)
    return row


async def answers(rt: Runtime, fake: FakeTwilio) -> list[str]:
    """Keyword confirmations the family got (sent through the outbox to the fake Twilio)."""
    await drain_relay(rt)
    ours = await rows(rt, Message, Message.direction == "out")
    keyword_ids = {m.id for m in ours if m.flags.get("keyword_reply")}
    return [
        r.form["Body"]
        for r in fake.sent()
        if int(r.form["StatusCallback"].rsplit("=", 1)[1]) in keyword_ids
    ]


@pytest.mark.parametrize("body", ["STOP", " stopp ", "Stoppa!", "AVSLUTT", "afmeld", "unsubscribe"])
async def test_stop_opts_out_answers_once_and_shows_on_the_case(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio, body: str
) -> None:
    await seed_case(runtime)
    await text(gateway, body, 1)
    assert (await contact(runtime)).opted_out_sms is True
    assert "contact.sms_opted_out" in await audit_actions(runtime)
    sent = await answers(runtime, fake_twilio)
    assert len(sent) == 1 and sent[0].startswith("Du er meldt av")  # the contact's language: nb
    (inbound,) = await rows(runtime, Message, Message.direction == "in")
    assert inbound.flags["sms_keyword"] == "stop" and inbound.flags["sms_opted_out"] is True
    items = await rows(runtime, QueueItem, QueueItem.message_id == inbound.id)
    assert items and all("can no longer be reached by SMS" in i.reason for i in items)
    # A second STOP changes nothing and is not answered again.
    await text(gateway, "STOP", 2)
    assert len(await answers(runtime, fake_twilio)) == 1


async def test_confirmation_uses_the_contacts_language(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    await seed_case(runtime)
    async with runtime.db.transaction() as tx:
        row = await tx.session.get(Contact, (await contact(runtime)).id)
        assert row is not None
        row.language = "en"
        tx.audit("test", "contact.updated", f"contact:{row.id}")
    await text(gateway, "STOP", 1)
    assert (await answers(runtime, fake_twilio))[0].startswith("You are unsubscribed")


@pytest.mark.parametrize(
    "body", ["stop hitting my son", "Kan dere stoppe dette?", "STOP STOP please", "help me"]
)
async def test_a_keyword_inside_a_message_is_just_a_message(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio, body: str
) -> None:
    await seed_case(runtime)
    await text(gateway, body, 1)
    assert (await contact(runtime)).opted_out_sms is False
    (inbound,) = await rows(runtime, Message, Message.direction == "in")
    assert "sms_keyword" not in inbound.flags
    assert await answers(runtime, fake_twilio) == []


async def test_start_opts_back_in_and_replies_work_again(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    token = await seed_case(runtime)
    await text(gateway, "STOP", 1)
    status, body = await api(gateway.web_port, "POST", REPLIES, token, {"body": "Hei"})
    assert status == 409 and body["error"]["code"] == "opted_out"
    assert "opted out of SMS" in body["error"]["message"]
    await text(gateway, "START", 2)
    assert (await contact(runtime)).opted_out_sms is False
    assert "contact.sms_opted_in" in await audit_actions(runtime)
    sent = await answers(runtime, fake_twilio)
    assert len(sent) == 2 and sent[1].startswith("Du er meldt på igjen")
    status, body = await api(gateway.web_port, "POST", REPLIES, token, {"body": "Hei"})
    assert status == 202, body


async def test_help_is_answered_and_changes_nothing(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    await seed_case(runtime)
    await text(gateway, "hjelp", 1)
    assert (await contact(runtime)).opted_out_sms is False
    (sent,) = await answers(runtime, fake_twilio)
    assert "112" in sent


async def test_stop_handled_by_twilio_is_recorded_but_not_answered_twice(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    await seed_case(runtime)
    await text(gateway, "STOP", 1, OptOutType="STOP")
    assert (await contact(runtime)).opted_out_sms is True
    assert await answers(runtime, fake_twilio) == []


async def test_stop_from_a_number_on_two_cases_opts_out_both_contacts(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    await seed_case(runtime)
    await seed_case(runtime, ref="2026-0999", with_worker=False)
    await text(gateway, "STOP", 1)
    contacts = await rows(runtime, Contact)
    assert [c.phone for c in contacts] == [PARENT_PHONE, PARENT_PHONE]
    assert all(c.opted_out_sms for c in contacts)
    assert len(await answers(runtime, fake_twilio)) == 1


async def test_a_reply_of_1601_characters_is_refused_with_a_clear_error(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    token = await seed_case(runtime)
    await text(gateway, "Hei", 1)
    status, body = await api(
        gateway.web_port, "POST", REPLIES, token, {"body": "a" * 1601, "dry_run": True}
    )
    assert status == 422
    assert body["error"]["code"] == "sms_too_long"
    assert "1601 characters" in body["error"]["message"] and "1600" in body["error"]["message"]
    status, body = await api(gateway.web_port, "POST", REPLIES, token, {"body": "a" * 1601})
    assert status == 422
    status, body = await api(
        gateway.web_port, "POST", REPLIES, token, {"body": "a" * 1600, "dry_run": True}
    )
    assert status == 200 and body["segments"] == 11


async def test_stop_from_a_blocked_sender_is_honoured_but_not_answered(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    from gateway.storage.db import utcnow
    from gateway.storage.models import BlockedSender

    await seed_case(runtime)
    async with runtime.db.transaction() as tx:
        tx.session.add(
            BlockedSender(
                address=PARENT_PHONE, reason="threats", blocked_by="lead", created_at=utcnow()
            )
        )
        tx.audit("test", "sender.blocked", "sender")
    await text(gateway, "STOP", 1)
    assert (await contact(runtime)).opted_out_sms is True
    assert await answers(runtime, fake_twilio) == []


async def test_failed_stop_confirmation_does_not_queue_work_for_the_caseworker(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    await seed_case(runtime)
    await drain_relay(runtime)
    fake_twilio.fail_next(400, 21610)  # Twilio's own STOP handling blocked the number already
    await text(gateway, "STOP", 1)
    await drain_relay(runtime)
    (confirmation,) = [
        m
        for m in await rows(runtime, Message, Message.direction == "out")
        if m.flags.get("keyword_reply")
    ]
    assert confirmation.status == "failed"
    assert await rows(runtime, QueueItem, QueueItem.message_id == confirmation.id) == []
