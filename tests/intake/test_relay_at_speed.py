"""The relay at speed: lanes bounded by the concurrency, outcomes logged and counted per batch,
and the fast provider stand-in the benchmark sends to (``tests/fakes/twilio_messages.py``)
answering what the relay asks of Twilio, on a good day and a bad one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from connectors.base import OutboundEnvelope, SendOutcome
from connectors.twilio_rest import LOOKUP_PAGE, TwilioSmsSender
from gateway.metrics import SEND_ATTEMPTS
from gateway.runtime import Runtime
from gateway.storage.models import OutboxJob
from tests.conftest import make_settings
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.twilio_messages import MessagesApi, serve
from tests.helpers import seed_case
from tests.intake.test_relay_exactly_once import (
    ACCOUNT,
    TOKEN,
    drain,
    jobs,
    make_runtime,
    queue_replies,
)

FAMILY = "+4791234567"


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[MessagesApi, str]]:
    api = MessagesApi(ACCOUNT, TOKEN)
    server = await serve(api)
    yield api, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    twilio = FakeTwilio(ACCOUNT, TOKEN)
    await twilio.start()
    yield twilio
    await twilio.stop()


async def relay_runtime(db_url: str, fake: FakeTwilio, **relay: object) -> Runtime:
    settings = make_settings(
        db_url,
        twilio={"api_base_url": fake.base_url, "max_per_second": 10_000.0},
        relay=relay,
    )
    rt = await make_runtime(settings, timeout=5.0)
    await rt.db.migrate()
    await seed_case(rt)
    return rt


def envelope(message_id: int, body: str) -> OutboundEnvelope:
    return OutboundEnvelope(message_id, "sms", FAMILY, body, f"key-{message_id}")


async def test_the_stand_in_takes_sends_and_finds_them_again_page_by_page(
    db_url: str, stand_in: tuple[MessagesApi, str]
) -> None:
    api, base_url = stand_in
    settings = make_settings(db_url, twilio={"api_base_url": base_url, "max_per_second": 10_000.0})
    sender = TwilioSmsSender(settings, timeout=5.0)
    since = datetime.now(UTC) - timedelta(seconds=1)
    try:
        body = "Hei på deg & 100% = ja+nei?"
        first = await sender.send(envelope(1, body))
        for i in range(LOOKUP_PAGE + 10):  # the first one is now on the second page
            assert (await sender.send(envelope(100 + i, f"Svar {i}"))).ok
        assert first.ok and first.provider_id is not None
        (accepted, *_) = api.accepted
        assert (accepted.sid, accepted.to, accepted.body) == (first.provider_id, FAMILY, body)
        assert accepted.status_callback.endswith("/webhooks/twilio/status?message=1")
        assert accepted.from_ == settings.twilio.from_number
        assert await sender.find_sent(envelope(1, body), since, frozenset()) == first.provider_id
        assert await sender.find_sent(envelope(1, "never sent"), since, frozenset()) is None
        fetched = await sender.client.messages(first.provider_id).fetch_async()
        assert fetched.body == body
        wrong = replace(settings, twilio=replace(settings.twilio, auth_token="not-the-token"))
        refused = TwilioSmsSender(wrong, timeout=5.0)
        try:
            outcome = await refused.send(envelope(2, "x"))
        finally:
            await refused.close()
        assert (outcome.ok, outcome.error_code) == (False, "20003")
    finally:
        await sender.close()
    assert api.sends == LOOKUP_PAGE + 11  # the refused one never reached the Messages list


def test_the_stand_in_reads_forms_as_urlencoded() -> None:
    api = MessagesApi(ACCOUNT, TOKEN)
    body = b"To=%2B4791234567&Body=Hei+p%C3%A5+deg+%26+100%25&StatusCallback=https%3A%2F%2Fx%2Fs%3Fmessage%3D3"
    answer = api.answer("POST", f"{api.base}.json", api.authorization, body)
    assert answer.status == 201
    (accepted,) = api.accepted
    form = dict(parse_qsl(body.decode()))
    assert (accepted.to, accepted.body, accepted.status_callback) == (
        form["To"],
        form["Body"],
        form["StatusCallback"],
    )


def test_on_a_bad_day_the_stand_in_fails_every_way_the_relay_must_survive() -> None:
    api = MessagesApi(ACCOUNT, TOKEN, chaos_rate=0.5, chaos_random=random.Random(3))
    body = b"To=%2B4791234567&Body=x&StatusCallback=cb"
    answers = [api.answer("POST", f"{api.base}.json", api.authorization, body) for _ in range(400)]
    errors = [a for a in answers if a.status >= 500 or a.status == 429]
    resets = [a for a in answers if a.reset]
    stalled = [a for a in answers if a.stall and a.status == 201]
    assert errors and resets and stalled
    # A reset after acceptance loses the answer to a message that was created.
    assert len(api.accepted) > len([a for a in answers if a.status == 201])
    lookups = [
        api.answer("GET", f"{api.base}.json?To=x", api.authorization, b"") for _ in range(40)
    ]
    assert {a.status for a in lookups} == {200, 503}


async def test_two_relays_against_the_stand_in_on_a_bad_day_send_nothing_twice(
    db_url: str, stand_in: tuple[MessagesApi, str]
) -> None:
    api, base_url = stand_in
    settings = make_settings(
        db_url,
        twilio={"api_base_url": base_url, "max_per_second": 10_000.0},
        relay={"lease_seconds": 30.0, "max_attempts": 30},
    )
    first, second = await make_runtime(settings), await make_runtime(settings)
    await first.db.migrate()
    await seed_case(first)
    try:
        ids = await queue_replies(first, 30)
        api.chaos_rate, api.chaos_stall = 0.5, 0.6
        await drain(first.relay, second.relay, rounds=400)
        states = await jobs(first)
    finally:
        await first.close()
        await second.close()
    per_message = {i: [a for a in api.accepted if a.status_callback.endswith(f"={i}")] for i in ids}
    assert all(len(found) <= 1 for found in per_message.values())
    for i in ids:
        assert (states[i].state, len(per_message[i])) in {("sent", 1), ("dead", 0)}
    assert api.sends > len(ids)  # the bad day really happened


async def test_sends_in_flight_never_exceed_the_concurrency_and_later_batches_join(
    db_url: str, fake: FakeTwilio
) -> None:
    rt = await relay_runtime(db_url, fake, concurrency=3, batch_size=4)
    sender = rt.relay.senders["sms"]
    out = 0
    most = 0
    send = sender.send

    async def counted(envelope: OutboundEnvelope) -> SendOutcome:
        nonlocal out, most
        out += 1
        most = max(most, out)
        try:
            await asyncio.sleep(0.01)  # each send takes a moment, so several are out at once
            return await send(envelope)
        finally:
            out -= 1

    sender.send = counted  # type: ignore[method-assign]
    try:
        ids = await queue_replies(rt, 14)
        assert await rt.relay.run_once(batches=10) == 14  # four batches in one pass
        states = await jobs(rt)
    finally:
        await rt.close()
    assert most == 3
    assert all(states[i].state == "sent" for i in ids)
    assert len(fake.sent()) == 14


async def test_each_sent_reply_is_logged_at_debug_and_counted_once_per_batch(
    db_url: str, fake: FakeTwilio
) -> None:
    rt = await relay_runtime(db_url, fake)
    try:
        ids = await queue_replies(rt, 5)
        before = SEND_ATTEMPTS.labels("sms", "sent")._value.get()
        with capture_logs() as logs:
            assert await rt.relay.run_once() == 5
        counted = SEND_ATTEMPTS.labels("sms", "sent")._value.get() - before
        async with rt.db.read() as s:
            sent = (
                await s.execute(select(OutboxJob.state).where(OutboxJob.message_id.in_(ids)))
            ).all()
    finally:
        await rt.close()
    assert counted == 5
    per_reply = [e for e in logs if e["event"] == "relay.outcome"]
    assert {e["log_level"] for e in per_reply} == {"debug"} and len(per_reply) == 5
    above_debug = [e for e in logs if e["log_level"] != "debug"]
    assert sum(e.get("sms_sent", 0) for e in above_debug) == 5
    assert {e["event"] for e in above_debug} == {"relay.recorded"}
    assert {state for (state,) in sent} == {"sent"}
