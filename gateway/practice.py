"""The service's practice in the running gateway: office hours, auto-replies, staff protection.

``Practice`` turns settings into each team's ``OfficeHours`` (adding the holiday file, re-read
when its modification time changes) and holds the templates, loaded once. Two intake hooks
apply it to every stored message inside the intake transaction:

- ``StaffProtection`` flags threats and harassment toward staff and puts an urgent item in
  the team's queue for the team lead;
- ``AutoReplies`` decides (``gateway.core.autoreply``) and enqueues the automatic reply
  through the outbox, and records the reason on the message either way.

``record_consent`` is the one way consent and opt-out are written (API, CLI and hooks).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

import structlog
from sqlalchemy import func, select

from gateway.core.autoreply import (
    OUT_OF_HOURS,
    RECEIPT,
    UNKNOWN_SENDER,
    AutoReplyDecision,
    AutoReplySituation,
    decide_auto_reply,
)
from gateway.core.hours import (
    HoursConfigError,
    OfficeHours,
    describe_hours,
    is_open,
    next_opening,
    parse_holiday_file,
)
from gateway.core.notify import channel_label
from gateway.core.routing import QueueTarget
from gateway.core.sms import SmsBodyError, check_outbound_body, keyword_command
from gateway.core.templates import (
    LANGUAGES,
    TemplateError,
    TemplateSet,
    load_templates,
    read_template_dir,
    render_message,
    validate_templates,
)
from gateway.intake import IntakeBatch, IntakeContext
from gateway.intake_cache import PREFETCH_CHUNK
from gateway.outbound import enqueue_outbound, reply_token_for
from gateway.queues import queue_item_for
from gateway.ratelimit import RATE_LIMITED, set_flag
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.db import Tx, among, as_utc, utcnow
from gateway.storage.models import Contact, Message, User

log = structlog.get_logger("gateway.practice")

BUILTIN_TEMPLATES: Final = Path(__file__).parent / "templates"
STAFF_THREAT_RISKS: Final = frozenset({"THREAT", "HARASSMENT"})
STAFF_THREAT = "staff_threat"
_PHONE: Final = re.compile(r"^\+[1-9]\d{6,14}$")
TEAM_LEAD_REASON: Final = "threat or harassment toward staff: for the team lead"
_ROLE_LABELS: Final[dict[str, str]] = {
    "nb": "Saksbehandler",
    "nn": "Sakshandsamar",
    "da": "Sagsbehandler",
    "sv": "Handläggare",
    "en": "Caseworker",
}


class PracticeError(ValueError):
    """The templates cannot be used; the message names the file."""


def load_practice_templates(settings: Settings) -> TemplateSet:
    """The built-in templates, with any file in ``practice.templates_dir`` replacing its twin."""
    files = read_template_dir(str(BUILTIN_TEMPLATES))
    if settings.practice.templates_dir:
        files.update(read_template_dir(settings.practice.templates_dir))
    try:
        return load_templates(files)
    except TemplateError as exc:
        raise PracticeError(str(exc)) from None


class HolidayFile:
    """The holiday file, re-read whenever its modification time changes (no restart needed).

    A file that becomes unreadable or wrong keeps the last good dates and logs a warning, so a
    typo while editing never changes opening hours; ``check-config`` names the bad line.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._mtime: float | None = None
        self._days: frozenset[date] = frozenset()

    def days(self) -> frozenset[date]:
        if not self.path:
            return frozenset()
        try:
            mtime = os.stat(self.path).st_mtime
            if mtime != self._mtime:
                self._days = parse_holiday_file(Path(self.path).read_text(encoding="utf-8"))
                self._mtime = mtime
                log.info("practice.holidays_loaded", days=len(self._days))
        except (OSError, UnicodeDecodeError, HoursConfigError) as exc:
            log.warning("practice.holiday_file_unusable", error=str(exc))
        return self._days


class Practice:
    """Settings and templates for every rule that depends on time, language or team."""

    def __init__(self, settings: Settings, templates: TemplateSet | None = None) -> None:
        self.settings = settings
        self.templates = templates if templates is not None else load_practice_templates(settings)
        self.holiday_file = HolidayFile(settings.practice.holiday_file)

    def hours(self, team: str | None) -> OfficeHours:
        """The team's office hours including the holiday file's dates as they are now."""
        hours = self.settings.team(team).hours
        extra = self.holiday_file.days()
        return replace(hours, holidays=hours.holidays | extra) if extra else hours

    def is_open(self, team: str | None, at: datetime) -> bool:
        return is_open(self.hours(team), at)

    def next_opening(self, team: str | None, at: datetime) -> datetime:
        """The next opening; a team closed for over a year counts as opening now."""
        try:
            return next_opening(self.hours(team), at)
        except ValueError:
            return at

    def language(self, contact: Contact | None) -> str:
        if contact is not None and contact.language in LANGUAGES:
            return contact.language
        return self.settings.service.language


