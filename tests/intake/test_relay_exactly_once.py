"""Replies reach the family exactly once, even when Twilio's answers get lost.

The fake Twilio here does not honour the idempotency header (Twilio does not document that it
does), so every request it accepts is a message to the family: "sent twice" is counted by what
the fake accepted for each of our messages (its StatusCallback marker).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from connectors.twilio_rest import TwilioSmsSender
from gateway.relay import Relay
from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.settings import Settings
from gateway.storage.models import Contact, Message, OutboxJob, QueueItem
from tests.conftest import make_settings
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import seed_case

ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token-0123456789abcdef"
KEYRING = parse_keys(new_key_line("relay"))  # shared: every relay opens the same sealed replies


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    twilio = FakeTwilio(ACCOUNT, TOKEN, honour_idempotency=False)
    await twilio.start()
    yield twilio
    await twilio.stop()


@pytest.fixture
def settings(db_url: str, fake: FakeTwilio) -> Settings:
    return make_settings(
        db_url,
        twilio={"api_base_url": fake.base_url, "max_per_second": 10_000.0},
        relay={"lease_seconds": 30.0, "max_attempts": 30},
    )


async def make_runtime(settings: Settings, *, timeout: float = 0.3) -> Runtime:
    sender = TwilioSmsSender(settings, timeout=timeout)
    return build_runtime(settings, senders={"sms": sender}, keyring=KEYRING)


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await make_runtime(settings)
    await runtime.db.migrate()
    await seed_case(runtime)
    yield runtime
    await runtime.close()


async def queue_replies(rt: Runtime, n: int) -> list[int]:
    async with rt.db.read() as s:
        contact_id = (await s.execute(select(Contact.id))).scalars().first()
    ids = []
    for i in range(n):
        result = await rt.replies.reply(
            actor="ola@barnevern.example.no",
            author_id=None,
            case_ref="2026-0412",
            body=f"Svar nummer {i}: vi ringer deg i morgen.",
            channel="sms",
            contact_id=contact_id,
        )
        ids.append(result.message_id)
    return ids


async def jobs(rt: Runtime) -> dict[int, OutboxJob]:
    async with rt.db.read() as s:
        return {j.message_id: j for j in (await s.execute(select(OutboxJob))).scalars()}


async def drain(*relays: Relay, rounds: int = 200) -> None:
    """Run the relays side by side until nothing is due (backoff is 0 in tests)."""
    for _ in range(rounds):
        done = await asyncio.gather(*(r.run_once() for r in relays))
        if sum(done) == 0:
            return
    raise AssertionError("the relays never finished")


@pytest.mark.parametrize("stall", [1.0, 0.0], ids=["answer-times-out", "connection-reset"])
async def test_an_accepted_send_whose_answer_was_lost_is_not_sent_again(
    rt: Runtime, fake: FakeTwilio, stall: float
) -> None:
    (reply_id,) = await queue_replies(rt, 1)
    fake.lose_answer_next(stall=stall)
    assert await rt.relay.run_once() == 1
    job = (await jobs(rt))[reply_id]
    assert job.state == "pending" and job.unconfirmed_since is not None
    async with rt.db.read() as s:
        assert (await s.get(Message, reply_id)).status == "queued"  # type: ignore[union-attr]
    await drain(rt.relay)
    (accepted,) = fake.accepted_for(reply_id)
    job = (await jobs(rt))[reply_id]
    async with rt.db.read() as s:
        msg = await s.get(Message, reply_id)
    assert msg is not None and msg.status == "sent" and msg.provider_id == accepted.sid
    assert job.state == "sent" and job.unconfirmed_since is None
    assert len(fake.sent()) == 1  # asked, found, never posted again


async def test_a_send_that_never_reached_twilio_is_sent_after_checking(
    rt: Runtime, fake: FakeTwilio
) -> None:
    (reply_id,) = await queue_replies(rt, 1)
    fake.fail_next(500, stall=1.0)  # no answer in time, and nothing accepted
    await rt.relay.run_once()
    assert (await jobs(rt))[reply_id].unconfirmed_since is not None
    await drain(rt.relay)
    assert len(fake.accepted_for(reply_id)) == 1
    assert (await jobs(rt))[reply_id].state == "sent"


async def test_a_job_whose_relay_died_mid_send_is_settled_not_resent(
    settings: Settings, rt: Runtime, fake: FakeTwilio
) -> None:
    (reply_id,) = await queue_replies(rt, 1)
    short = replace(settings, relay=replace(settings.relay, lease_seconds=0.2))
    dying = await make_runtime(short)
    try:
        (claimed,) = await dying.relay.claim()
        outcome = await dying.relay._send(claimed)  # Twilio accepts it ...
        assert outcome.ok  # ... and the process dies before recording that
    finally:
        await dying.close()
    await asyncio.sleep(0.3)  # its lease runs out
    await drain(rt.relay)
    assert len(fake.accepted_for(reply_id)) == 1
    assert (await jobs(rt))[reply_id].state == "sent"


async def test_a_slow_send_keeps_its_lease_so_no_other_relay_takes_it(
    settings: Settings, fake: FakeTwilio
) -> None:
    short = replace(settings, relay=replace(settings.relay, lease_seconds=0.3))
    first = await make_runtime(short, timeout=5.0)
    second = await make_runtime(short, timeout=5.0)
    await first.db.migrate()
    await seed_case(first)
    try:
        (reply_id,) = await queue_replies(first, 1)
        fake.latency = 1.0  # three leases long
        sending = asyncio.create_task(first.relay.run_once())
        await asyncio.sleep(0.5)
        assert await second.relay.run_once() == 0  # the lease was renewed: not due
        assert await sending == 1
        fake.latency = 0.0
        await drain(first.relay, second.relay)
    finally:
        await first.close()
        await second.close()
    assert len(fake.accepted_for(reply_id)) == 1


async def test_two_relays_and_a_failing_twilio_send_nothing_twice(
    settings: Settings, rt: Runtime, fake: FakeTwilio
) -> None:
    other = await make_runtime(settings)
    ids = await queue_replies(rt, 40)
    fake.chaos(0.5, stall=0.6)
    try:
        await drain(rt.relay, other.relay, rounds=400)
    finally:
        await other.close()
    fake.chaos(0.0)
    states = await jobs(rt)
    twice = [i for i in ids if len(fake.accepted_for(i)) > 1]
    assert twice == []
    for i in ids:
        accepted = fake.accepted_for(i)
        if states[i].state == "sent":
            assert len(accepted) == 1
        else:  # failed for good: never one Twilio accepted, and shown on the case
            assert states[i].state == "dead" and accepted == []
    dead = [i for i in ids if states[i].state == "dead"]
    async with rt.db.read() as s:
        shown = set(
            (
                await s.execute(
                    select(QueueItem.message_id).where(QueueItem.reason.like("SMS not sent%"))
                )
            ).scalars()
        )
    assert set(dead) <= shown
    assert len(fake.sent()) > len(ids)  # the chaos really happened


async def test_stopping_finishes_the_send_in_flight_and_hands_the_rest_back(
    settings: Settings, fake: FakeTwilio
) -> None:
    one_at_a_time = replace(settings, relay=replace(settings.relay, concurrency=1))
    rt = await make_runtime(one_at_a_time, timeout=5.0)
    await rt.db.migrate()
    await seed_case(rt)
    try:
        ids = await queue_replies(rt, 3)
        fake.latency = 0.5
        sending = asyncio.create_task(rt.relay.run_once())
        await asyncio.sleep(0.25)  # the first send is in flight
        rt.relay.stopping.set()  # SIGTERM
        assert await sending == 3
        fake.latency = 0.0
        states = await jobs(rt)
    finally:
        await rt.close()
    assert states[ids[0]].state == "sent" and len(fake.accepted_for(ids[0])) == 1
    for i in ids[1:]:  # never started: due again at once, the attempt not counted
        assert (states[i].state, states[i].attempts, states[i].lease_owner) == ("pending", 0, None)
        assert fake.accepted_for(i) == []
