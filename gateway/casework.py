"""What caseworkers read: their queues, a case with its thread, one message, and the audited
reveal of a sealed original.

One function per thing a person does, each in one transaction (or one read plus its access-log
entry), with no HTTP: the JSON API and the caseworker pages are two renderings of these calls.
Anything outside the caller's scope is refused as if it did not exist (404).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import structlog
from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log import record_access, record_listing
from gateway.accounts import Staff
from gateway.core.templates import TemplateError, TemplateSet, render
from gateway.outbound import ReplyResult, ReplyService
from gateway.permissions import message_scope, queue_scope, sees_case
from gateway.sealing import Keyring, SealedBlob, SealingError
from gateway.storage.db import Database
from gateway.storage.models import (
    Attachment,
    BlockedSender,
    Case,
    Contact,
    Message,
    OutboxJob,
    QueueItem,
    SealedOriginal,
    User,
)
from gateway.triage import NewContact, block_sender, link_to_case, mark_spam, unblock_sender
from gateway.workqueue import Refused, take_for_reply

QUEUE_STATES = ("new", "claimed", "done", "journalled")
QUEUE_KINDS = ("user", "team", "duty", "triage")

log = structlog.get_logger("gateway.casework")


def not_visible(what: str) -> Refused:
    """The answer for anything missing or outside the caller's scope (never 403 for those)."""
    return Refused(404, "not_found", f"No {what} that you can see.")


async def visible_case(s: AsyncSession, staff: Staff, ref: str) -> Case:
    case = (await s.execute(select(Case).where(Case.ref == ref))).scalar_one_or_none()
    if case is None or not sees_case(staff, case):
        raise not_visible(f"case {ref}")
    return case


async def visible_message(
    s: AsyncSession, staff: Staff, message_id: int
) -> tuple[Message, Case | None]:
    m = await s.get(Message, message_id)
    case = await s.get(Case, m.case_id) if m is not None and m.case_id is not None else None
    if m is None or not message_scope(staff, case):
        raise not_visible(f"message {message_id}")
    return m, case


# --- queues ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    states: tuple[str, ...] = ("new", "claimed")
    urgent: bool | None = None
    channel: str | None = None
    queue: str | None = None  # one of QUEUE_KINDS
    after: tuple[int, int] | None = None  # (urgent, id) of the last item of the previous page
    limit: int = 50
    mine_only: bool = False  # only items given to or claimed by the caller (not team queues)


@dataclass(frozen=True)
class QueueRow:
    item: QueueItem
    message: Message
    case_ref: str | None


async def list_queue(db: Database, staff: Staff, f: QueueFilter) -> list[QueueRow]:
    """Items in ``staff``'s queues, urgent first then oldest first; ``limit + 1`` rows at most
    (the extra row tells the caller there is a next page)."""
    conditions = [queue_scope(staff), QueueItem.state.in_(f.states)]
    if f.urgent is not None:
        conditions.append(QueueItem.urgent == f.urgent)
    if f.channel:
        conditions.append(Message.channel == f.channel)
    if f.queue:
        conditions.append(QueueItem.owner_kind == f.queue)
    if f.mine_only:
        conditions.append(
            or_(
                and_(QueueItem.owner_kind == "user", QueueItem.owner_user_id == staff.id),
                QueueItem.claimed_by == staff.id,
            )
        )
    if f.after is not None:
        was_urgent, last_id = f.after
        after_in_group = and_(QueueItem.urgent == bool(was_urgent), QueueItem.id > last_id)
        later_group = QueueItem.urgent.is_(False) if was_urgent else false()
        conditions.append(or_(after_in_group, later_group))
    async with db.read() as s:
        rows = (
            await s.execute(
                select(QueueItem, Message, Case.ref)
                .join(Message, Message.id == QueueItem.message_id)
                .outerjoin(Case, Case.id == QueueItem.case_id)
                .where(*conditions)
                .order_by(QueueItem.urgent.desc(), QueueItem.id)
                .limit(f.limit + 1)
            )
        ).all()
    # Queue items show redacted text and the sender: a read of content, logged before served.
    await record_listing(
        db,
        staff,
        "queue.listed",
        f"queue:{f.queue or 'mine'}",
        [ref for _qi, _m, ref in rows[: f.limit]],
    )
    return [QueueRow(qi, m, ref) for qi, m, ref in rows]


async def case_ref_of(db: Database, item: QueueItem) -> str | None:
    if item.case_id is None:
        return None
    async with db.read() as s:
        return (
            await s.execute(select(Case.ref).where(Case.id == item.case_id))
        ).scalar_one_or_none()


# --- a case and its thread -------------------------------------------------------------------


@dataclass
class Thread:
    case: Case
    contacts: list[Contact]
    messages: list[Message]
    attachments: dict[int, list[Attachment]] = field(default_factory=dict)
    delivery: dict[int, OutboxJob] = field(default_factory=dict)
    authors: dict[int, str] = field(default_factory=dict)  # user id -> name