def family_signature(settings: Settings, worker: User | None, language: str) -> str:
    """How messages to families are signed: ``practice.signature`` = name | role | service.

    Never an address or a phone number: families answer the service, not a person.
    """
    service = settings.service.name
    mode = settings.practice.signature
    if mode == "name" and worker is not None and worker.name:
        return f"{worker.name}, {service}"
    if mode == "role" and worker is not None:
        return f"{_ROLE_LABELS.get(language, _ROLE_LABELS['en'])}, {service}"
    return service


async def record_consent(
    tx: Tx,
    contact: Contact,
    channel: str,
    given: bool,
    actor: str,
    *,
    now: datetime | None = None,
) -> None:
    """Record that ``contact`` gave (``given``) or withdrew consent to ``channel``, by whom, when.

    Withdrawing is an opt-out: the channel is closed to every outbound, auto-replies included.
    Giving consent again reopens it. Audited in the same transaction.
    """
    if channel not in {"sms", "email"}:
        raise ValueError(f"channel must be sms or email, got {channel!r}")
    if not actor:
        raise ValueError("actor is required: consent is recorded with who recorded it")
    setattr(contact, f"consent_{channel}", given)
    setattr(contact, f"opted_out_{channel}", not given)
    contact.consent_by = actor
    contact.consent_at = now or utcnow()
    tx.audit(
        actor,
        "contact.consent_given" if given else "contact.opted_out",
        f"contact:{contact.id}",
        channel=channel,
        case_id=contact.case_id,
    )


def staff_threat_risks(ctx: IntakeContext) -> list[str]:
    """The risk types that make a message a threat or harassment toward staff."""
    return sorted({r.type for r in ctx.classification.risks} & STAFF_THREAT_RISKS)


class StaffProtection:
    """Threats and harassment toward staff: flagged, audited, urgent to the team lead.

    The sealed original is kept as evidence (intake seals every original). A blocked sender's
    message is flagged but, as with any blocked sender, put in no queue.
    """

    async def __call__(self, ctx: IntakeContext) -> None:
        risks = staff_threat_risks(ctx)
        if not risks:
            return
        message = ctx.message
        set_flag(message, STAFF_THREAT, risks)
        message.priority = "urgent"
        queued = ctx.case is not None and not ctx.blocked
        if ctx.case is not None and queued:
            target = QueueTarget("team", None, ctx.case.team, True, TEAM_LEAD_REASON)
            ctx.tx.session.add(queue_item_for(message.id, ctx.case.id, target, ctx.now))
        ctx.tx.audit(
            "system",
            "message.staff_threat_flagged",
            f"message:{message.id}",
            risks=risks,
            case=ctx.case.ref if ctx.case else None,
            team_lead_queued=queued,
        )


@dataclass(frozen=True)
class _Facts:
    opted_out_sms: bool
    opted_out_email: bool
    first_in_conversation: bool
    last_auto_reply_at: datetime | None


def _chunks(items: list[str]) -> list[list[str]]:
    """``items`` in parts short enough for one ``IN (...)`` list; none for no items."""
    return [items[i : i + PREFETCH_CHUNK] for i in range(0, len(items), PREFETCH_CHUNK)]


