"""Inbound receipts: a message is committed as received, answered, and processed after.

Two phases (DESIGN invariants 1, 2 and 8). At receipt a connector does only the checks that
must answer in the session, computes the channel's exactly-once key without parsing, and
hands the raw bytes to ``ReceiptWriter``: one writer task per process takes whatever has
queued, seals each payload and inserts it in its own savepoint, commits once and only then
answers every waiting session. A retry of a receipt still waiting hits the UNIQUE
(channel, receipt_key) and is answered as stored; one of a message processed already is
recognised by the message's own UNIQUE when it is processed.

Each new receipt is born leased to the instance that took it and handed to its
``ReceiptWorker`` in memory at once (no claim, no unsealing). The worker processes it off the
answer path: the channel's processor parses it within its budget and stores the message
through the intake, and the receipt is deleted in that same transaction, only while this
instance still holds its lease. A crash before that commit leaves the receipt; once its lease
runs out any instance claims it (``SKIP LOCKED`` on PostgreSQL) and processes it again, and
the UNIQUE on the message settles a race. The worker renews the leases of what it holds, and
on stop takes nothing new, lets what is being processed finish for a while and hands the
rest back (lease cleared) for the next instance.

The table and this module are channel-neutral (``details`` carries what a channel needs):
e-mail (key: Message-ID and recipient) and SMS (key: Twilio's MessageSid) go through them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import (
    CursorResult,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from gateway.core.email.receipt_key import bounded_provider_id
from gateway.intake import IntakeFinish, IntakeResult, take_queued
from gateway.metrics import RECEIPT_SECONDS, RECEIPTS_IN_FLIGHT
from gateway.sealing import Keyring, SealedBlob
from gateway.settings import Settings
from gateway.storage.db import Database, StoreUnavailable, Tx, as_utc, utcnow
from gateway.storage.models import InboundReceipt, Message, SealedOriginal
from gateway.workers import poll_until_stopped

log = structlog.get_logger("gateway.receipts")

SEAL_CONTEXT = b"receipt"
_RECEIPTS = cast(Table, InboundReceipt.__table__)
# One receipt, executed with its row as parameters (compiled once, not per receipt).
_INSERT_ONE = insert(_RECEIPTS).returning(_RECEIPTS.c.id)
# While senders are being answered (a receipt batch within BURST_SECONDS), processing goes on
# at this many at once, so the event loop and the database answer senders first; after the
# burst it goes on at ``email.receipt_concurrency``.
BURST_CONCURRENCY = 1
BURST_SECONDS = 0.2
# During a burst, processing takes at most this share of the time: after each message processed
# in a burst the next one waits (1 / share - 1) times as long as that one took. Never nothing,
# and only while the oldest message waiting here is younger than BURST_MAX_LAG_SECONDS: past
# that, processing goes on at BURST_CONCURRENCY without rest, so load that never ends (a
# steady stream) is filed at least as fast as before, with a lag that stays bounded.
BURST_SHARE = 0.25
BURST_MAX_LAG_SECONDS = 10.0


@dataclass(frozen=True)
class Receipt:
    """What a connector hands over: the message as received and its exactly-once key."""

    channel: str
    key: str
    sender: str
    recipient: str
    raw: bytes
    details: dict[str, Any] = field(default_factory=dict)
    # An e-mail Message-ID can be reused by a different message (other bytes, same key): kept
    # beside it under a key of its own. A Twilio MessageSid never is: the same key with other
    # bytes is still Twilio's retry of the same message (parameters may come in another order).
    key_may_be_reused: bool = True


@dataclass(frozen=True)
class HeldReceipt:
    """A committed receipt this instance holds the lease of, with its payload unsealed."""

    id: int
    channel: str
    key: str
    sender: str
    recipient: str
    raw: bytes
    details: dict[str, Any]
    received_at: datetime
    attempts: int


class _BatchRefused(Exception):
    """The database refused a batch's INSERT: write it again, one receipt at a time."""


class LeaseLost(Exception):
    """Another instance took the receipt over (our lease ran out): it finishes it, not us."""


