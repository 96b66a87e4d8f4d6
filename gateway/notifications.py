"""Staff notifications: who is told about a new message, when, and the worker that tells them.

``StaffNotifications`` is an intake hook: it plans (``gateway.core.notify``) and writes one
``staff_notification`` row per target in the intake transaction, so a notification is never
lost and never sent for a message that was not stored. A row holds where to send and the case
reference, channel and urgency: no message text, no names, no family numbers or addresses.

``NotificationWorker`` sends due rows: e-mail through the mail relay (``email.relay_host``),
SMS to the duty desk's on-call phone through the SMS sender. Rows due for one address are sent
as one digest when that person has a digest period; urgent ones go at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib
import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import OutboundEnvelope, Sender, SendOutcome
from gateway.core.email.reply import make_message_id
from gateway.core.notify import (
    Pending,
    digest_notification,
    plan_digest,
    plan_notifications,
    staff_notification,
)
from gateway.core.sms import retry_delay
from gateway.core.templates import TemplateError
from gateway.intake import IntakeContext
from gateway.practice import STAFF_THREAT, TEAM_LEAD_REASON, Practice
from gateway.ratelimit import RATE_LIMITED
from gateway.settings import Settings
from gateway.storage.db import Database, Tx, as_utc, utcnow
from gateway.storage.models import StaffNotification, User
from gateway.workers import poll_until_stopped

log = structlog.get_logger("gateway.notifications")


@dataclass(frozen=True)
class Target:
    channel: str  # email | sms
    address: str
    user_id: int | None = None


def case_link(settings: Settings, case_ref: str | None) -> str:
    """Where staff read the message: the case page, or triage for a message without a case."""
    base = settings.web.public_url.rstrip("/")
    return f"{base}/cases/{case_ref}" if case_ref else f"{base}/triage"


class StaffNotifications:
    """The intake hook that plans notifications for every stored message."""

    def __init__(self, settings: Settings, practice: Practice) -> None:
        self.settings = settings
        self.practice = practice

    async def __call__(self, ctx: IntakeContext) -> None:
        message = ctx.message
        urgent = ctx.classification.urgent
        if ctx.blocked:
            return  # a blocked sender's messages are in no queue and disturb nobody
        if message.flags.get(RATE_LIMITED) and not urgent:
            return  # a flood is in the queue, not on staff phones
        team = ctx.case.team if ctx.case else None
        office_open = self.practice.is_open(team, ctx.now)
        plans = plan_notifications(
            urgent=urgent,
            staff_threat=bool(message.flags.get(STAFF_THREAT)),
            office_open=office_open,
            next_opening=self.practice.next_opening(team, ctx.now),
        )
        seen: set[tuple[str, str]] = set()
        planned: list[dict[str, object]] = []
        for plan in plans:
            for target in await self._targets(ctx, plan.target):
                if (target.channel, target.address.lower()) in seen:
                    continue
                seen.add((target.channel, target.address.lower()))
                # Stored in UTC: SQLite keeps the wall time only, so a local time would shift.
                send_at = (plan.send_at or ctx.now).astimezone(UTC)
                ctx.tx.session.add(
                    StaffNotification(
                        message_id=message.id,
                        target=plan.target,
                        user_id=target.user_id,
                        channel=target.channel,
                        address=target.address,
                        case_ref=ctx.case.ref if ctx.case else None,
                        source_channel=message.channel,
                        urgent=urgent,
                        send_at=send_at,
                        state="pending",
                        attempts=0,
                        created_at=ctx.now,
                    )
                )
                planned.append(
                    {"target": plan.target, "channel": target.channel, "at": send_at.isoformat()}
                )
        ctx.tx.audit(
            "system",
            "notification.planned",
            f"message:{message.id}",
            office_open=office_open,
            notifications=planned,
        )

    async def _targets(self, ctx: IntakeContext, kind: str) -> list[Target]:
        s = ctx.tx.session
        team = self.settings.team(ctx.case.team if ctx.case else None)
        if kind == "duty_desk":
            p = self.settings.practice
            duty_email = team.duty_email or p.duty_email
            duty_sms = team.duty_sms or p.duty_sms
            duty = [Target("email", duty_email)] if duty_email else []
            return duty + ([Target("sms", duty_sms)] if duty_sms else [])
        if kind == "team_lead":
            if ctx.case is None:
                return []
            leads = (
                await s.execute(
                    select(User.id, User.email).where(
                        User.role == "team_lead", User.team == ctx.case.team, User.active
                    )
                )
            ).all()
            if leads:
                return [Target("email", email, uid) for uid, email in leads]
            return [Target("email", team.email)] if team.email else []
        # The owners' queue items intake just made for this message (the team lead's item,
        # added by staff protection, is told through its own plan).
        items = [
            (item.owner_kind, item.owner_user_id)
            for item in ctx.queue_items
            if item.owner_kind in ("user", "team", "triage") and item.reason != TEAM_LEAD_REASON
        ]
        targets: list[Target] = []
        for owner_kind, user_id in items:
            if owner_kind == "user" and user_id is not None:
                user = await s.get(User, user_id)
                if user is not None and user.active:
                    targets.append(Target("email", user.email, user.id))
            elif owner_kind == "team" and team.email:
                targets.append(Target("email", team.email))
            elif owner_kind == "triage" and self.settings.practice.triage_email:
                targets.append(Target("email", self.settings.practice.triage_email))
        return targets


class RelayMailer:
    """Sends one notification e-mail through the configured mail relay (one method)."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(self, to: str, subject: str, body: str, sent_at: datetime) -> SendOutcome:
        email = self.settings.email
        msg = EmailMessage()
        msg["From"] = formataddr((email.display_name, email.service_address))
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(sent_at)
        msg["Message-ID"] = make_message_id(email.domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body)
        try:
            await aiosmtplib.send(
                msg,
                sender=email.service_address,
                recipients=[to],
                hostname=email.relay_host,
                port=email.relay_port,
                timeout=self.timeout,
                start_tls=False,
                use_tls=False,
            )
        except aiosmtplib.SMTPResponseException as exc:
            return SendOutcome(False, permanent=500 <= exc.code < 600, error_code=str(exc.code))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            code = exc.recipients[0].code
            return SendOutcome(False, permanent=500 <= code < 600, error_code=str(code))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return SendOutcome(False, error_text=f"mail relay unreachable: {type(exc).__name__}")
        return SendOutcome(True)