@dataclass
class _BatchFacts:
    """What ``AutoReplies`` read once for a whole intake batch, as it was before the batch."""

    generation: int  # the directory generation then: a later write to contacts makes
    # ``opted`` stale (a STOP earlier in the batch), and the message asks the database
    opted: dict[tuple[str, str], tuple[bool, bool]] = field(default_factory=dict)
    # inbound messages in the conversation window per (channel, sender, case) before the batch
    earlier: dict[tuple[str, str, int | None], int] = field(default_factory=dict)
    # the newest automatic reply per (recipient, case) within the minimum interval
    last_auto_reply: dict[tuple[str, int | None], datetime] = field(default_factory=dict)

    def note_auto_reply(
        self, recipient: str, case_id: int | None, at: datetime | None, flags: object
    ) -> None:
        if at is None or not isinstance(flags, dict) or not flags.get("auto_reply"):
            return
        key = (recipient, case_id)
        if key not in self.last_auto_reply or at > self.last_auto_reply[key]:
            self.last_auto_reply[key] = at

    def for_message(
        self, ctx: IntakeContext, batch: IntakeBatch, min_interval_minutes: int
    ) -> _Facts | None:
        """The facts for one message of the batch; None when the database must be asked."""
        message = ctx.message
        if batch.directory_generation() != self.generation:
            return None  # contacts changed since they were read (a STOP earlier in the batch)
        opted_sms, opted_email = self.opted.get((message.channel, message.sender), (False, False))
        opted_sms = opted_sms or bool(ctx.contact and ctx.contact.opted_out_sms)
        opted_email = opted_email or bool(ctx.contact and ctx.contact.opted_out_email)
        earlier = self.earlier.get((message.channel, message.sender, message.case_id), 0)
        earlier += sum(
            1
            for m in batch.stored
            if m.direction == "in"
            and m.sender == message.sender
            and m.channel == message.channel
            and m.case_id == message.case_id
        )
        period_start = ctx.now - timedelta(minutes=min_interval_minutes)
        last = self.last_auto_reply.get((message.sender, message.case_id))
        if last is not None and last <= period_start:
            last = None  # left the interval since the batch started
        # Replies this batch has queued so far (a receipt, a keyword's answer) may not be in what
        # was read; a rolled-back message's are no longer listed.
        for obj in ctx.tx.queued_outbound:
            if (
                obj.recipient == message.sender
                and obj.case_id == message.case_id
                and (obj.flags or {}).get("auto_reply")
            ):
                at = as_utc(obj.created_at)
                if at is not None and at > period_start and (last is None or at > last):
                    last = at
        return _Facts(opted_sms, opted_email, earlier == 0, last)