# A channel's processing: parse the held receipt and store it through the intake, passing
# ``finish`` on (it deletes the receipt in the message's own transaction).
Processor = Callable[[HeldReceipt, IntakeFinish], Awaitable[IntakeResult]]


@dataclass
class _Waiting:
    receipt: Receipt
    answer: asyncio.Future[HeldReceipt | None]


_Outcome = HeldReceipt | None | StoreUnavailable


class ReceiptWriter:
    """Group commit for receipts: one transaction for what has queued, a savepoint each."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        owner: str,
        lease_seconds: float,
        batch_max: int = 64,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.batch_max = batch_max
        self.clock = clock
        self._queue: asyncio.Queue[_Waiting | None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.last_batch_at = float("-inf")  # time.monotonic() the latest batch began or ended
        self.writing = False  # a batch is being written now: senders are waiting for it
        self._insert_stmt: Any = None

    async def write(self, receipt: Receipt) -> HeldReceipt | None:
        """Commit ``receipt``, leased to this instance; None when it was received before.

        Raises StoreUnavailable when the commit failed: the sender must be told to retry.
        """
        loop = asyncio.get_running_loop()
        if (
            self._queue is None
            or self._writer is None
            or self._writer.done()
            or self._writer.get_loop() is not loop  # a runtime used again on another loop
        ):
            self._queue = asyncio.Queue()
            self._writer = loop.create_task(self._write_batches(self._queue), name="receipts")
        answer: asyncio.Future[HeldReceipt | None] = loop.create_future()
        self._queue.put_nowait(_Waiting(receipt, answer))
        # A session that hangs up does not stop the write; its retry is then a duplicate.
        return await asyncio.shield(answer)

    async def close(self) -> None:
        """Commit and answer what was handed over, then stop the writer task."""
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
        while True:
            first = await queue.get()
            if first is None:
                return
            await asyncio.sleep(0)  # let sessions that are ready hand over theirs too
            batch = [first]
            self.last_batch_at = time.monotonic()
            self.writing = True
            closing = take_queued(queue, batch, self.batch_max)
            try:
                held = await self._write_batch([w.receipt for w in batch])
            except Exception as exc:  # the commit failed: nothing of the batch is stored
                failure = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(repr(exc))
                log.error("receipts.batch_failed", receipts=len(batch), error=str(failure))
                for waiting in batch:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(failure)
            else:
                for waiting, one in zip(batch, held, strict=True):
                    if waiting.answer.done():
                        continue
                    if isinstance(one, StoreUnavailable):
                        waiting.answer.set_exception(one)
                    else:
                        waiting.answer.set_result(one)
            finally:
                self.writing = False
                self.last_batch_at = time.monotonic()
            if closing:
                return

    async def _write_batch(self, batch: list[Receipt]) -> list[_Outcome]:
        """One transaction: the whole batch in one multi-row INSERT … ON CONFLICT DO NOTHING.

        No savepoint around it: each is two more round trips on every batch, for a failure
        that is rare. If the database refuses the INSERT (one row it will not take), the
        transaction is rolled back and the batch written again in a new one, each receipt in
        a savepoint of its own, so one bad receipt never fails its neighbours. A receipt that
        conflicts (a retry of one still waiting, or a reused key) is settled on its own.
        """
        try:
            return await self._write_rows(batch, together=True)
        except _BatchRefused:
            return await self._write_rows(batch, together=False)

    async def _write_rows(self, batch: list[Receipt], *, together: bool) -> list[_Outcome]:
        now = self.clock()
        lease_until = now + timedelta(seconds=self.lease_seconds)
        out: list[_Outcome] = []
        rows: dict[int, dict[str, Any]] = {}
        seen: set[tuple[str, str]] = set()
        async with self.db.transaction() as tx:
            filed = await _filed_digests(tx, batch)
            for i, receipt in enumerate(batch):
                row = self._row(receipt, now, lease_until, filed)
                if row is None or (receipt.channel, row["receipt_key"]) in seen:
                    out.append(None)  # filed already, or a quick retry in the same batch
                    continue
                seen.add((receipt.channel, row["receipt_key"]))
                rows[i] = row
                out.append(None)
            inserted = await self._insert_all(tx, list(rows.values())) if together else {}
            for i, row in rows.items():
                new_id = inserted.get((row["channel"], row["receipt_key"]))
                try:
                    if new_id is not None:
                        out[i] = _held(new_id, batch[i], row)
                    else:  # conflicted, or the batch is written one by one
                        out[i] = await self._insert(tx, batch[i], row)
                except SQLAlchemyError as exc:  # this receipt only: its savepoint rolled back
                    log.error("receipts.write_failed", error=type(exc).__name__)
                    out[i] = StoreUnavailable(type(exc).__name__)
        self.batches += 1
        return out

    def _row(
        self,
        receipt: Receipt,
        now: datetime,
        lease_until: datetime,
        filed: dict[tuple[str, str], str],
    ) -> dict[str, Any] | None:
        """The sealed row for ``receipt``; None when the same message is filed already."""
        digest = hashlib.sha256(receipt.raw).hexdigest()
        details = receipt.details
        key = receipt.key
        earlier = filed.get((receipt.channel, receipt.key))
        if earlier == digest or (earlier is not None and not receipt.key_may_be_reused):
            return None  # a retry of a message filed already: stored once
        if earlier is not None:
            # Other bytes under the key of a filed message (a reused Message-ID): a different
            # message, kept beside it under a key of its own.
            log.info("receipts.key_reused", channel=receipt.channel)
            key = bounded_provider_id(f"{receipt.key}|sha256:{digest}")
            details = {**details, "message_id_reused": True}
        blob = self.keyring.seal(receipt.raw, SEAL_CONTEXT)
        return {
            "channel": receipt.channel,
            "receipt_key": key,
            "sender": receipt.sender[:320],
            "recipient": receipt.recipient[:320],
            "details": details,
            "key_id": blob.key_id,
            "nonce": blob.nonce,
            "ciphertext": blob.ciphertext,
            "sha256": digest,
            "size": len(receipt.raw),
            "received_at": now,
            "attempts": 1,
            "lease_owner": self.owner,
            "lease_until": lease_until,
        }

    async def _insert_all(self, tx: Tx, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        """Insert every row at once, skipping conflicts; the ids of those inserted, by key.
        Raises _BatchRefused when the database refuses the statement (the transaction is then
        unusable on PostgreSQL: the caller starts again).

        One statement built once and executed with the rows as parameters (SQLAlchemy sends
        them as multi-row VALUES, compiled once): building ``.values(rows)`` per batch coerced
        every value into a literal and compiled a new statement for every batch, which cost
        more of the event loop than answering the requests did."""
        if not rows:
            return {}
        try:
            result = await tx.session.execute(self._insert_statement(), rows)
        except SQLAlchemyError as exc:  # e.g. one row the database refuses: one by one
            log.warning("receipts.batch_insert_failed", error=type(exc).__name__)
            raise _BatchRefused from exc
        return {(str(c), str(k)): int(i) for i, c, k in result.all()}

    def _insert_statement(self) -> Any:
        """``INSERT … ON CONFLICT (channel, receipt_key) DO NOTHING RETURNING id, channel,
        receipt_key`` for this database's dialect, built once."""
        if self._insert_stmt is None:
            table = _RECEIPTS
            dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
            self._insert_stmt = (
                dialect_insert(table)
                .on_conflict_do_nothing(index_elements=["channel", "receipt_key"])
                .returning(table.c.id, table.c.channel, table.c.receipt_key)
            )
        return self._insert_stmt

    async def _insert(self, tx: Tx, receipt: Receipt, row: dict[str, Any]) -> HeldReceipt | None:
        """One receipt in a savepoint; on a conflict, a retry (None) or a reused key."""
        key, digest = str(row["receipt_key"]), str(row["sha256"])
        try:
            return await self._insert_row(tx, receipt, row)
        except IntegrityError:
            stored = await self._stored_digest(tx, receipt.channel, key)
            if stored is None:
                raise  # refused for another reason than its key (a CHECK, a trigger): not stored
        if stored == digest or not receipt.key_may_be_reused:
            return None  # a retry of a receipt still waiting: stored once
        # Other bytes under the same key (a reused Message-ID): a different message, kept.
        log.info("receipts.key_reused", channel=receipt.channel)
        row = {
            **row,
            "receipt_key": bounded_provider_id(f"{key}|sha256:{digest}"),
            "details": {**row["details"], "message_id_reused": True},
        }
        try:
            return await self._insert_row(tx, receipt, row)
        except IntegrityError:
            if await self._stored_digest(tx, receipt.channel, str(row["receipt_key"])) is None:
                raise
            return None  # the same bytes under the reused key: stored once

    async def _stored_digest(self, tx: Tx, channel: str, key: str) -> str | None:
        """The SHA-256 of the receipt waiting under ``key``; None when there is none."""
        stored = (
            await tx.session.execute(
                select(InboundReceipt.sha256).where(
                    InboundReceipt.channel == channel, InboundReceipt.receipt_key == key
                )
            )
        ).scalar_one_or_none()
        return None if stored is None else str(stored)

    async def _insert_row(
        self, tx: Tx, receipt: Receipt, row: dict[str, Any]
    ) -> HeldReceipt | None:
        async with tx.session.begin_nested():
            new_id = (await tx.session.execute(_INSERT_ONE, row)).scalar_one()
        return _held(int(new_id), receipt, row)


