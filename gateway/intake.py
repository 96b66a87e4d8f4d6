"""The intake pipeline: normalise -> match -> classify -> persist -> acknowledge.

``IntakeService.accept`` is what every inbound connector calls. It returns only after the
message, its sealed original, queue items and audit events are committed (invariant 1), and it
is idempotent on (channel, provider id) (invariant 2).

Group commit: ``accept`` hands the message to one writer task per process, which takes whatever
has queued meanwhile (up to ``intake.batch_max``), writes each message in its own savepoint, so
one bad message never fails its neighbours, commits once and only then answers every waiting
webhook or SMTP session. Under load many messages share one transaction and one fsync; alone, a
message waits for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import structlog
from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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
from gateway.intake_cache import DirectoryCache
from gateway.metrics import MESSAGES_IN, observe_intake
from gateway.queues import owners_queue_items
from gateway.sealing import Keyring
from gateway.settings import Settings
from gateway.storage.db import (
    Database,
    StoreUnavailable,
    Tx,
    as_utc,
    forget_inserted_rows,
    insert_object_sync,
    insert_row_sync,
    inserted_rows_mark,
    inserting,
    utcnow,
    write_changes_sync,
)
from gateway.storage.models import (
    Attachment,
    Case,
    Contact,
    Message,
    QueueItem,
    ReplyToken,
    SealedOriginal,
    User,
)
from gateway.storage.sqlite_driver import RIDES_WITH_NEXT

log = structlog.get_logger("gateway.intake")


@dataclass
class IntakeBatch:
    """The messages one intake transaction is about to store, for hooks that look things up
    once per batch instead of once per message (``prepare``).

    ``stored`` grows as each message's savepoint is released, so a hook can count what this
    batch has already stored on top of what it read before the first message was written; a
    message whose savepoint rolled back is never in it. ``facts`` holds each hook's look-ups
    under a key of its own.
    """

    tx: Tx
    now: datetime
    senders: frozenset[tuple[str, str]]  # (channel, normalised sender address)
    # Bumped by every write to contacts, cases, users or blocked senders in this process: a
    # hook compares it with its value at ``prepare`` to know its look-ups of those still hold.
    directory_generation: Callable[[], int]
    stored: list[Message] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


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
    batch: IntakeBatch | None = None  # None when the message is stored on its own
    queue_items: list[QueueItem] = field(default_factory=list)  # the owners' items, as queued


# Policies that act on every stored message (SMS keywords, auto-replies, notifications, ...).
# They write through ``ctx.tx`` so their effects commit, or roll back, with the message.
IntakeHook = Callable[[IntakeContext], Awaitable[None]]


@runtime_checkable
class BatchPreparing(Protocol):
    """A hook that reads what it needs for a whole batch at once, before its first message.

    ``prepare`` runs inside the batch's transaction (so, on PostgreSQL, after locks it takes
    there); what it reads is only as fresh as that moment, so the hook itself must account for
    what the batch writes (``IntakeBatch.stored``, or ``Database.directory_generation``).
    """

    async def prepare(self, batch: IntakeBatch) -> None: ...


@dataclass(frozen=True)
class IntakeResult:
    message_id: int
    duplicate: bool
    case_ref: str | None = None
    triage_reason: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Sealed:
    """A stored sealed blob, as the rows that point at it need it."""

    id: int
    sha256: str
    size: int


async def seal_into(tx: Tx, keyring: Keyring, data: bytes, context: bytes) -> Sealed:
    """Store ``data`` encrypted; the row keeps the key id so keys can rotate.

    One Core ``INSERT … RETURNING`` (every message seals at least its original, so this is on
    the hot path); nothing reads the row back in the same transaction.
    """
    return await tx.session.run_sync(seal_sync, keyring, data, context)


def _sealed_row(keyring: Keyring, data: bytes, context: bytes) -> dict[str, Any]:
    """The ``sealed_original`` row that stores ``data`` encrypted under the current key."""
    blob = keyring.seal(data, context)
    return {
        "key_id": blob.key_id,
        "nonce": blob.nonce,
        "ciphertext": blob.ciphertext,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "created_at": utcnow(),
    }


def seal_sync(session: Session, keyring: Keyring, data: bytes, context: bytes) -> Sealed:
    """``seal_into`` inside ``AsyncSession.run_sync``, with the other writes of a message."""
    row = _sealed_row(keyring, data, context)
    new_id = session.connection().execute(inserting(_SEALED), row).scalar_one()
    return Sealed(int(new_id), row["sha256"], len(data))


_SEALED = cast(Table, SealedOriginal.__table__)
_MESSAGE = cast(Table, Message.__table__)

# SQLite: the sealed original rides with the message's INSERT to the database thread (one trip
# for both, gateway/storage/sqlite_driver.py); the message takes the original's id from
# ``last_insert_rowid()`` and returns it. Both run in the message's savepoint, so a failure of
# either undoes both.
_SEALED_RIDING = insert(_SEALED).prefix_with(RIDES_WITH_NEXT)
_MESSAGE_AFTER_SEAL = (
    insert(_MESSAGE)
    .values(sealed_id=func.last_insert_rowid())
    .returning(_MESSAGE.c.id, _MESSAGE.c.sealed_id)
)


def seal_riding_sync(session: Session, keyring: Keyring, data: bytes, context: bytes) -> str:
    """SQLite: ``seal_sync`` without waiting for the row's id; the very next statement must
    be the INSERT that points at it (``_MESSAGE_AFTER_SEAL``). Returns the SHA-256."""
    row = _sealed_row(keyring, data, context)
    session.connection().execute(_SEALED_RIDING, row)
    digest: str = row["sha256"]
    return digest


# A caller's own write that must commit with the message, or with the finding that it was
# stored before (an e-mail receipt marked processed). Raising undoes this message's writes.
IntakeFinish = Callable[[Tx, "IntakeResult"], Awaitable[None]]


@functools.lru_cache(maxsize=4096)
def normalise_sender(channel: str, sender: str, region: str) -> str:
    """The sender's address as contacts store it (E.164, or a normalised e-mail address).

    Remembered: parsing a phone number costs about as much as a statement, and a batch asks
    for every sender twice (the batch's look-ups, then the message), a family writes again.
    """
    if channel == "sms":
        return normalise_phone(sender, region) or sender.strip()
    return normalise_email(sender)


T = TypeVar("T")


def take_queued(queue: asyncio.Queue[T | None], batch: list[T], limit: int) -> bool:
    """Add to ``batch`` what has queued meanwhile, up to ``limit`` in all (a batching
    writer's next transaction); True when the queue was closed (``None``) on the way."""
    while len(batch) < limit and not queue.empty():
        nxt = queue.get_nowait()
        if nxt is None:
            return True
        batch.append(nxt)
    return False


@dataclass
class _Waiting:
    """A message handed to the writer and the sender's connection waiting for its answer."""

    msg: InboundMessage
    answer: asyncio.Future[IntakeResult]
    finish: IntakeFinish | None = None


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
        self._queue: asyncio.Queue[_Waiting | None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written, for tests and benchmarks
        self.directory = DirectoryCache(db)

    @observe_intake
    async def accept(self, msg: InboundMessage, finish: IntakeFinish | None = None) -> IntakeResult:
        """Store ``msg`` durably, exactly once; raise StoreUnavailable on any store failure.

        ``finish`` runs in the same transaction (and savepoint) as the message's own writes.

        Returns after the transaction holding the message has committed. A retry is recognised
        by the UNIQUE (channel, provider_id) constraint rather than a look-up first: retries are
        rare, and the constraint also settles concurrent deliveries (other processes too).
        """
        queue = self._writer_queue()
        answer: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_Waiting(msg, answer, finish))
        # The sender hanging up does not stop the write; its retry is then a duplicate.
        return await asyncio.shield(answer)

    def _writer_queue(self) -> asyncio.Queue[_Waiting | None]:
        """The writer of this event loop, started on first use."""
        loop = asyncio.get_running_loop()
        if (
            self._queue is None
            or self._writer is None
            or self._writer.done()  # never expected; a new writer rather than a hang
            or self._writer.get_loop() is not loop
        ):
            self._queue = asyncio.Queue()
            self._writer = loop.create_task(self._write_batches(self._queue), name="intake-writer")
        return self._queue

    async def close(self) -> None:
        """Store and answer everything already handed over, then stop the writer."""
        writer, queue = self._writer, self._queue
        self._writer = self._queue = None
        if writer is None or queue is None or writer.done():
            return
        if writer.get_loop() is not asyncio.get_running_loop():
            return  # a loop that is gone; nothing of it can be waiting
        queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writer

    async def _write_batches(self, queue: asyncio.Queue[_Waiting | None]) -> None:
        cfg = self.settings.intake
        while True:
            first = await queue.get()
            if first is None:
                return
            batch = [first]
            if cfg.batch_wait_ms > 0:
                await asyncio.sleep(cfg.batch_wait_ms / 1000)
            else:
                await asyncio.sleep(0)  # let handlers that are ready hand over theirs too
            closing = take_queued(queue, batch, cfg.batch_max)
            try:
                await self._write_batch(batch)
            except Exception as exc:  # a bug here must not leave senders waiting forever
                log.error("intake.writer_failed", error=exc.__class__.__name__)
                for waiting in batch:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(StoreUnavailable(exc.__class__.__name__))
            if closing:
                return

    async def _write_batch(self, batch: list[_Waiting]) -> None:
        """One transaction for the batch, one savepoint per message; answer after the commit."""
        outcomes: list[IntakeResult | BaseException] = []
        first_of: dict[tuple[str, str | None], int] = {}
        try:
            async with self.db.transaction() as tx:
                await self.directory.start_batch(tx.session)
                prepared = await self._prepare(tx, [waiting.msg for waiting in batch])
                for waiting in batch:
                    outcomes.append(
                        await self._write_one(
                            tx, waiting.msg, first_of, outcomes, prepared, waiting.finish
                        )
                    )
                    if isinstance(outcomes[-1], IntakeResult) and not outcomes[-1].duplicate:
                        first_of[(waiting.msg.channel, waiting.msg.provider_id)] = len(outcomes) - 1
        except Exception as exc:  # the commit failed: nobody in the batch is stored
            self.batches += 1
            self.directory.clear()  # its rows were expired by the rollback
            failure = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(repr(exc))
            log.error("intake.batch_failed", messages=len(batch), error=str(failure))
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(failure)
            return
        self.batches += 1
        for waiting, outcome in zip(batch, outcomes, strict=True):
            self._answer(waiting, outcome)

    async def _prepare(self, tx: Tx, msgs: list[InboundMessage]) -> IntakeBatch:
        """Look up, once for the batch, what every message of it will need."""
        region = self.settings.sms.default_region
        senders = frozenset(
            (msg.channel, normalise_sender(msg.channel, msg.sender, region)) for msg in msgs
        )
        batch = IntakeBatch(tx, self.clock(), senders, lambda: self.db.directory_generation)
        await self.directory.prefetch_links(tx.session, senders)
        for hook in self.hooks:
            if isinstance(hook, BatchPreparing):
                await hook.prepare(batch)
        return batch

    async def _write_one(
        self,
        tx: Tx,
        msg: InboundMessage,
        first_of: dict[tuple[str, str | None], int],
        outcomes: list[IntakeResult | BaseException],
        batch: IntakeBatch | None = None,
        finish: IntakeFinish | None = None,
    ) -> IntakeResult | BaseException:
        earlier = first_of.get((msg.channel, msg.provider_id))
        if earlier is not None:  # the same message twice in one batch (a quick retry)
            first = outcomes[earlier]
            assert isinstance(first, IntakeResult)
            return await self._finished(
                tx,
                finish,
                IntakeResult(
                    first.message_id, True, first.case_ref, first.triage_reason, first.urgent
                ),
            )
        mark, queued = len(tx.events), len(tx.queued_outbound)
        rows = inserted_rows_mark(tx.session)
        try:
            async with tx.session.begin_nested():
                result, message = await self._write(tx, msg, batch)
                if finish is not None:
                    await finish(tx, result)
            if batch is not None:
                batch.stored.append(message)
            return result
        except IntegrityError as exc:
            del tx.events[mark:], tx.queued_outbound[queued:]
            forget_inserted_rows(tx.session, rows)
            self.directory.clear()  # rows loaded inside the rolled-back savepoint are expired
            # A delivery stored earlier (or by another process) won the UNIQUE constraint.
            found = await self._find_existing(tx.session, msg)
            if found is None:
                return StoreUnavailable(exc.__class__.__name__)
            return await self._finished(tx, finish, found)
        except SQLAlchemyError as exc:
            del tx.events[mark:], tx.queued_outbound[queued:]
            forget_inserted_rows(tx.session, rows)
            self.directory.clear()
            return StoreUnavailable(exc.__class__.__name__)
        except Exception as exc:  # a policy hook failed: this message only, as before
            del tx.events[mark:], tx.queued_outbound[queued:]
            forget_inserted_rows(tx.session, rows)
            self.directory.clear()
            return exc

    async def _finished(
        self, tx: Tx, finish: IntakeFinish | None, result: IntakeResult
    ) -> IntakeResult | BaseException:
        """Run ``finish`` for a message found stored already, in a savepoint of its own."""
        if finish is None:
            return result
        mark = len(tx.events)
        try:
            async with tx.session.begin_nested():
                await finish(tx, result)
        except SQLAlchemyError as exc:
            del tx.events[mark:]
            return StoreUnavailable(exc.__class__.__name__)
        except Exception as exc:
            del tx.events[mark:]
            return exc
        return result

    def _answer(self, waiting: _Waiting, outcome: IntakeResult | BaseException) -> None:
        msg = waiting.msg
        if isinstance(outcome, IntakeResult):
            if outcome.duplicate:
                log.info("message.duplicate", message_id=outcome.message_id, channel=msg.channel)
                MESSAGES_IN.labels(msg.channel, "duplicate").inc()
            else:
                MESSAGES_IN.labels(msg.channel, "triage" if outcome.triage_reason else "case").inc()
                log.info(
                    "message.accepted",
                    message_id=outcome.message_id,
                    channel=msg.channel,
                    case_ref=outcome.case_ref,
                    triage=outcome.triage_reason,
                    urgent=outcome.urgent,
                )
            if not waiting.answer.done():
                waiting.answer.set_result(outcome)
        elif not waiting.answer.done():
            waiting.answer.set_exception(outcome)

    async def stored_original_sha256(self, channel: str, provider_id: str) -> str | None:
        """The SHA-256 of the sealed original stored under this provider id, if any.

        Lets a connector tell a retry (same bytes) from a different message that reuses an
        identifier (an e-mail Message-ID), which must be stored, not answered as a duplicate.
        """
        async with self.db.read() as s:
            return (
                await s.execute(
                    select(SealedOriginal.sha256)
                    .join(Message, Message.sealed_id == SealedOriginal.id)
                    .where(Message.channel == channel, Message.provider_id == provider_id)
                )
            ).scalar_one_or_none()

    async def _find_existing(self, s: AsyncSession, msg: InboundMessage) -> IntakeResult | None:
        row = (
            await s.execute(
                select(Message.id, Case.ref, Message.triage_reason, Message.priority)
                .outerjoin(Case, Case.id == Message.case_id)
                .where(Message.channel == msg.channel, Message.provider_id == msg.provider_id)
            )
        ).first()
        if row is None:
            return None
        return IntakeResult(row[0], True, row[1], row[2], row[3] == "urgent")

    async def _write(
        self, tx: Tx, msg: InboundMessage, batch: IntakeBatch | None = None
    ) -> tuple[IntakeResult, Message]:
        """Write one message, its sealed original, queue items and audit event into ``tx``."""
        now = self.clock()
        sender = normalise_sender(msg.channel, msg.sender, self.settings.sms.default_region)
        s = tx.session
        blocked = await self.directory.is_blocked(s, sender)
        match = await self._match(s, msg, sender, now)
        case = await self.directory.row(s, Case, match.case_id) if match.case_id else None
        names = await self.directory.known_names(s, case.id) if case else []
        if case is not None and case.caseworker_id is not None:
            # Into the session's identity map, so the queue's ownership rule reads no row.
            await self.directory.row(s, User, case.caseworker_id)
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
        flags = dict(msg.flags)
        for flag in match.flags:
            flags[flag] = True
        if blocked:
            flags["blocked_sender"] = True
        if msg.machine_mail:
            flags["machine_mail"] = True
        # The owners' queue items, their message id set once the message has one.
        queued = await owners_queue_items(
            s,
            0,
            case,
            urgent=body.urgent,
            triage_reason=match.triage_reason,
            now=now,
            blocked=blocked,
        )
        keyring = self.keyring
        one_trip = self.db.is_sqlite

        def write_rows(ss: Session) -> tuple[Sealed, Message]:
            """The sealed original, the message and its queue items: one hand-over to the
            synchronous side for all of them, each still its own pre-built INSERT."""
            riding = one_trip and not msg.html
            if riding:
                digest = seal_riding_sync(ss, keyring, msg.raw, b"original")
            else:
                sealed = seal_sync(ss, keyring, msg.raw, b"original")
            sealed_html = (
                seal_sync(ss, keyring, msg.html.encode("utf-8"), b"html") if msg.html else None
            )
            message = insert_row_sync(
                ss,
                Message,
                dict(
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
                    sealed_id=None if riding else sealed.id,
                    sealed_html_id=sealed_html.id if sealed_html else None,
                    classification=_classification_record(body, subject, match),
                    priority="urgent" if body.urgent else "normal",
                    status="received" if match.case_id else "triage",
                    triage_reason=match.triage_reason,
                    flags=flags,
                    email_message_id=msg.email_message_id,
                    created_at=now,
                ),
                _MESSAGE_AFTER_SEAL if riding else None,
            )
            if riding:
                sealed = Sealed(int(message.sealed_id or 0), digest, len(msg.raw))
            for item in queued:
                item.message_id = message.id
                insert_object_sync(ss, item)
            return sealed, message

        sealed, message = await s.run_sync(write_rows)
        await self._store_attachments(tx, message.id, msg)
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
            contact = (
                await self.directory.row(s, Contact, match.contact_id) if match.contact_id else None
            )
            ctx = IntakeContext(
                tx, msg, message, case, contact, match, body, blocked, now, batch, queued
            )
            for hook in self.hooks:
                await hook(ctx)
            # The hooks' flags by one UPDATE of their own, not the savepoint's flush.
            await s.run_sync(write_changes_sync, message)
        result = IntakeResult(
            message.id, False, case.ref if case else None, match.triage_reason, body.urgent
        )
        return result, message

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
        links = await self.directory.open_case_links(s, msg.channel, sender)
        last_out: dict[int, datetime | None] = {}
        if len(links) > 1:  # only several open cases need the latest outbound to choose
            rows = (
                await s.execute(
                    select(Message.contact_id, func.max(Message.created_at))
                    .where(
                        Message.direction == "out",
                        Message.contact_id.in_([contact for _, contact in links]),
                    )
                    .group_by(Message.contact_id)
                )
            ).all()
            last_out = {int(r[0]): as_utc(r[1]) for r in rows if r[0] is not None}
        facts = MatchFacts(
            sender=sender,
            token=token_lookup,
            thread=thread,
            sender_links=[
                CaseLink(case, contact, last_out.get(contact)) for case, contact in links
            ],
            sender_auth_failed=msg.sender_auth_failed,
            dmarc_fail_policy=self.settings.email.dmarc_fail_policy,
            sender_verified=msg.sender_verified,
        )
        return match_case(facts, now, timedelta(days=self.settings.routing.ambiguity_window_days))


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