class AutoReplies:
    """Decide and enqueue the automatic reply to each stored message (at most one).

    In a batch, opt-outs, earlier messages and recent automatic replies of every sender are
    read once (``_read_batch``, on the first message that needs them); each message adds what
    the batch itself has written.
    """

    FACTS = "auto_replies"

    def __init__(self, settings: Settings, keyring: Keyring, practice: Practice) -> None:
        self.settings = settings
        self.keyring = keyring
        self.practice = practice

    async def __call__(self, ctx: IntakeContext) -> None:
        decision = await self.decide(ctx)
        if decision.kind is not None:
            decision = await self._enqueue(ctx, decision)
        set_flag(
            ctx.message, "auto_reply_decision", {"kind": decision.kind, "reason": decision.reason}
        )
        ctx.tx.audit(
            "system",
            "message.auto_reply_decided",
            f"message:{ctx.message.id}",
            kind=decision.kind,
            reason=decision.reason,
        )

    def _pre_check(self, ctx: IntakeContext) -> str | None:
        """Reasons to stay silent that the shell knows of; None lets the decision table run."""
        inbound, message = ctx.inbound, ctx.message
        keyword = inbound.channel == "sms" and keyword_command(inbound.text) is not None
        if keyword or message.flags.get("sms_keyword"):
            return "SMS keyword as the whole message: answered by the keyword handling, not here"
        if message.flags.get(RATE_LIMITED):
            return "the sender is past the inbound rate limit: stored and flagged, not answered"
        if inbound.sender_auth_failed:
            return "sender authentication failed: the address may be forged, so no auto-reply"
        if not message.sender or (
            inbound.channel == "email"
            and message.sender.rsplit("@", 1)[-1] == self.settings.email.domain.lower()
        ):
            return "no outside address to answer (empty sender or our own domain)"
        if inbound.channel == "sms" and not _PHONE.match(message.sender):
            return "the sender is not a phone number that can receive SMS (e.g. a named sender)"
        return None

    async def decide(self, ctx: IntakeContext) -> AutoReplyDecision:
        """The decision for one message, with its reason (no side effects)."""
        silent = self._pre_check(ctx)
        if silent is not None:
            return AutoReplyDecision(None, silent)
        facts = await self._facts(ctx)
        if ctx.inbound.channel == "email" and facts.opted_out_email:
            return AutoReplyDecision(None, "the contact has opted out of e-mail")
        p = self.settings.practice
        team = ctx.case.team if ctx.case else None
        return decide_auto_reply(
            AutoReplySituation(
                channel=ctx.inbound.channel,
                sender_known=ctx.case is not None or ctx.match.triage_reason != "unknown sender",
                sender_blocked=ctx.blocked,
                machine_mail=ctx.inbound.machine_mail,
                opt_out_command=None,
                first_contact_in_conversation=facts.first_in_conversation,
                office_open=self.practice.is_open(team, ctx.now),
                urgent=ctx.classification.urgent,
                last_auto_reply_at=facts.last_auto_reply_at,
                now=ctx.now,
                min_interval=timedelta(minutes=p.min_reply_interval_minutes),
                receipts_enabled=p.receipts,
                out_of_hours_enabled=p.out_of_hours_notice,
                unknown_sender_notice_enabled=p.unknown_sender_notice,
                contact_opted_out_sms=facts.opted_out_sms,
                keyword_replies_enabled=False,
            )
        )

    async def _read_batch(self, batch: IntakeBatch, current: Message) -> _BatchFacts:
        """Read what ``_facts`` needs for every sender of a batch: three queries in all.

        Read on the batch's first message that needs them, not before its first message: most
        messages of a flood are rate limited (or keywords, or from a named sender) and need
        none, and a batch of one such message then makes no look-up at all. By then the
        transaction holds what the batch has stored so far (``batch.stored``) and ``current``
        itself; they are taken back out of the counts, since ``for_message`` adds them.
        """
        s = batch.tx.session
        p = self.settings.practice
        facts = _BatchFacts(batch.directory_generation())
        for channel, column in (("sms", Contact.phone), ("email", Contact.email)):
            addresses = sorted({a for c, a in batch.senders if c == channel})
            for part in _chunks(addresses):
                rows = await s.execute(
                    select(column, Contact.opted_out_sms, Contact.opted_out_email).where(
                        among(s, column, part)
                    )
                )
                for found, opted_sms, opted_email in rows:
                    address = str(found)
                    was = facts.opted.get((channel, address), (False, False))
                    facts.opted[(channel, address)] = (
                        was[0] or bool(opted_sms),
                        was[1] or bool(opted_email),
                    )
        # Windows counted from the batch's start: a message that leaves a window during the
        # batch (milliseconds) may still count; none that should count is left out.
        conversation_start = batch.now - timedelta(days=p.conversation_days)
        period_start = batch.now - timedelta(minutes=p.min_reply_interval_minutes)
        addresses = sorted({a for _, a in batch.senders})
        for part in _chunks(addresses):
            earlier = await s.execute(
                select(Message.channel, Message.sender, Message.case_id, func.count(Message.id))
                .where(
                    Message.direction == "in",
                    among(s, Message.sender, part),
                    Message.created_at > conversation_start,
                )
                .group_by(Message.channel, Message.sender, Message.case_id)
            )
            for channel, sender, case_id, n in earlier:
                facts.earlier[(channel, sender, case_id)] = int(n)
            recent = await s.execute(
                select(Message.recipient, Message.case_id, Message.created_at, Message.flags).where(
                    Message.direction == "out",
                    among(s, Message.recipient, part),
                    Message.created_at > period_start,
                )
            )
            for recipient, case_id, at, flags in recent:
                facts.note_auto_reply(recipient, case_id, as_utc(at), flags)
        for written in [*batch.stored, current]:
            if written.direction != "in":
                continue
            key = (written.channel, written.sender, written.case_id)
            if facts.earlier.get(key, 0) > 0:
                facts.earlier[key] -= 1
        batch.facts[self.FACTS] = facts
        return facts

    async def _facts(self, ctx: IntakeContext) -> _Facts:
        batch = ctx.batch
        facts = batch.facts.get(self.FACTS) if batch is not None else None
        if batch is not None and facts is None:
            facts = await self._read_batch(batch, ctx.message)
        if batch is not None and isinstance(facts, _BatchFacts):
            found = facts.for_message(ctx, batch, self.settings.practice.min_reply_interval_minutes)
            if found is not None:
                return found
        return await self._query_facts(ctx)

    async def _query_facts(self, ctx: IntakeContext) -> _Facts:
        s = ctx.tx.session
        message = ctx.message
        address = Contact.phone if message.channel == "sms" else Contact.email
        # Opted out anywhere counts: an opted-out number writing about another case is still out.
        opted = (
            await s.execute(
                select(Contact.opted_out_sms, Contact.opted_out_email).where(
                    address == message.sender
                )
            )
        ).all()
        opted_sms = any(r[0] for r in opted) or bool(ctx.contact and ctx.contact.opted_out_sms)
        opted_email = any(r[1] for r in opted) or bool(ctx.contact and ctx.contact.opted_out_email)
        same_case = (
            Message.case_id == message.case_id
            if message.case_id is not None
            else Message.case_id.is_(None)
        )
        conversation_start = ctx.now - timedelta(days=self.settings.practice.conversation_days)
        earlier = (
            await s.execute(
                select(func.count(Message.id)).where(
                    Message.direction == "in",
                    Message.sender == message.sender,
                    Message.channel == message.channel,
                    same_case,
                    Message.id != message.id,
                    Message.created_at > conversation_start,
                )
            )
        ).scalar_one()
        period_start = ctx.now - timedelta(
            minutes=self.settings.practice.min_reply_interval_minutes
        )
        recent = (
            await s.execute(
                select(Message.created_at, Message.flags)
                .where(
                    Message.direction == "out",
                    Message.recipient == message.sender,
                    same_case,
                    Message.created_at > period_start,
                )
                .order_by(Message.created_at.desc())
            )
        ).all()
        last = next((at for at, flags in recent if (flags or {}).get("auto_reply")), None)
        return _Facts(opted_sms, opted_email, earlier == 0, as_utc(last))

    async def _enqueue(self, ctx: IntakeContext, decision: AutoReplyDecision) -> AutoReplyDecision:
        """Render and enqueue; a template or length problem becomes a silent decision."""
        assert decision.kind in (RECEIPT, OUT_OF_HOURS, UNKNOWN_SENDER)
        language = self.practice.language(ctx.contact)
        team = ctx.case.team if ctx.case else None
        worker = None
        if ctx.case is not None and ctx.case.caseworker_id is not None:
            worker = await ctx.tx.session.get(User, ctx.case.caseworker_id)
        values = {
            "service_name": self.settings.service.name,
            "opening_hours": describe_hours(self.practice.hours(team), language),
            "emergency_numbers": self.settings.practice.emergency_numbers,
            "case_ref": ctx.case.ref if ctx.case else "",
            "channel": channel_label(ctx.inbound.channel, language),
            "signature": family_signature(self.settings, worker, language),
        }
        segments = None
        try:
            rendered = render_message(
                self.practice.templates,
                decision.kind,
                language,
                values,
                self.settings.service.language,
            )
            if ctx.inbound.channel == "sms":
                segments = check_outbound_body(rendered.body).count
        except (TemplateError, SmsBodyError) as exc:
            log.warning("auto_reply.not_rendered", message_id=ctx.message.id, error=str(exc))
            return AutoReplyDecision(None, f"{decision.reason}; not sent: {exc}")
        case_id = ctx.case.id if ctx.case else None
        contact_id = ctx.contact.id if ctx.contact else None
        if ctx.inbound.channel == "email" and case_id is not None and contact_id is not None:
            # The family's answer to the receipt then comes back to the same case.
            await reply_token_for(ctx.tx, case_id, contact_id, ctx.message.sender, "system")
        await enqueue_outbound(
            ctx.tx,
            self.keyring,
            self.settings,
            case_id=case_id,
            contact_id=contact_id,
            channel=ctx.inbound.channel,
            to=ctx.message.sender,
            body=rendered.body,
            actor="system",
            subject=rendered.subject or "",
            auto_reply=True,
            in_reply_to_id=ctx.message.id,
            segments=segments,
            now=ctx.now,
        )
        return decision