def _held(new_id: int, receipt: Receipt, row: dict[str, Any]) -> HeldReceipt:
    return HeldReceipt(
        id=new_id,
        channel=receipt.channel,
        key=str(row["receipt_key"]),
        sender=receipt.sender,
        recipient=receipt.recipient,
        raw=receipt.raw,
        details=dict(row["details"]),
        received_at=row["received_at"],
        attempts=1,
    )


# Built once. On PostgreSQL ``keys`` is one array parameter (``= ANY($2)``): the statement's
# text is the same whatever the batch's size, so each connection prepares it once. An expanding
# IN (SQLite's form) is a new text, a new PREPARE (a round trip on the answer path) and a new
# entry in every connection's statement cache for every batch size from 1 to intake.batch_max.
_FILED_DIGESTS = select(Message.provider_id, SealedOriginal.sha256).join(
    SealedOriginal, SealedOriginal.id == Message.sealed_id
)
_FILED_DIGESTS_SQLITE = _FILED_DIGESTS.where(
    Message.channel == bindparam("channel"),
    Message.provider_id.in_(bindparam("keys", expanding=True)),
)
_FILED_DIGESTS_PG = _FILED_DIGESTS.where(
    Message.channel == bindparam("channel"),
    Message.provider_id == any_(bindparam("keys", type_=ARRAY(String))),
)