async def messages_with_parts(
    s: AsyncSession, msgs: Sequence[Message]
) -> tuple[dict[int, list[Attachment]], dict[int, OutboxJob]]:
    ids = [m.id for m in msgs]
    atts: dict[int, list[Attachment]] = {i: [] for i in ids}
    jobs: dict[int, OutboxJob] = {}
    if ids:
        for a in (
            (
                await s.execute(
                    select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
                )
            )
            .scalars()
            .all()
        ):
            atts[a.message_id].append(a)
        for j in (
            (await s.execute(select(OutboxJob).where(OutboxJob.message_id.in_(ids))))
            .scalars()
            .all()
        ):
            jobs[j.message_id] = j
    return atts, jobs


async def case_contacts(s: AsyncSession, case_id: int) -> list[Contact]:
    """The case's contacts, oldest first."""
    rows = await s.execute(select(Contact).where(Contact.case_id == case_id).order_by(Contact.id))
    return list(rows.scalars().all())


async def case_messages(s: AsyncSession, case_id: int) -> list[Message]:
    """The case's thread: every message of both channels and directions, in order."""
    rows = await s.execute(
        select(Message).where(Message.case_id == case_id).order_by(Message.created_at, Message.id)
    )
    return list(rows.scalars().all())


async def case_thread(db: Database, staff: Staff, ref: str) -> Thread:
    """The case, its contacts and its whole thread in order; the read is access-logged first."""
    async with db.read() as s:
        case = await visible_case(s, staff, ref)
        contacts = await case_contacts(s, case.id)
        msgs = await case_messages(s, case.id)
        atts, jobs = await messages_with_parts(s, msgs)
        author_ids = {m.author_id for m in msgs if m.author_id is not None}
        authors = (
            dict((await s.execute(select(User.id, User.name).where(User.id.in_(author_ids)))).all())
            if author_ids
            else {}
        )
    await record_access(db, staff, "case.thread", f"case:{case.id}", case.ref)
    return Thread(case, contacts, msgs, atts, jobs, {int(k): str(v) for k, v in authors.items()})


@dataclass(frozen=True)
class OneMessage:
    message: Message
    case_ref: str | None
    attachments: list[Attachment]
    delivery: OutboxJob | None


async def read_message(db: Database, staff: Staff, message_id: int) -> OneMessage:
    async with db.read() as s:
        m, case = await visible_message(s, staff, message_id)
        atts, jobs = await messages_with_parts(s, [m])
    ref = case.ref if case else None
    await record_access(db, staff, "message.read", f"message:{m.id}", ref)
    return OneMessage(m, ref, atts[m.id], jobs.get(m.id))


# --- reveal ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revealed:
    message_id: int
    what: str  # text | html | attachment:<id>
    sha256: str
    raw: bytes
    text: str | None = None
    html: str | None = None
    filename: str | None = None
    content_type: str | None = None


def readable_original(raw: bytes, channel: str) -> str:
    """The family's own words from the original, for the person who asked to see them."""
    if channel == "sms":
        values = parse_qs(raw.decode("utf-8", "replace")).get("Body")
        return values[0] if values else ""
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain", "html"))
        return str(part.get_content()) if part is not None else ""
    except (LookupError, ValueError, AttributeError):
        return ""