def check_practice(settings: Settings) -> tuple[list[str], list[str]]:
    """What ``check-config`` prints about templates and hours: (errors, information lines)."""
    errors: list[str] = []
    lines: list[str] = []
    try:
        templates = load_practice_templates(settings)
    except PracticeError as exc:
        return [f"templates: {exc}"], lines
    source = settings.practice.templates_dir or "built-in"
    lines.append(f"templates: {len(templates.templates)} files ({source})")
    for issue in validate_templates(templates):
        (errors if issue.severity == "error" else lines).append(f"templates: {issue}")
    practice = Practice(settings, templates)
    extra = practice.holiday_file.days()
    if settings.practice.holiday_file:
        lines.append(f"holiday file: {len(extra)} dates from {settings.practice.holiday_file}")
    names = list(settings.teams) or ["*"]
    for name in names:
        hours = practice.hours(None if name == "*" else name)
        lines.append(
            f"hours {name}: {describe_hours(hours, 'en')} ({hours.timezone}; "
            f"{len(hours.holidays)} extra holidays, {len(hours.closures)} closures"
            f"{', public holidays ' + hours.public_holidays if hours.public_holidays else ''})"
        )
    p = settings.practice
    if not (p.duty_email or p.duty_sms) and not any(
        t.duty_email or t.duty_sms for t in settings.teams.values()
    ):
        lines.append(
            "warning: no duty desk target (practice.duty_email / practice.duty_sms or per team): "
            "urgent messages are queued for the duty desk but nobody is told"
        )
    return errors, lines