@dataclass(frozen=True)
class _Batch:
    lead_id: int
    row_ids: tuple[int, ...]
    channel: str
    address: str
    attempts: int
    items: tuple[Pending, ...]


class NotificationWorker:
    """Claims due notifications (SKIP LOCKED on PostgreSQL), sends them, records the outcome."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        practice: Practice,
        sms_sender: Sender | None,
        mailer: RelayMailer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.practice = practice
        self.sms_sender = sms_sender
        self.mailer = mailer or RelayMailer(settings)
        self.clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        await poll_until_stopped(
            "notifications", self.run_once, stop, self.settings.relay.poll_seconds
        )

    async def run_once(self) -> int:
        """Send every due batch once; returns how many batches were attempted."""
        batches = await self.claim()
        for batch in batches:
            outcome = await self._send(batch)
            await self.record(batch, outcome)
        return len(batches)

    async def claim(self) -> list[_Batch]:
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            s = tx.session
            rows = (
                (
                    await s.execute(
                        select(StaffNotification)
                        .where(
                            or_(
                                and_(
                                    StaffNotification.state == "pending",
                                    StaffNotification.send_at <= now,
                                ),
                                and_(
                                    StaffNotification.state == "sending",
                                    StaffNotification.lease_until <= now,
                                ),
                            )
                        )
                        .order_by(StaffNotification.id)
                        .limit(relay.batch_size * 10)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            groups: dict[tuple[str, str], list[StaffNotification]] = {}
            for row in rows:
                groups.setdefault((row.channel, row.address.lower()), []).append(row)
            batches: list[_Batch] = []
            for (channel, _), group in groups.items():
                period = await self._digest_period(s, group[0])
                last_sent = (
                    await s.execute(
                        select(func.max(StaffNotification.sent_at)).where(
                            StaffNotification.channel == channel,
                            StaffNotification.address == group[0].address,
                            StaffNotification.state == "sent",
                        )
                    )
                ).scalar_one()
                items = tuple(
                    Pending(r.case_ref, r.source_channel, r.urgent, as_utc(r.created_at) or now)
                    for r in group
                )
                plan = plan_digest(items, as_utc(last_sent), now, period)
                if not plan.send_now:
                    for row in group:
                        row.send_at = plan.send_at or now
                    continue
                lead = group[0]
                for row in group:
                    row.state = "sending"
                    row.carried_by = lead.id
                    row.lease_until = now + timedelta(seconds=relay.lease_seconds)
                lead.attempts += 1
                batches.append(
                    _Batch(
                        lead.id,
                        tuple(r.id for r in group),
                        channel,
                        lead.address,
                        lead.attempts,
                        plan.items,
                    )
                )
        return batches

    async def _digest_period(self, s: AsyncSession, row: StaffNotification) -> timedelta:
        if row.channel == "sms":
            return timedelta(0)  # the on-call phone is only told about urgent items
        minutes = self.settings.practice.digest_minutes
        if row.user_id is not None:
            user = await s.get(User, row.user_id)
            if user is not None and user.notify_digest_minutes is not None:
                minutes = user.notify_digest_minutes
        return timedelta(minutes=minutes)

    def compose(self, items: tuple[Pending, ...]) -> tuple[str, str, str]:
        """Subject, body and link of the notification covering ``items`` (no content)."""
        language = self.settings.service.language
        templates = self.practice.templates
        name = self.settings.service.name
        if len(items) == 1:
            item = items[0]
            link = case_link(self.settings, item.case_ref)
            subject, body = staff_notification(
                item.case_ref, item.channel, item.urgent, link, language, templates,
                service_name=name,
            )  # fmt: skip
            return subject, body, link
        link = self.settings.web.public_url.rstrip("/") + "/queue"
        subject, body = digest_notification(items, link, language, templates, service_name=name)
        return subject, body, link

    async def _send(self, batch: _Batch) -> SendOutcome:
        try:
            subject, body, link = self.compose(batch.items)
        except TemplateError as exc:
            return SendOutcome(False, permanent=True, error_text=f"template problem: {exc}")
        if batch.channel == "sms":
            if self.sms_sender is None:
                return SendOutcome(False, permanent=True, error_text="no SMS sender configured")
            envelope = OutboundEnvelope(
                message_id=batch.lead_id,
                channel="sms",
                to=batch.address,
                body=f"{subject}\n{link}",
                idempotency_key=f"staff-notification-{batch.lead_id}-{batch.attempts}",
            )
            try:
                return await self.sms_sender.send(envelope)
            except Exception as exc:  # a sender bug must not stop the worker; retried
                return SendOutcome(False, error_text=f"sender error: {type(exc).__name__}")
        return await self.mailer.send(batch.address, subject, body, self.clock())

    async def record(self, batch: _Batch, outcome: SendOutcome) -> None:
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            rows = (
                (
                    await tx.session.execute(
                        select(StaffNotification).where(StaffNotification.id.in_(batch.row_ids))
                    )
                )
                .scalars()
                .all()
            )
            if outcome.ok:
                state, action = "sent", "notification.sent"
            elif outcome.permanent or batch.attempts >= relay.max_attempts:
                state, action = "dead", "notification.failed"
            else:
                state, action = "pending", "notification.retry"
            delay = retry_delay(
                batch.attempts, base=relay.backoff_base_seconds, cap=relay.backoff_cap_seconds
            )
            for row in rows:
                row.state, row.lease_until = state, None
                row.last_error = None if outcome.ok else (outcome.error_text or outcome.error_code)
                if outcome.ok:
                    row.sent_at = now
                elif state == "pending":
                    row.send_at = now + timedelta(seconds=delay)
            tx.audit(
                "notifier",
                action,
                f"staff_notification:{batch.lead_id}",
                channel=batch.channel,
                covers=len(batch.row_ids),
                attempts=batch.attempts,
                error_code=outcome.error_code,
            )
        log.info(
            "notification.outcome",
            notification_id=batch.lead_id,
            channel=batch.channel,
            ok=outcome.ok,
            covers=len(batch.row_ids),
        )


async def set_digest_minutes(tx: Tx, user: User, minutes: int | None, actor: str) -> None:
    """Set one person's digest period (None: the service default ``practice.digest_minutes``)."""
    if minutes is not None and minutes < 0:
        raise ValueError("minutes must be 0 or more (0: one notification per message)")
    user.notify_digest_minutes = minutes
    tx.audit(actor, "user.digest_set", f"user:{user.id}", minutes=minutes)
