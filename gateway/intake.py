"""The intake pipeline: normalise -> match -> classify -> persist -> acknowledge.

``IntakeService.accept`` is what every inbound connector calls. It returns only after the
message, its sealed original, queue items and audit events are committed in one transaction
(invariant 1), and it is idempotent on (channel, provider id) (invariant 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.addresses import normalise_email, normalise_phone, token_from_recipient
from gateway.core.classify import Classification, classify
from gateway.core.inbound import InboundMessage
from gateway.core.routing import (
    CaseLink,
    Match,
    MatchFacts,
    TokenLookup,
    match_case,
)
from gateway.metrics import MESSAGES_IN, observe_intake
from gateway.queues import enqueue_for_owners
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.db import Database, StoreUnavailable, Tx, as_utc, utcnow
from gateway.storage.models import (
    Attachment,
    BlockedSender,
    Case,
    Contact,
    Message,
    ReplyToken,
    SealedOriginal,
)

log = structlog.get_logger("gateway.intake")


@dataclass
class IntakeContext:
    """What a policy hook sees of a message being stored; it runs inside the same transaction."""

    tx: Tx
    inbound: InboundMessage
    message: Message
    case: Case | None
    contact: Contact | None
    match: Match
    classification: Classification
    blocked: bool
    now: datetime


# Policies that act on every stored message (SMS keywords, auto-replies, notifications, ...).
# They write through ``ctx.tx`` so their effects commit, or roll back, with the message.
IntakeHook = Callable[[IntakeContext], Awaitable[None]]


@dataclass(frozen=True)
class IntakeResult:
    message_id: int
    duplicate: bool
    case_ref: str | None = None
    triage_reason: str | None = None
    urgent: bool = False


async def seal_into(tx: Tx, keyring: Keyring, data: bytes, context: bytes) -> SealedOriginal:
    """Store ``data`` encrypted; the row keeps the key id so keys can rotate."""
    blob = keyring.seal(data, context)
    row = SealedOriginal(
        key_id=blob.key_id,
        nonce=blob.nonce,
        ciphertext=blob.ciphertext,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created_at=utcnow(),
    )
    tx.session.add(row)
    await tx.session.flush()
    return row


def normalise_sender(channel: str, sender: str, region: str) -> str:
    if channel == "sms":
        return normalise_phone(sender, region) or sender.strip()
    return normalise_email(sender)


class IntakeService:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        hooks: Sequence[IntakeHook] = (),
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.settings = settings
        self.clock = clock
        self.hooks = list(hooks)

    @observe_intake
    async def accept(self, msg: InboundMessage) -> IntakeResult:
        """Store ``msg`` durably, exactly once; raise StoreUnavailable on any store failure.

        A retry is recognised by the UNIQUE (channel, provider_id) constraint rather than a
        look-up first: retries are rare, and the constraint also settles concurrent deliveries.
        """
        try:
            return await self._store(msg)
        except StoreUnavailable as exc:
            # A concurrent delivery of the same message won the UNIQUE constraint: that is success.
            if isinstance(exc.__cause__, IntegrityError):
                found = await self._find_existing(msg)
                if found is not None:
                    return found
            raise

    async def _find_existing(self, msg: InboundMessage) -> IntakeResult | None:
        async with self.db.read() as s:
            row = (
                await s.execute(
                    select(Message.id, Case.ref, Message.triage_reason, Message.priority)
                    .outerjoin(Case, Case.id == Message.case_id)
                    .where(Message.channel == msg.channel, Message.provider_id == msg.provider_id)
                )
            ).first()
        if row is None:
            return None
        log.info("message.duplicate", message_id=row[0], channel=msg.channel)
        MESSAGES_IN.labels(msg.channel, "duplicate").inc()
        return IntakeResult(row[0], True, row[1], row[2], row[3] == "urgent")

    async def _store(self, msg: InboundMessage) -> IntakeResult:
        now = self.clock()
        sender = normalise_sender(msg.channel, msg.sender, self.settings.sms.default_region)
        async with self.db.transaction() as tx:
            s = tx.session
            blocked = (
                await s.execute(select(BlockedSender.id).where(BlockedSender.address == sender))
            ).first() is not None
            match = await self._match(s, msg, sender, now)
            case = await s.get(Case, match.case_id) if match.case_id else None
            names = await self._known_names(s, case.id) if case else []
            language = self.settings.service.language
            body = classify(msg.text, known_names=names, language=language)
            subject = (
                classify(msg.subject, known_names=names, language=language) if msg.subject else None
            )
            stripped = {
                key: classify(value, known_names=names, language=language).redacted
                for key, value in (("quoted", msg.quoted_text), ("signature", msg.signature))
                if value
            }
            sealed = await seal_into(tx, self.keyring, msg.raw, b"original")
            sealed_html = (
                await seal_into(tx, self.keyring, msg.html.encode("utf-8"), b"html")
                if msg.html
                else None
            )
            flags = dict(msg.flags)
            for flag in match.flags:
                flags[flag] = True
            if blocked:
                flags["blocked_sender"] = True
            if msg.machine_mail:
                flags["machine_mail"] = True
            message = Message(
                direction="in",
                channel=msg.channel,
                provider_id=msg.provider_id,
                sender=sender,
                recipient=msg.recipient,
                case_id=match.case_id,
                contact_id=match.contact_id,
                subject=subject.redacted if subject else "",
                redacted_text=body.redacted,
                stripped=stripped,
                sealed_id=sealed.id,
                sealed_html_id=sealed_html.id if sealed_html else None,
                classification=_classification_record(body, subject, match),
                priority="urgent" if body.urgent else "normal",
                status="received" if match.case_id else "triage",
                triage_reason=match.triage_reason,
                flags=flags,
                email_message_id=msg.email_message_id,
                created_at=now,
            )
            s.add(message)
            await s.flush()
            await self._store_attachments(tx, message.id, msg)
            await enqueue_for_owners(
                s,
                message.id,
                case,
                urgent=body.urgent,
                triage_reason=match.triage_reason,
                now=now,
                blocked=blocked,
            )
            tx.audit(
                "system",
                "message.received",
                f"message:{message.id}",
                channel=msg.channel,
                case=case.ref if case else None,
                rule=match.rule,
                triage_reason=match.triage_reason,
                labels=body.labels,
                priority=message.priority,
                sealed_sha256=sealed.sha256,
            )
            if self.hooks:
                contact = await s.get(Contact, match.contact_id) if match.contact_id else None
                ctx = IntakeContext(tx, msg, message, case, contact, match, body, blocked, now)
                for hook in self.hooks:
                    await hook(ctx)
            result = IntakeResult(
                message.id, False, case.ref if case else None, match.triage_reason, body.urgent
            )
        MESSAGES_IN.labels(msg.channel, "triage" if result.triage_reason else "case").inc()
        log.info(
            "message.accepted",
            message_id=result.message_id,
            channel=msg.channel,
            case_ref=result.case_ref,
            triage=result.triage_reason,
            urgent=result.urgent,
        )
        return result

    async def _store_attachments(self, tx: Tx, message_id: int, msg: InboundMessage) -> None:
        for att in msg.attachments:
            sealed = (
                await seal_into(tx, self.keyring, att.data, b"attachment")
                if att.data is not None
                else None
            )
            tx.session.add(
                Attachment(
                    message_id=message_id,
                    filename=att.filename,
                    content_type=att.content_type,
                    size=len(att.data) if att.data is not None else 0,
                    sha256=sealed.sha256 if sealed else None,
                    sealed_id=sealed.id if sealed else None,
                    verdict=att.verdict,
                    reason=att.reason,
                    source_url=att.source_url,
                )
            )

    async def _match(
        self, s: AsyncSession, msg: InboundMessage, sender: str, now: datetime
    ) -> Match:
        token_lookup: TokenLookup | None = None
        token = (
            token_from_recipient(msg.recipient, self.settings.email.domain)
            if msg.channel == "email"
            else None
        )
        if token is not None:
            row = (
                await s.execute(
                    select(ReplyToken).where(
                        ReplyToken.token == token, ReplyToken.revoked_at.is_(None)
                    )
                )
            ).scalar_one_or_none()
            token_lookup = TokenLookup(
                CaseLink(row.case_id, row.contact_id) if row else None, row.issued_to if row else ""
            )
        thread: CaseLink | None = None
        if msg.in_reply_to:
            row2 = (
                await s.execute(
                    select(Message.case_id, Message.contact_id)
                    .where(
                        Message.direction == "out",
                        Message.email_message_id.in_(msg.in_reply_to),
                        Message.recipient == sender,
                        Message.case_id.is_not(None),
                    )
                    .order_by(Message.id.desc())
                    .limit(1)
                )
            ).first()
            if row2 is not None and row2[0] is not None:
                thread = CaseLink(row2[0], row2[1])
        address_column = Contact.phone if msg.channel == "sms" else Contact.email
        last_out = (
            select(func.max(Message.created_at))
            .where(Message.direction == "out", Message.contact_id == Contact.id)
            .scalar_subquery()
        )
        rows = (
            await s.execute(
                select(Contact.case_id, Contact.id, last_out)
                .join(Case, Case.id == Contact.case_id)
                .where(address_column == sender, Case.status == "open")
            )
        ).all()
        facts = MatchFacts(
            sender=sender,
            token=token_lookup,
            thread=thread,
            sender_links=[CaseLink(r[0], r[1], as_utc(r[2])) for r in rows],
            sender_auth_failed=msg.sender_auth_failed,
            dmarc_fail_policy=self.settings.email.dmarc_fail_policy,
        )
        return match_case(facts, now, timedelta(days=self.settings.routing.ambiguity_window_days))

    async def _known_names(self, s: AsyncSession, case_id: int) -> list[str]:
        rows = (
            (await s.execute(select(Contact.name).where(Contact.case_id == case_id)))
            .scalars()
            .all()
        )
        return [n for n in rows if n]


def _classification_record(
    body: Classification, subject: Classification | None, match: Match
) -> dict[str, object]:
    """What the queue shows and an auditor can check: which rule fired for each label."""
    entities = list(body.entities) + (list(subject.entities) if subject else [])
    return {
        "labels": sorted(set(body.labels) | set(subject.labels if subject else [])),
        "entities": [
            {"type": e.type, "rule": e.rule, "confidence": e.confidence} for e in entities
        ],
        "risks": [{"type": r.type, "rule": r.rule, "confidence": r.confidence} for r in body.risks],
        "match_rule": match.rule,
    }
