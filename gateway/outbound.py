"""Replies: validate, then write the outbound message and its outbox job in one transaction.

Nothing is sent here (invariant 6): the relay worker sends from the outbox, so a crash between
"caseworker pressed send" and "provider accepted" never loses or duplicates a reply.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from gateway.core.addresses import new_reply_token
from gateway.core.classify import classify
from gateway.core.email import make_message_id, reply_subject
from gateway.core.sms import SmsBodyError, check_outbound_body
from gateway.intake import seal_into
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.db import Database, Tx, insert_row, utcnow
from gateway.storage.models import BlockedSender, Case, Contact, Message, OutboxJob, ReplyToken


class ReplyError(Exception):
    """A reply that cannot be sent as asked; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str, http_status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


@dataclass(frozen=True)
class ReplyPlan:
    case_id: int
    contact_id: int
    channel: str
    to: str
    segments: int | None
    encoding: str | None


@dataclass(frozen=True)
class ReplyResult:
    message_id: int | None
    channel: str
    segments: int | None
    encoding: str | None
    dry_run: bool


async def enqueue_outbound(
    tx: Tx,
    keyring: Keyring,
    settings: Settings,
    *,
    case_id: int | None,
    contact_id: int | None,
    channel: str,
    to: str,
    body: str,
    actor: str,
    author_id: int | None = None,
    subject: str = "",
    auto_reply: bool = False,
    in_reply_to_id: int | None = None,
    segments: int | None = None,
    now: datetime | None = None,
) -> Message:
    """Write one outbound message (body sealed, redacted copy for display) and its outbox job."""
    now = now or utcnow()
    sealed = await seal_into(tx, keyring, body.encode("utf-8"), b"outbound")
    sender = (
        settings.twilio.from_number or "service"
        if channel == "sms"
        else settings.email.service_address
    )
    message = await insert_row(
        tx.session,
        Message,
        dict(
            direction="out",
            channel=channel,
            provider_id=None,
            sender=sender,
            recipient=to,
            case_id=case_id,
            contact_id=contact_id,
            author_id=author_id,
            subject=subject,
            redacted_text=classify(body, language=settings.service.language).redacted,
            stripped={},
            sealed_id=sealed.id,
            classification={},
            priority="normal",
            status="queued",
            flags={"auto_reply": True} if auto_reply else {},
            email_message_id=make_message_id(settings.email.domain) if channel == "email" else None,
            in_reply_to_id=in_reply_to_id,
            segments=segments,
            created_at=now,
        ),
    )
    tx.queued_outbound.append(message)
    tx.session.add(
        OutboxJob(
            message_id=message.id,
            channel=channel,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            idempotency_key=uuid.uuid4().hex,
            created_at=now,
        )
    )
    tx.audit(
        actor,
        "message.auto_reply_queued" if auto_reply else "message.reply_queued",
        f"message:{message.id}",
        channel=channel,
        case_id=case_id,
        segments=segments,
    )
    return message