async def reveal_original(
    db: Database,
    keyring: Keyring,
    staff: Staff,
    message_id: int,
    *,
    reason: str,
    attachment_id: int | None = None,
    html: bool = False,
) -> Revealed:
    """Open a sealed original; the reason is recorded in the audit event, which is committed
    before anything is returned."""
    reason = reason.strip()
    if len(reason) < 5:
        raise Refused(400, "bad_request", "Give a reason of at least 5 characters.")
    async with db.transaction() as tx:
        m, case = await visible_message(tx.session, staff, message_id)
        attachment: Attachment | None = None
        if attachment_id is not None:
            attachment = await tx.session.get(Attachment, attachment_id)
            if attachment is None or attachment.message_id != m.id:
                raise not_visible(f"attachment {attachment_id} on message {m.id}")
            sealed_id, context = attachment.sealed_id, b"attachment"
        elif html:
            if m.sealed_html_id is None:
                raise Refused(404, "no_html", "This message has no HTML copy.")
            sealed_id, context = m.sealed_html_id, b"html"
        else:
            sealed_id = m.sealed_id
            context = b"original" if m.direction == "in" else b"outbound"
        row = await tx.session.get(SealedOriginal, sealed_id) if sealed_id is not None else None
        if row is None:
            raise Refused(404, "not_stored", "No sealed original is stored for this.")
        try:
            raw = keyring.open(SealedBlob(row.key_id, row.nonce, row.ciphertext), context)
        except SealingError as exc:
            # An operator's problem, not the caseworker's: say so, and log which key (no content).
            log.error(
                "reveal.sealing_key_problem",
                message_id=m.id,
                key_id=row.key_id,
                problem="missing" if row.key_id not in keyring.keys else "does_not_open",
            )
            raise Refused(
                503,
                "original_unavailable",
                f"The original cannot be opened: sealing key {row.key_id} is not loaded or not "
                "the key that sealed it. Ask an operator to restore the key file.",
            ) from exc
        what = (
            f"attachment:{attachment.id}"
            if attachment
            else ("html" if context == b"html" else "text")
        )
        tx.audit(
            staff.email,
            "original.revealed",
            f"message:{m.id}",
            what=what,
            reason=reason,
            sha256=row.sha256,
        )
    # Also in the access log, beside every other reading of content (before it is returned).
    await record_access(
        db, staff, "original.revealed", f"message:{m.id}", case.ref if case else None
    )
    if attachment is not None:
        return Revealed(
            m.id,
            what,
            row.sha256,
            raw,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
    if what == "html":
        return Revealed(m.id, what, row.sha256, raw, html=raw.decode("utf-8", "replace"))
    text = (
        raw.decode("utf-8", "replace")
        if m.direction == "out"
        else readable_original(raw, m.channel)
    )
    return Revealed(m.id, what, row.sha256, raw, text=text)


# --- reply -----------------------------------------------------------------------------------


async def reply_to_case(
    db: Database,
    replies: ReplyService,
    staff: Staff,
    ref: str,
    *,
    body: str,
    channel: str | None = None,
    contact_id: int | None = None,
    queue_item_id: int | None = None,
    dry_run: bool = False,
) -> ReplyResult:
    """Queue a reply on a case of the caller's team (closing ``queue_item_id`` with it), or with
    ``dry_run`` only check it and count its SMS segments."""
    async with db.transaction() as tx:
        case = await visible_case(tx.session, staff, ref)
        if queue_item_id is not None and not dry_run:
            await take_for_reply(tx, staff, queue_item_id, case.id)
        return await replies.reply_in(
            tx,
            actor=staff.email,
            author_id=staff.id,
            case_ref=case.ref,
            body=body,
            channel=channel,
            contact_id=contact_id,
            dry_run=dry_run,
        )


async def attachment_message(
    db: Database, staff: Staff, attachment_id: int
) -> tuple[Attachment, str | None]:
    """An attachment the caller may see, with its case ref (None for a triage message)."""
    async with db.read() as s:
        attachment = await s.get(Attachment, attachment_id)
        if attachment is None:
            raise not_visible(f"attachment {attachment_id}")
        _m, case = await visible_message(s, staff, attachment.message_id)
    return attachment, case.ref if case else None


# --- triage ----------------------------------------------------------------------------------


async def link_from_triage(
    db: Database,
    staff: Staff,
    message_id: int,
    case_ref: str,
    *,
    reason: str,
    contact_id: int | None = None,
    new_contact: NewContact | None = None,
) -> tuple[Message, Case, Contact | None]:
    """Link a triage message to a case of the caller's team (optionally adding its sender as an
    unverified contact of that case); audited by :func:`gateway.triage.link_to_case`."""
    async with db.transaction() as tx:
        m, _ = await visible_message(tx.session, staff, message_id)
        case = await visible_case(tx.session, staff, case_ref.strip())
        contact = await link_to_case(
            tx,
            staff,
            m,
            case,
            reason=reason.strip(),
            contact_id=contact_id,
            new_contact=new_contact,
        )
    return m, case, contact


async def mark_message_spam(
    db: Database, staff: Staff, message_id: int, *, kind: str, reason: str
) -> Message:
    async with db.transaction() as tx:
        m, _ = await visible_message(tx.session, staff, message_id)
        await mark_spam(tx, staff, m, kind=kind, reason=reason.strip())
    return m


async def block_message_sender(
    db: Database, staff: Staff, message_id: int, *, reason: str
) -> BlockedSender:
    async with db.transaction() as tx:
        m, _ = await visible_message(tx.session, staff, message_id)
        return await block_sender(tx, staff, m, reason=reason.strip())


async def unblock(db: Database, staff: Staff, blocked_id: int, *, reason: str) -> None:
    async with db.transaction() as tx:
        await unblock_sender(tx, staff, blocked_id, reason=reason.strip())


async def blocked_senders(db: Database) -> list[BlockedSender]:
    async with db.read() as s:
        return list(
            (await s.execute(select(BlockedSender).order_by(BlockedSender.id))).scalars().all()
        )


# --- reply templates ---------------------------------------------------------------------------

REPLY_KIND_PREFIX = "reply_"


@dataclass(frozen=True)
class ReplyTemplate:
    kind: str  # reply_<name>, from <language>/reply_<name>.txt in practice.templates_dir
    title: str
    body: str


def reply_templates(
    templates: TemplateSet, language: str, values: Mapping[str, str], default_language: str
) -> list[ReplyTemplate]:
    """The practice's reply templates in ``language`` (else the default language), filled in;
    one that asks for a value we do not have is left out."""
    kinds = sorted(
        {kind for (_, kind) in templates.templates if kind.startswith(REPLY_KIND_PREFIX)}
    )
    out = []
    for kind in kinds:
        try:
            body = render(templates, kind, language, values, default_language)
        except TemplateError:
            continue
        title = kind.removeprefix(REPLY_KIND_PREFIX).replace("_", " ").capitalize()
        out.append(ReplyTemplate(kind, title, body))
    return out
