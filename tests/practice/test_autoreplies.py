"""Which automatic reply each situation gets, end to end through the real webhook and SMTP server,
with an injected clock across time zones, daylight-saving changes and public holidays."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from gateway.core.hours import parse_office_hours
from gateway.settings import TeamSettings
from gateway.storage.models import AuditEvent, BlockedSender, Contact, Message, OutboxJob
from tests.helpers import (
    PARENT_EMAIL,
    PARENT_PHONE,
    post_twilio,
    processed,
    seed_case,
    twilio_params,
)
from tests.practice.conftest import (
    NORD_HOURS,
    Clock,
    Harness,
    HarnessFactory,
    practice_settings,
    send_email,
)

OSLO = ZoneInfo("Europe/Oslo")
UNKNOWN_PHONE = "+4798765432"
UNKNOWN_EMAIL = "ukjent@example.net"


def oslo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=OSLO)


# Tuesday 24 November 2026 (winter time, UTC+1).
OPEN = "2026-11-24T10:00"
EVENING = "2026-11-24T20:00"
SATURDAY = "2026-11-28T11:00"
ASCENSION_DAY = "2026-05-14T10:00"  # Kristi himmelfartsdag, a Thursday


@dataclass(frozen=True)
class Situation:
    name: str
    at: str
    channel: str
    who: str  # known | unknown | opted_out | blocked | machine
    body: str
    expected: str | None


SITUATIONS = [
    Situation("known SMS, first message, open", OPEN, "sms", "known", "Hei, vi kommer", "receipt"),
    Situation("known e-mail, first message, open", OPEN, "email", "known", "Hei", "receipt"),
    Situation("known SMS, evening", EVENING, "sms", "known", "Hei", "out_of_hours"),
    Situation("known e-mail, Saturday", SATURDAY, "email", "known", "Hei", "out_of_hours"),
    Situation("known SMS, Ascension Day", ASCENSION_DAY, "sms", "known", "Hei", "out_of_hours"),
    Situation("known SMS, day before", "2026-05-13T10:00", "sms", "known", "Hei", "receipt"),
    Situation("unknown SMS, open", OPEN, "sms", "unknown", "Hei", "unknown_sender"),
    Situation("unknown e-mail, open", OPEN, "email", "unknown", "Hei", "unknown_sender"),
    Situation("unknown e-mail, evening", EVENING, "email", "unknown", "Hei", "out_of_hours"),
    Situation("STOPP keyword", OPEN, "sms", "known", "Stopp", None),
    Situation("opted-out SMS contact", OPEN, "sms", "opted_out", "Hei igjen", None),
    Situation("opted-out SMS contact, evening", EVENING, "sms", "opted_out", "Hei", None),
    Situation("blocked sender", OPEN, "sms", "blocked", "Hei", None),
    Situation("named SMS sender (cannot receive)", OPEN, "sms", "named", "Din kode", None),
    Situation("machine mail (auto-reply)", OPEN, "email", "machine", "Out of office", None),
    Situation("machine mail out of hours", EVENING, "email", "machine", "Out of office", None),
    # Spring forward on Sunday 29 March 2026: Monday 08:30 is 06:30 UTC.
    Situation("Monday 08:30 after spring forward", "2026-03-30T08:30", "sms", "known", "Hei", "receipt"),
    Situation("Friday 07:30 before spring forward", "2026-03-27T07:30", "sms", "known", "Hei", "out_of_hours"),
    # Fall back on Sunday 25 October 2026: Monday 08:00 is 07:00 UTC.
    Situation("Monday 07:30 after fall back", "2026-10-26T07:30", "sms", "known", "Hei", "out_of_hours"),
    Situation("Monday 08:00 after fall back", "2026-10-26T08:00", "sms", "known", "Hei", "receipt"),
    Situation("Sunday night of fall back", "2026-10-25T02:30", "sms", "known", "Hei", "out_of_hours"),
]  # fmt: skip


async def deliver(h: Harness, channel: str, sender: str, body: str, n: int, **kw: Any) -> None:
    if channel == "sms":
        status, _ = await post_twilio(
            h.web_port, twilio_params(sid=f"SM{n:032d}", sender=sender, body=body)
        )
        assert status == 200
        await processed(h.gateway)
    else:
        await send_email(h.smtp_port, sender=sender, body=body, msg_id=f"<m{n}@example.org>", **kw)
        await processed(h.gateway)


async def inbound_decision(h: Harness, n: int = -1) -> dict[str, Any]:
    async with h.runtime.db.read() as s:
        rows = (
            (await s.execute(select(Message).where(Message.direction == "in").order_by(Message.id)))
            .scalars()
            .all()
        )
    decision = rows[n].flags["auto_reply_decision"]
    assert isinstance(decision, dict)
    return decision


async def auto_replies(h: Harness) -> list[Message]:
    async with h.runtime.db.read() as s:
        rows = (
            (
                await s.execute(
                    select(Message).where(Message.direction == "out").order_by(Message.id)
                )
            )
            .scalars()
            .all()
        )
    # Keyword confirmations are the SMS keyword hook's, not ours.
    return [m for m in rows if m.flags.get("auto_reply") and not m.flags.get("keyword_reply")]


@pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: s.name)
async def test_which_auto_reply_each_situation_gets(
    situation: Situation, sqlite_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(situation.at))
    h = await harness_factory(practice_settings(sqlite_url), clock)
    await seed_case(h.runtime)
    sender = {
        "sms": {"unknown": UNKNOWN_PHONE, "named": "POSTEN"}.get(situation.who, PARENT_PHONE),
        "email": UNKNOWN_EMAIL if situation.who == "unknown" else PARENT_EMAIL,
    }[situation.channel]
    async with h.runtime.db.transaction() as tx:
        if situation.who == "opted_out":
            await tx.session.execute(update(Contact).values(opted_out_sms=True))
        if situation.who == "blocked":
            tx.session.add(
                BlockedSender(address=sender, reason="test", blocked_by="t", created_at=clock())
            )
    headers = {"Auto-Submitted": "auto-replied"} if situation.who == "machine" else None
    await deliver(h, situation.channel, sender, situation.body, 1, headers=headers)

    decision = await inbound_decision(h)
    assert decision["kind"] == situation.expected, decision["reason"]
    replies = await auto_replies(h)
    assert len(replies) == (1 if situation.expected else 0)
    await h.runtime.relay.run_once()
    sent = h.sms.sent if situation.channel == "sms" else h.email.sent
    ours = [e for e in sent if e.auto_reply and e.message_id in {m.id for m in replies}]
    assert len(ours) == len(replies)
    if not ours:
        return
    envelope = ours[0]
    assert envelope.to == sender
    if situation.expected == "out_of_hours":
        assert "112 eller barnevernvakten 22 34 90 90" in envelope.body
        assert "man-fre 08.00-15.30" in envelope.body
    if situation.channel == "email":
        assert envelope.subject  # the template's Subject: line
    async with h.runtime.db.read() as s:
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert "message.auto_reply_queued" in actions
    assert "message.auto_reply_decided" in actions


async def test_one_auto_reply_per_sender_and_conversation_per_period(
    db_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(EVENING))
    settings = practice_settings(db_url, practice={"min_reply_interval_minutes": 720})
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    await deliver(h, "sms", PARENT_PHONE, "Hei", 1)
    clock.advance(minutes=30)
    await deliver(h, "sms", PARENT_PHONE, "Er dere der?", 2)
    assert (await inbound_decision(h))["kind"] is None
    assert "within the period" in (await inbound_decision(h))["reason"]
    # Next morning, 14 hours later and in opening hours: the conversation goes on, no receipt.
    clock.advance(hours=14)
    await deliver(h, "sms", PARENT_PHONE, "Hei igjen", 3)
    assert (await inbound_decision(h))["reason"] == "ongoing conversation: no receipt needed"
    # A week later (Wednesday, open) a new conversation starts with a receipt.
    clock.advance(days=7)
    await deliver(h, "sms", PARENT_PHONE, "Ny sak", 4)
    assert (await inbound_decision(h))["kind"] == "receipt"
    assert len(await auto_replies(h)) == 2


async def test_urgent_message_mid_conversation_gets_a_receipt(
    sqlite_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(OPEN))
    h = await harness_factory(
        practice_settings(sqlite_url, practice={"min_reply_interval_minutes": 10}), clock
    )
    await seed_case(h.runtime)
    await deliver(h, "sms", PARENT_PHONE, "Hei", 1)
    clock.advance(minutes=20)
    await deliver(h, "sms", PARENT_PHONE, "Jeg orker ikke mer, jeg vil ta livet mitt i natt", 2)
    decision = await inbound_decision(h)
    assert decision["kind"] == "receipt" and "urgent" in decision["reason"]


async def test_language_is_the_contacts_else_the_service_default(
    sqlite_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(EVENING))
    settings = practice_settings(sqlite_url)
    settings = replace(settings, service=replace(settings.service, language="nn"))
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    async with h.runtime.db.transaction() as tx:
        await tx.session.execute(update(Contact).values(language="en"))
    await deliver(h, "sms", PARENT_PHONE, "Hello", 1)
    await deliver(h, "sms", UNKNOWN_PHONE, "Hei", 2)
    await h.runtime.relay.run_once()
    bodies = {e.to: e.body for e in h.sms.sent}
    assert bodies[PARENT_PHONE].startswith("Thank you for your message. We are closed")
    assert "Mon-Fri 08:00-15:30" in bodies[PARENT_PHONE]
    assert "mån-fre 08.00-15.30" in bodies[UNKNOWN_PHONE]  # Nynorsk, the service default


async def test_teams_in_other_time_zones_open_by_their_own_clock(
    sqlite_url: str, harness_factory: HarnessFactory
) -> None:
    # 07:30 UTC on a Tuesday in winter: 08:30 in Oslo (open), 07:30 in Reykjavik (closed).
    clock = Clock(datetime.fromisoformat("2026-11-24T07:30:00+00:00"))
    reykjavik = {**NORD_HOURS, "timezone": "Atlantic/Reykjavik"}
    teams = {
        "Team Nord": TeamSettings(hours=parse_office_hours(NORD_HOURS)),
        "Team Vest": TeamSettings(hours=parse_office_hours(reykjavik)),
    }
    h = await harness_factory(practice_settings(sqlite_url, teams=teams), clock)
    await seed_case(h.runtime)
    await seed_case(
        h.runtime,
        ref="2026-0500",
        team="Team Vest",
        worker="siri@barnevern.example.no",
        phone="+4790000001",
        email=None,
    )
    await deliver(h, "sms", PARENT_PHONE, "Hei", 1)
    assert (await inbound_decision(h))["kind"] == "receipt"
    await deliver(h, "sms", "+4790000001", "Hei", 2)
    assert (await inbound_decision(h))["kind"] == "out_of_hours"


async def test_holiday_file_is_reread_when_it_changes(
    sqlite_url: str, tmp_path: Path, harness_factory: HarnessFactory
) -> None:
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("# none yet\n", encoding="utf-8")
    clock = Clock(oslo(OPEN))
    settings = practice_settings(sqlite_url, practice={"holiday_file": str(holidays)})
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    await deliver(h, "sms", PARENT_PHONE, "Hei", 1)
    assert (await inbound_decision(h))["kind"] == "receipt"
    holidays.write_text("2026-11-24  Planning day\n", encoding="utf-8")
    import os

    os.utime(holidays, (1_900_000_000, 1_900_000_000))  # a new mtime whatever the fs resolution
    await deliver(h, "email", PARENT_EMAIL, "Hei", 2)
    assert (await inbound_decision(h))["kind"] == "out_of_hours"
    # A broken edit keeps the last good dates.
    holidays.write_text("24.11.2026\n", encoding="utf-8")
    os.utime(holidays, (1_900_000_100, 1_900_000_100))
    await deliver(h, "sms", UNKNOWN_PHONE, "Hei", 3)
    assert (await inbound_decision(h))["kind"] == "out_of_hours"


async def test_auto_replies_can_be_switched_off(
    sqlite_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(EVENING))
    settings = practice_settings(
        sqlite_url, practice={"out_of_hours_notice": False, "receipts": False}
    )
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    await deliver(h, "sms", UNKNOWN_PHONE, "Hei", 1)
    assert (await inbound_decision(h))["kind"] == "unknown_sender"
    await deliver(h, "sms", PARENT_PHONE, "Hei", 2)
    assert (await inbound_decision(h))["kind"] is None
    clock.set(oslo(OPEN))
    await deliver(h, "email", PARENT_EMAIL, "Hei", 3)
    assert (await inbound_decision(h))["reason"] == "receipts are off"


async def test_rate_limited_sender_is_stored_flagged_and_not_answered(
    db_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(OPEN))
    settings = practice_settings(
        db_url, practice={"rate_limit_count": 3, "rate_limit_minutes": 60, "receipts": True}
    )
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    for n in range(1, 6):
        await deliver(h, "sms", UNKNOWN_PHONE, f"Melding {n}", n)
        clock.advance(minutes=1)
    async with h.runtime.db.read() as s:
        rows = (
            (await s.execute(select(Message).where(Message.direction == "in").order_by(Message.id)))
            .scalars()
            .all()
        )
        jobs = (await s.execute(select(OutboxJob))).scalars().all()
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert len(rows) == 5  # nothing dropped
    assert [bool(m.flags.get("rate_limited")) for m in rows] == [False] * 3 + [True] * 2
    assert all("rate limit" in m.flags["auto_reply_decision"]["reason"] for m in rows[3:])
    assert len(jobs) == 1  # the unknown-sender notice to the first message only
    assert actions.count("message.rate_limited") == 2
    # An e-mail from the same person is counted on its own channel.
    await deliver(h, "email", UNKNOWN_EMAIL, "Hei", 9)
    assert not (await inbound_decision(h)).get("rate_limited")
    clock.advance(hours=2)  # the window has passed
    await deliver(h, "sms", UNKNOWN_PHONE, "Igjen", 10)
    async with h.runtime.db.read() as s:
        last = (await s.execute(select(Message).order_by(Message.id.desc()).limit(1))).scalar_one()
    assert not last.flags.get("rate_limited")


async def test_simultaneous_messages_from_one_sender_get_one_receipt(
    pg_url: str, harness_factory: HarnessFactory
) -> None:
    clock = Clock(oslo(OPEN))
    settings = practice_settings(pg_url, practice={"rate_limit_count": 4})
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    results = await asyncio.gather(
        *(
            post_twilio(h.web_port, twilio_params(sid=f"SM{n:032d}", body=f"Hei {n}"))
            for n in range(8)
        )
    )
    assert [status for status, _ in results] == [200] * 8
    await processed(h.gateway)
    async with h.runtime.db.read() as s:
        rows = (await s.execute(select(Message).where(Message.direction == "in"))).scalars().all()
    assert len(rows) == 8
    assert sum(1 for m in rows if m.flags.get("rate_limited")) == 4
    kinds = [m.flags["auto_reply_decision"]["kind"] for m in rows]
    assert kinds.count("receipt") == 1 and kinds.count(None) == 7
    assert len(await auto_replies(h)) == 1