async def reply_token_for(tx: Tx, case_id: int, contact_id: int, issued_to: str, actor: str) -> str:
    """The contact's reply token on this case, created (and audited) on first use."""
    row = (
        await tx.session.execute(
            select(ReplyToken).where(
                ReplyToken.case_id == case_id,
                ReplyToken.contact_id == contact_id,
                ReplyToken.issued_to == issued_to,
                ReplyToken.revoked_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if row is not None:
        return row.token
    token = new_reply_token()
    tx.session.add(
        ReplyToken(
            token=token,
            case_id=case_id,
            contact_id=contact_id,
            issued_to=issued_to,
            created_at=utcnow(),
        )
    )
    tx.audit(actor, "reply_token.issued", f"case:{case_id}", contact_id=contact_id)
    return token


class ReplyService:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.settings = settings
        self.clock = clock

    async def reply(
        self,
        *,
        actor: str,
        author_id: int | None,
        case_ref: str,
        body: str,
        channel: str | None = None,
        contact_id: int | None = None,
        dry_run: bool = False,
    ) -> ReplyResult:
        """Queue a caseworker's reply (or, with ``dry_run``, only validate it and count SMS)."""
        async with self.db.transaction() as tx:
            return await self.reply_in(
                tx,
                actor=actor,
                author_id=author_id,
                case_ref=case_ref,
                body=body,
                channel=channel,
                contact_id=contact_id,
                dry_run=dry_run,
            )

    async def reply_in(
        self,
        tx: Tx,
        *,
        actor: str,
        author_id: int | None,
        case_ref: str,
        body: str,
        channel: str | None = None,
        contact_id: int | None = None,
        dry_run: bool = False,
    ) -> ReplyResult:
        """:meth:`reply` inside the caller's transaction (so a queue item closes with it)."""
        if not body.strip():
            raise ReplyError("empty_body", "The reply is empty.")
        plan = await self._plan(tx, case_ref, body, channel, contact_id)
        if dry_run:
            return ReplyResult(None, plan.channel, plan.segments, plan.encoding, True)
        subject = ""
        in_reply_to_id = await self._latest_inbound_id(tx, plan.case_id, plan.contact_id)
        if plan.channel == "email":
            subject = await self._reply_subject(tx, plan.case_id, plan.contact_id)
            await reply_token_for(tx, plan.case_id, plan.contact_id, plan.to, actor)
        message = await enqueue_outbound(
            tx,
            self.keyring,
            self.settings,
            case_id=plan.case_id,
            contact_id=plan.contact_id,
            channel=plan.channel,
            to=plan.to,
            body=body,
            actor=actor,
            author_id=author_id,
            subject=subject,
            in_reply_to_id=in_reply_to_id,
            segments=plan.segments,
            now=self.clock(),
        )
        return ReplyResult(message.id, plan.channel, plan.segments, plan.encoding, False)

    async def _reply_subject(self, tx: Tx, case_id: int, contact_id: int) -> str:
        """The family's own subject (as stored, redacted), never our case number."""
        latest = (
            await tx.session.execute(
                select(Message.subject)
                .where(
                    Message.case_id == case_id,
                    Message.contact_id == contact_id,
                    Message.direction == "in",
                    Message.channel == "email",
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return reply_subject(latest) if latest else self.settings.service.name

    async def _latest_inbound_id(self, tx: Tx, case_id: int, contact_id: int) -> int | None:
        return (
            await tx.session.execute(
                select(Message.id)
                .where(
                    Message.case_id == case_id,
                    Message.direction == "in",
                    Message.contact_id == contact_id,
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def _plan(
        self, tx: Tx, case_ref: str, body: str, channel: str | None, contact_id: int | None
    ) -> ReplyPlan:
        s = tx.session
        case = (await s.execute(select(Case).where(Case.ref == case_ref))).scalar_one_or_none()
        if case is None:
            raise ReplyError("not_found", f"No case {case_ref}.", 404)
        if case.status != "open":
            raise ReplyError("case_closed", f"Case {case_ref} is closed; reopen it to reply.", 409)
        latest = (
            await s.execute(
                select(Message.channel, Message.contact_id)
                .where(Message.case_id == case.id, Message.direction == "in")
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).first()
        if contact_id is None:
            contact_id = latest[1] if latest is not None else None
        contact = await s.get(Contact, contact_id) if contact_id is not None else None
        if contact is None or contact.case_id != case.id:
            raise ReplyError(
                "no_contact",
                "Choose the contact to reply to (contact_id); none has written on this case yet.",
            )
        if channel is None:
            channel = latest[0] if latest is not None else ("sms" if contact.phone else "email")
        if channel not in {"sms", "email"}:
            raise ReplyError("bad_channel", "channel must be sms or email.", 400)
        address = contact.phone if channel == "sms" else contact.email
        if (
            address
            and (
                await s.execute(select(BlockedSender.id).where(BlockedSender.address == address))
            ).first()
        ):
            # A blocked sender is never answered, whatever the channel's consent says.
            raise ReplyError("blocked_sender", "This address is blocked; no reply is sent.", 409)
        if channel == "sms":
            if not contact.phone:
                raise ReplyError("no_address", "The contact has no mobile number on record.")
            if contact.opted_out_sms:
                raise ReplyError(
                    "opted_out",
                    "The contact has opted out of SMS (STOP); reply by e-mail or letter.",
                    409,
                )
            if not contact.consent_sms:
                raise ReplyError("no_consent", "The contact has not consented to SMS.", 409)
            try:
                seg = check_outbound_body(body)
            except SmsBodyError as exc:
                raise ReplyError("sms_too_long", str(exc)) from exc
            return ReplyPlan(case.id, contact.id, channel, contact.phone, seg.count, seg.encoding)
        if not contact.email:
            raise ReplyError("no_address", "The contact has no e-mail address on record.")
        if contact.opted_out_email:
            raise ReplyError("opted_out", "The contact has opted out of e-mail.", 409)
        if not contact.consent_email:
            raise ReplyError("no_consent", "The contact has not consented to e-mail.", 409)
        return ReplyPlan(case.id, contact.id, channel, contact.email, None, None)
