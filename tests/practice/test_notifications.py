"""Staff notifications through a fake MTA on 127.0.0.1: who is told, when, and never what.

Real messages full of names, numbers and diagnoses go in through the webhook and SMTP; what
reaches staff mailboxes and the on-call phone names only the case, the channel and urgency.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import select
from structlog.testing import capture_logs

from connectors.email_out import SmtpRelaySender
from gateway.accounts import add_user
from gateway.notifications import set_digest_minutes
from gateway.practice import TEAM_LEAD_REASON
from gateway.settings import Settings
from gateway.storage.db import as_utc
from gateway.storage.models import AuditEvent, Message, QueueItem, StaffNotification, User
from tests.conftest import PUBLIC_URL
from tests.helpers import (
    PARENT_EMAIL,
    PARENT_PHONE,
    api,
    post_twilio,
    processed,
    seed_case,
    twilio_params,
)
from tests.practice.conftest import (
    DUTY_EMAIL,
    DUTY_SMS,
    LEAD,
    SERVICE,
    TEAM_EMAIL,
    WORKER,
    Clock,
    FakeMta,
    Harness,
    HarnessFactory,
    practice_settings,
    send_email,
)

OSLO = ZoneInfo("Europe/Oslo")
OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=OSLO)  # Tuesday
EVENING = datetime(2026, 11, 24, 20, 0, tzinfo=OSLO)
NEXT_MORNING = datetime(2026, 11, 25, 8, 0, tzinfo=OSLO)

# What families really write: names, national id numbers, phone numbers, diagnoses, places.
SENSITIVE_SMS = (
    "Hei, Kari Nordmann her. Per (fnr 01010112345) har fått diagnosen ADHD og epilepsi, "
    "faren slo ham i går og han er redd for å gå hjem. Ring meg på 91234567 eller "
    "Fjellveien 12, 0851 Oslo."
)
SENSITIVE_EMAIL = (
    "Hei Ola. Jeg orker ikke mer, jeg vil ta livet mitt i natt. Lisa Berg på Ullevål "
    "sykehus vet om depresjonen min. Kontonummer 1234.56.78903."
)
THREAT = "Jeg vet hvor du bor og jeg kommer til å skade deg, Ola Hansen."
FORBIDDEN = [
    "Kari", "Nordmann", "Per ", "01010112345", "ADHD", "epilepsi", "slo", "91234567",
    "Fjellveien", "Lisa", "Berg", "Ullevål", "depresjon", "1234.56.78903", "livet",
    "skade", "Ola", "Hansen", PARENT_EMAIL, PARENT_PHONE, "kari.nordmann",
]  # fmt: skip


def settings_for(url: str, mta: FakeMta, **practice: object) -> Settings:
    return practice_settings(url, mta.port, practice=practice)


async def sms_in(h: Harness, n: int, body: str, sender: str = PARENT_PHONE) -> None:
    status, _ = await post_twilio(
        h.web_port, twilio_params(sid=f"SM{n:032d}", sender=sender, body=body)
    )
    assert status == 200
    await processed(h.gateway)


async def notifications(h: Harness) -> list[StaffNotification]:
    async with h.runtime.db.read() as s:
        return list(
            (await s.execute(select(StaffNotification).order_by(StaffNotification.id)))
            .scalars()
            .all()
        )


async def drain(h: Harness) -> None:
    assert h.runtime.notifier is not None
    while await h.runtime.notifier.run_once():
        pass


def text_of(m: EmailMessage) -> str:
    body = m.get_body(preferencelist=("plain",))
    assert body is not None
    return f"{m['Subject']}\n{body.get_content()}"


async def test_duty_desk_is_told_at_night_and_the_caseworker_at_opening(
    db_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(EVENING)
    h = await harness_factory(settings_for(db_url, fake_mta), clock)
    await seed_case(h.runtime)
    await sms_in(h, 1, SENSITIVE_SMS)  # CHILD_AT_RISK: urgent

    rows = await notifications(h)
    by_target = {(r.target, r.channel): r for r in rows}
    assert set(by_target) == {("duty_desk", "email"), ("duty_desk", "sms"), ("owner", "email")}
    assert by_target[("owner", "email")].address == WORKER
    assert as_utc(by_target[("owner", "email")].send_at) == NEXT_MORNING  # aware, any zone

    await drain(h)
    assert [m["To"] for m in fake_mta.to(DUTY_EMAIL)] == [DUTY_EMAIL]
    duty_mail = fake_mta.to(DUTY_EMAIL)[0]
    assert duty_mail["Subject"] == "Ny melding i sak 2026-0412 (SMS, haster)"
    assert f"{PUBLIC_URL}/cases/2026-0412" in text_of(duty_mail)
    assert SERVICE in duty_mail["From"] and duty_mail["Auto-Submitted"] == "auto-generated"
    assert [e.to for e in h.sms.sent if e.to == DUTY_SMS] == [DUTY_SMS]
    assert fake_mta.to(WORKER) == []  # nobody else is disturbed at night

    clock.set(NEXT_MORNING)
    await drain(h)
    assert len(fake_mta.to(WORKER)) == 1
    assert [r.state for r in await notifications(h)] == ["sent", "sent", "sent"]
    async with h.runtime.db.read() as s:
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert actions.count("notification.sent") == 3


async def test_no_notification_contains_message_content(
    db_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(OPEN)
    settings = settings_for(db_url, fake_mta, triage_email="triage@barnevern.example.no")
    h = await harness_factory(settings, clock)
    await seed_case(h.runtime)
    async with h.runtime.db.transaction() as tx:
        await add_user(
            tx, email=LEAD, name="Lise Leder", role="team_lead", team="Team Nord", actor="t"
        )
    with capture_logs() as logs:
        await sms_in(h, 1, SENSITIVE_SMS)
        await drain(h)
    await send_email(
        h.smtp_port,
        sender=PARENT_EMAIL,
        subject="Per og ADHD-medisinen, ring 91234567",
        body=SENSITIVE_EMAIL,
        msg_id="<e1@example.org>",
    )
    await processed(h.gateway)
    await drain(h)
    await sms_in(h, 2, THREAT)
    await drain(h)
    unknown = "Hei, dette er Lisa Berg, mor til Per. Nummeret mitt er 98765432."
    await sms_in(h, 3, unknown, "+4798765432")
    await drain(h)
    clock.set(EVENING)
    await sms_in(h, 4, SENSITIVE_SMS.replace("Hei", "Hallo"))
    await drain(h)
    clock.set(NEXT_MORNING)
    await drain(h)

    mails = [m for _, _, m in fake_mta.messages]
    texts = [text_of(m) for m in mails] + [e.body for e in h.sms.sent if e.to == DUTY_SMS]
    recipients = {r for _, rcpts, _ in fake_mta.messages for r in rcpts}
    assert recipients == {WORKER, DUTY_EMAIL, LEAD, "triage@barnevern.example.no"}
    assert len(texts) >= 12
    for text in texts:
        for word in FORBIDDEN:
            assert word not in text, f"{word!r} leaked into a notification"
        # Only the case reference may appear as digits (and the link's).
        leftover = re.sub(r"2026-0412|https?://\S+", "", text)
        assert not re.search(r"\d{3,}", leftover), text
    assert any("2026-0412" in t for t in texts)
    logged = repr(logs)
    assert "notification.outcome" in logged
    for word in FORBIDDEN[:16]:
        assert word not in logged, f"{word!r} reached the log"
    assert any("/triage" in t for t in texts)  # the unknown sender's message
    # The stored rows carry no content either: only where to send and which case.
    for row in await notifications(h):
        assert row.case_ref in {"2026-0412", None}
        assert row.address in {WORKER, DUTY_EMAIL, DUTY_SMS, LEAD, "triage@barnevern.example.no"}


async def test_threat_to_staff_goes_urgent_to_the_team_lead_and_is_tagged(
    db_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(EVENING)
    h = await harness_factory(settings_for(db_url, fake_mta), clock)
    await seed_case(h.runtime)
    async with h.runtime.db.transaction() as tx:
        await add_user(
            tx, email=LEAD, name="Lise Leder", role="team_lead", team="Team Nord", actor="t"
        )
    await sms_in(h, 1, THREAT)
    async with h.runtime.db.read() as s:
        message = (await s.execute(select(Message).where(Message.direction == "in"))).scalar_one()
        items = (await s.execute(select(QueueItem))).scalars().all()
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert "THREAT" in message.flags["staff_threat"]  # "vet hvor du bor" may add HARASSMENT
    assert message.priority == "urgent" and message.sealed_id is not None
    lead_items = [i for i in items if i.reason == TEAM_LEAD_REASON]
    assert [(i.owner_kind, i.owner_team, i.urgent) for i in lead_items] == [
        ("team", "Team Nord", True)
    ]
    assert "message.staff_threat_flagged" in actions
    # At night the duty desk is told at once, the team lead when the office opens.
    rows = {r.target: r for r in await notifications(h)}
    assert rows["team_lead"].address == LEAD and as_utc(rows["team_lead"].send_at) == NEXT_MORNING
    await drain(h)
    assert fake_mta.to(DUTY_EMAIL) and not fake_mta.to(LEAD)
    clock.set(NEXT_MORNING)
    await drain(h)
    assert fake_mta.to(LEAD)[0]["Subject"] == "Ny melding i sak 2026-0412 (SMS, haster)"


async def test_digest_gives_one_notification_per_period_per_person(
    db_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(OPEN)
    h = await harness_factory(settings_for(db_url, fake_mta), clock)
    await seed_case(h.runtime)
    async with h.runtime.db.transaction() as tx:
        worker = (await tx.session.execute(select(User).where(User.email == WORKER))).scalar_one()
        await set_digest_minutes(tx, worker, 30, actor="ola@barnevern.example.no")
    for n, body in enumerate(["Hei", "Kommer torsdag", "Glemte å si", "En ting til"], start=1):
        await sms_in(h, n, body)
        await drain(h)
        clock.advance(minutes=5)
    assert len(fake_mta.to(WORKER)) == 1  # the first at once, the rest held
    clock.set(OPEN.replace(minute=31))
    await drain(h)
    mails = fake_mta.to(WORKER)
    assert len(mails) == 2
    assert mails[1]["Subject"] == "3 nye meldinger"
    assert text_of(mails[1]).count("- 2026-0412 (SMS)") == 3
    states = [r.state for r in await notifications(h)]
    assert states == ["sent"] * 4


async def test_team_queue_and_practice_digest_default(
    sqlite_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(OPEN)
    h = await harness_factory(settings_for(sqlite_url, fake_mta, digest_minutes=60), clock)
    await seed_case(h.runtime, with_worker=False)
    await sms_in(h, 1, "Hei")
    await drain(h)
    clock.advance(minutes=10)
    await sms_in(h, 2, "Hei igjen")
    await drain(h)
    assert len(fake_mta.to(TEAM_EMAIL)) == 1  # held for the team's digest period
    clock.advance(minutes=51)
    await drain(h)
    assert len(fake_mta.to(TEAM_EMAIL)) == 2


async def test_replies_and_auto_replies_leave_from_the_service_address_only(
    sqlite_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(OPEN)
    settings = settings_for(sqlite_url, fake_mta)
    h = await harness_factory(settings, clock, email_sender=SmtpRelaySender(settings))
    token = await seed_case(h.runtime)
    await send_email(
        h.smtp_port, sender=PARENT_EMAIL, body="Hei, når er møtet?", msg_id="<e1@example.org>"
    )
    await processed(h.gateway)
    status, _ = await api(
        h.web_port,
        "POST",
        "/api/v1/cases/2026-0412/replies",
        token,
        {"body": "Hei Kari, møtet er torsdag kl 10. Hilsen Ola", "channel": "email"},
    )
    assert status == 202
    await h.runtime.relay.run_once()
    to_family = [(frm, m) for frm, rcpts, m in fake_mta.messages if PARENT_EMAIL in rcpts]
    assert len(to_family) == 2
    # The relay sends concurrently, so the two may leave in either order.
    assert sorted(str(m["Auto-Submitted"]) for _frm, m in to_family) == ["None", "auto-replied"]
    for envelope_from, m in to_family:
        assert envelope_from == SERVICE
        for header in ("From", "Reply-To", "Sender", "Return-Path"):
            value = str(m[header] or "")
            assert WORKER not in value.lower() and "ola@" not in value.lower(), header
        assert SERVICE in str(m["From"])
        assert str(m["Reply-To"]).endswith("@barnevern.example.no>")


async def test_relay_failures_are_retried_then_dead_lettered_and_audited(
    sqlite_url: str, fake_mta: FakeMta, harness_factory: HarnessFactory
) -> None:
    clock = Clock(OPEN)
    h = await harness_factory(settings_for(sqlite_url, fake_mta), clock)
    await seed_case(h.runtime)
    fake_mta.script = ["451 4.3.0 try again later"]
    await sms_in(h, 1, "Hei")
    assert h.runtime.notifier is not None
    assert await h.runtime.notifier.run_once() == 1
    [row] = await notifications(h)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "451")
    assert await h.runtime.notifier.run_once() == 1
    assert len(fake_mta.to(WORKER)) == 1
    fake_mta.script = ["550 5.1.1 no such user"]
    await sms_in(h, 2, "Hei igjen")
    await drain(h)
    rows = await notifications(h)
    assert [(r.state, r.last_error) for r in rows] == [("sent", None), ("dead", "550")]
    async with h.runtime.db.read() as s:
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert [
        a for a in actions if a.startswith("notification.") and a != "notification.planned"
    ] == [
        "notification.retry",
        "notification.sent",
        "notification.failed",
    ]