def _id_among(column: Any, ids: list[int], is_sqlite: bool) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL one array parameter, so that lists of every length
    share one prepared statement (a burst's backlog is renewed and read back in lists of
    up to a thousand ids, of a length that changes every time)."""
    if is_sqlite:
        in_list: ColumnElement[bool] = column.in_(ids)
        return in_list
    condition: ColumnElement[bool] = column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return condition


async def _filed_digests(tx: Tx, batch: list[Receipt]) -> dict[tuple[str, str], str]:
    """The original's SHA-256 of every message already filed under a key of the batch.

    The message's key is the receipt's: same bytes are a retry (nothing to do), other bytes
    under the same key are a different message. One query for the whole batch.
    """
    found: dict[tuple[str, str], str] = {}
    sqlite = tx.session.get_bind().dialect.name == "sqlite"
    statement = _FILED_DIGESTS_SQLITE if sqlite else _FILED_DIGESTS_PG
    for channel in {r.channel for r in batch}:
        keys = [r.key for r in batch if r.channel == channel]
        rows = await tx.session.execute(statement, {"channel": channel, "keys": keys})
        found.update({(channel, str(key)): str(digest) for key, digest in rows.all()})
    return found


# Receipts held here with their payload in memory, waiting for their turn. Past this many, a
# burst's further receipts wait in the database with only their ids here (leased to this
# instance and renewed all the same) and are read back as room frees up, in the order they
# came: memory stays flat however many messages a burst answers before they are filed.
HELD_IN_MEMORY = 1000


def _chunks(ids: list[int], size: int = 1000) -> list[list[int]]:
    """``ids`` in lists of at most ``size``: one bound parameter each in an IN (...)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class Backlog:
    """Receipts committed and not yet processed, across every instance."""

    waiting: int
    oldest_seconds: float | None
    by_channel: dict[str, int] = field(default_factory=dict)  # waiting, per channel


async def receipt_backlog(db: Database, now: datetime | None = None) -> Backlog:
    async with db.read() as s:
        rows = (
            await s.execute(
                select(
                    InboundReceipt.channel, func.count(), func.min(InboundReceipt.received_at)
                ).group_by(InboundReceipt.channel)
            )
        ).all()
    by_channel = {str(channel): int(count) for channel, count, _ in rows}
    oldest_at = min((t for t in (as_utc(r[2]) for r in rows) if t is not None), default=None)
    age = ((now or utcnow()) - oldest_at).total_seconds() if oldest_at is not None else None
    return Backlog(sum(by_channel.values()), age, by_channel)


async def oldest_receipt_age(db: Database, now: datetime) -> float | None:
    """Seconds the first receipt still waiting was committed ago (None when none waits): one
    look-up by primary key, whatever the backlog."""
    async with db.read() as s:
        at = (await s.execute(_OLDEST_RECEIPT)).scalar_one_or_none()
    received = as_utc(at)
    return None if received is None else (now - received).total_seconds()


_OLDEST_RECEIPT = select(InboundReceipt.received_at).order_by(InboundReceipt.id).limit(1)
# A backlog older than the bound is logged at most this often (seconds), with its count.
BACKLOG_WARN_EVERY = 60.0


class ReceiptWorker:
    """Processes receipts: those this instance took at once, and leftovers found by polling."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        processors: Mapping[str, Processor],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.settings = settings
        self.processors = dict(processors)
        self.clock = clock
        self.owner = f"receipts-{secrets.token_hex(8)}"  # this instance's name on its leases
        cfg = settings.email
        self.concurrency = cfg.receipt_concurrency
        self.burst_concurrency = min(self.concurrency, BURST_CONCURRENCY)
        self.lease_seconds = cfg.receipt_lease_seconds
        self.poll_seconds = cfg.receipt_poll_seconds
        self.max_attempts = cfg.receipt_max_attempts
        self.writer = ReceiptWriter(
            db, keyring, self.owner, self.lease_seconds, settings.intake.batch_max, clock
        )
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self._local: deque[HeldReceipt] = deque()  # taken here, not started yet
        self._held: dict[int, HeldReceipt] = {}  # leased here, with the payload in memory
        self._parked: deque[int] = deque()  # leased here, the payload left in the database
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._last_poll = 0.0
        self._warned_at = 0.0
        self._burst_rest_until = 0.0  # time.monotonic(): no new processing in a burst before
        self.processed = 0  # receipts finished here (stored or found stored), for tests
        self.settled: asyncio.Condition | None = None
        self._progressed = asyncio.Event()

    # --- taking a message in ---------------------------------------------------------------
    async def receive(self, receipt: Receipt) -> bool:
        """Commit ``receipt`` and queue it here for processing; False when it was a retry of
        one still waiting. Raises StoreUnavailable when nothing was committed."""
        held = await self.writer.write(receipt)
        if held is None:
            return False
        if self.stopping.is_set():
            await self._release([held.id])  # the next instance takes it
            return True
        if self._parked or len(self._local) >= HELD_IN_MEMORY:
            self._parked.append(held.id)  # read back from the database when its turn comes
        else:
            self._held[held.id] = held
            self._local.append(held)
        self.wake.set()
        return True

    # --- the worker --------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, drain_seconds: float = 10.0) -> None:
        """Work until ``stop`` is set; then finish what is in hand for a while, release the rest."""
        self.stopping = stop
        renewer = asyncio.create_task(self._renew_leases(stop), name="receipts-lease")
        try:
            await poll_until_stopped(
                "receipts", self.run_once, stop, self.poll_seconds, wake=self.wake
            )
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._hand_back(drain_seconds)

    async def run_once(self) -> int:
        """Start processing what is waiting, up to the concurrency; returns how many started."""
        self.wake.clear()
        if self._parked and len(self._local) < HELD_IN_MEMORY // 2 and not self.stopping.is_set():
            await self._unpark(HELD_IN_MEMORY - len(self._local))
        started = 0
        limit = self._limit()
        now = time.monotonic()
        wait = BURST_SECONDS
        if limit < self.concurrency and now < self._burst_rest_until and not self._lagging():
            limit = 0  # resting in a burst: the answers have the loop and the database
            wait = min(wait, self._burst_rest_until - now)
        while self._local and len(self._tasks) < limit and not self.stopping.is_set():
            self._start(self._local.popleft())
            started += 1
        if self._local and len(self._tasks) >= limit and limit < self.concurrency:
            # Held back for a burst: look again once it (or the rest) is over, even if
            # nothing finishes.
            asyncio.get_running_loop().call_later(wait, self.wake.set)
        if now - self._last_poll >= self.poll_seconds and not self.stopping.is_set():
            self._last_poll = now
            free = self.concurrency - len(self._tasks) - len(self._local)
            if free > 0:
                for held in await self.claim(free):
                    self._held[held.id] = held
                    self._start(held)
                    started += 1
            await self._warn_if_old()
        RECEIPTS_IN_FLIGHT.set(len(self._tasks))
        return started

    async def _unpark(self, room: int) -> None:
        """Read back, oldest first, the payloads of receipts leased here and left in the
        database. One whose lease is no longer ours was taken over: its new holder files it."""
        # The ids stay counted as leased here until their payloads are in memory.
        ids = list(itertools.islice(self._parked, room))
        try:
            async with self.db.read() as s:
                rows = [
                    row
                    for chunk in _chunks(ids)
                    for row in (
                        await s.execute(
                            select(InboundReceipt)
                            .where(
                                _id_among(InboundReceipt.id, chunk, self.db.is_sqlite),
                                InboundReceipt.lease_owner == self.owner,
                            )
                            .order_by(InboundReceipt.id)
                        )
                    ).scalars()
                ]
        except (StoreUnavailable, SQLAlchemyError) as exc:  # still leased here: next time
            log.warning("receipts.read_back_failed", error=str(exc), receipts=len(ids))
            return
        for _ in ids:
            self._parked.popleft()
        for row in rows:
            held = self._unsealed(row)
            self._held[held.id] = held
            self._local.append(held)

    def leased_here(self) -> list[int]:
        """Every receipt whose lease this instance holds, in memory or left in the database."""
        return sorted([*self._held, *self._parked])

    def _limit(self) -> int:
        """How many may be processed at once now: fewer while senders are being answered
        (a batch is being written, or one was within BURST_SECONDS)."""
        if self.writer.writing or time.monotonic() - self.writer.last_batch_at < BURST_SECONDS:
            return self.burst_concurrency
        return self.concurrency

    def _lagging(self) -> bool:
        """Whether the oldest message waiting here was answered too long ago to rest."""
        if not self._local:
            return False
        age = (self.clock() - self._local[0].received_at).total_seconds()
        return age >= BURST_MAX_LAG_SECONDS

    def _start(self, held: HeldReceipt) -> None:
        self._tasks[held.id] = asyncio.create_task(self._process(held), name=f"receipt-{held.id}")

    async def _process(self, held: HeldReceipt) -> None:
        processor = self.processors.get(held.channel)
        began = time.monotonic()
        try:
            if processor is None:
                raise LookupError(f"no processor for channel {held.channel}")
            await processor(held, self._finish_for(held))
            self.processed += 1
            RECEIPT_SECONDS.labels(held.channel).observe(
                max(0.0, (self.clock() - held.received_at).total_seconds())
            )
        except LeaseLost:
            log.info("receipts.lease_lost", receipt=held.id)
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as exc:
            log.warning("receipts.store_unavailable", receipt=held.id, error=str(exc))
            await self._retry_later(held, "store unavailable")
        except Exception as exc:  # a bug or a policy failure: kept, retried, never lost
            log.error("receipts.processing_failed", receipt=held.id, error=type(exc).__name__)
            await self._retry_later(held, type(exc).__name__)
        finally:
            self._held.pop(held.id, None)
            self._tasks.pop(held.id, None)
            ended = time.monotonic()
            if self._limit() < self.concurrency:  # in a burst: rest in proportion
                self._burst_rest_until = ended + (ended - began) * (1 / BURST_SHARE - 1)
            self.wake.set()  # a free slot: start the next one
            self._progressed.set()
            if self.settled is not None:
                async with self.settled:
                    self.settled.notify_all()

    def _finish_for(self, held: HeldReceipt) -> IntakeFinish:
        async def finish(tx: Tx, _result: IntakeResult) -> None:
            """Delete the receipt with the message's own writes, if it is still ours."""
            result = await tx.session.execute(
                delete(InboundReceipt)
                .where(InboundReceipt.id == held.id, InboundReceipt.lease_owner == self.owner)
                .execution_options(synchronize_session=False)
            )
            assert isinstance(result, CursorResult)
            if result.rowcount != 1:
                raise LeaseLost(held.id)

        return finish

    async def _retry_later(self, held: HeldReceipt, error: str) -> None:
        """Hand the receipt back for a later attempt, after a capped, doubling pause."""
        delay = min(300.0, self.poll_seconds * 2 ** max(0, held.attempts - 1))
        with contextlib.suppress(StoreUnavailable):
            async with self.db.transaction() as tx:
                await tx.session.execute(
                    update(InboundReceipt)
                    .where(InboundReceipt.id == held.id, InboundReceipt.lease_owner == self.owner)
                    .values(
                        lease_owner=None,
                        lease_until=self.clock() + timedelta(seconds=delay),
                        last_error=error[:200],
                    )
                    .execution_options(synchronize_session=False)
                )

    async def claim(self, limit: int) -> list[HeldReceipt]:
        """Claim receipts nobody holds (a crashed or stopped instance's, or handed back)."""
        now = self.clock()
        due = or_(InboundReceipt.lease_until.is_(None), InboundReceipt.lease_until <= now)
        # A plain read first: an idle poll never takes SQLite's write lock.
        async with self.db.read() as s:
            if (await s.execute(select(InboundReceipt.id).where(due).limit(1))).first() is None:
                return []
        try:
            async with self.db.transaction() as tx:
                rows = (
                    (
                        await tx.session.execute(
                            select(InboundReceipt)
                            .where(due)
                            .order_by(InboundReceipt.id)
                            .limit(limit)
                            .with_for_update(skip_locked=True)
                        )
                    )
                    .scalars()
                    .all()
                )
                for row in rows:
                    row.attempts += 1
                    row.lease_owner = self.owner
                    row.lease_until = now + timedelta(seconds=self.lease_seconds)
                held = [self._unsealed(row) for row in rows]
        except SQLAlchemyError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        if held:
            log.info("receipts.claimed", receipts=len(held))
        return held

    def _unsealed(self, row: InboundReceipt) -> HeldReceipt:
        raw = self.keyring.open(SealedBlob(row.key_id, row.nonce, row.ciphertext), SEAL_CONTEXT)
        return HeldReceipt(
            id=row.id,
            channel=row.channel,
            key=row.receipt_key,
            sender=row.sender,
            recipient=row.recipient,
            raw=raw,
            details=dict(row.details or {}),
            received_at=as_utc(row.received_at) or self.clock(),
            attempts=row.attempts,
        )

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        """Keep the lease of every receipt held here, so no other instance takes it over."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.lease_seconds / 3)
            ids = self.leased_here()
            if not ids or stop.is_set():
                continue
            try:
                for chunk in _chunks(ids):  # a burst's backlog can exceed a statement's binds
                    await self._renew(chunk)
            except StoreUnavailable as exc:
                log.warning("receipts.lease_renewal_failed", error=str(exc), receipts=len(ids))

    async def _renew(self, ids: list[int]) -> None:
        # Rows locked now are being filed (their receipt is deleted in that very transaction):
        # skipped, never waited for, so renewing cannot deadlock with it.
        mine = (
            select(InboundReceipt.id)
            .where(
                _id_among(InboundReceipt.id, ids, self.db.is_sqlite),
                InboundReceipt.lease_owner == self.owner,
            )
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as tx:
            await tx.session.execute(
                update(InboundReceipt)
                .where(InboundReceipt.id.in_(mine.scalar_subquery()))
                .values(lease_until=self.clock() + timedelta(seconds=self.lease_seconds))
                .execution_options(synchronize_session=False)
            )

    async def _hand_back(self, drain_seconds: float) -> None:
        """On stop: what has not started goes back at once; what is running may finish."""
        waiting = [held.id for held in self._local]
        self._local.clear()
        waiting += self._parked
        self._parked.clear()
        tasks = list(self._tasks.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        rest = sorted(set(waiting) | set(self._held))
        self._held.clear()
        if rest:
            with contextlib.suppress(StoreUnavailable):
                await self._release(rest)
            log.info("receipts.handed_back", receipts=len(rest))
        await self.writer.close()
        RECEIPTS_IN_FLIGHT.set(0)

    async def _release(self, ids: list[int]) -> None:
        for chunk in _chunks(ids):
            async with self.db.transaction() as tx:
                await tx.session.execute(
                    update(InboundReceipt)
                    .where(
                        _id_among(InboundReceipt.id, chunk, self.db.is_sqlite),
                        InboundReceipt.lease_owner == self.owner,
                    )
                    .values(lease_owner=None, lease_until=None)
                    .execution_options(synchronize_session=False)
                )

    async def _warn_if_old(self) -> None:
        """Log when the oldest receipt waits longer than the configured bound; /readyz and the
        metrics show the same.

        Called at every poll, also in a burst with thousands waiting: so it looks up only the
        oldest receipt by its primary key (ids follow the order receipts were committed in),
        and counts what waits only when it warns, at most once per BACKLOG_WARN_EVERY."""
        warn = self.settings.email.receipt_backlog_warn_seconds
        try:
            oldest = await oldest_receipt_age(self.db, self.clock())
            if oldest is None or oldest <= warn:
                return
            if time.monotonic() - self._warned_at < BACKLOG_WARN_EVERY:
                return
            self._warned_at = time.monotonic()
            backlog = await receipt_backlog(self.db, self.clock())
        except StoreUnavailable:
            return
        if backlog.oldest_seconds is not None and backlog.oldest_seconds > warn:
            log.warning(
                "receipts.backlog_old",
                waiting=backlog.waiting,
                oldest_seconds=round(backlog.oldest_seconds, 1),
                limit_seconds=warn,
            )

    async def until_settled(self, still_held: int = 0) -> None:
        """Wait until nothing (or no more than ``still_held``) is held here: every message
        this instance answered 250 or 200 has had its processing attempt (stored, or handed
        back to be retried)."""
        if self.settled is None:
            self.settled = asyncio.Condition()
        async with self.settled:
            await self.settled.wait_for(lambda: len(self._held) + len(self._parked) <= still_held)

    async def until_drained(self) -> None:
        """Wait until no receipt is waiting in the database at all, retries and other
        instances' included (looked at again after each one processed here, or each poll)."""
        while True:
            self._progressed.clear()  # before looking: a receipt done meanwhile sets it again
            with contextlib.suppress(StoreUnavailable):  # busy: look again shortly
                if not (await receipt_backlog(self.db)).waiting:
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progressed.wait(), timeout=self.poll_seconds)
