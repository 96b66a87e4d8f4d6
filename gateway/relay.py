"""The outbox relay worker: claims due jobs, sends them once, records the outcome.

Claiming uses ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers (in one or
several processes) never take the same job; on SQLite ``BEGIN IMMEDIATE`` serialises the claim.

Exactly once: a claimed job carries a lease in this relay's name, renewed while it is being
sent, and only the lease holder records the outcome. A send whose answer never came (a timeout
or reset after the request went out), or a job whose holder died mid-send (its lease ran out),
is *unconfirmed*: before it is ever sent again, or marked failed, the relay asks the provider
whether it has the message (Twilio: the newest messages to that number). Sends run
concurrently (``relay.concurrency``, paced by the sender's own rate); retries back off
exponentially with random jitter. When asked to stop, the relay claims nothing more, lets
sends in flight finish and hands unsent jobs back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import ColumnElement, Table, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import (
    OutboundEnvelope,
    ProviderUnsure,
    RecordedHandover,
    Sender,
    SendOutcome,
    SentLookup,
)
from gateway.core.addresses import reply_address
from gateway.metrics import MESSAGES_OUT, SEND_ATTEMPTS
from gateway.relay_outcomes import MESSAGE, OUTBOX, record_outcomes
from gateway.sealing import Keyring, SealedBlob
from gateway.settings import Settings
from gateway.storage.db import Database, StoreUnavailable, as_utc, utcnow
from gateway.storage.models import (
    Contact,
    Message,
    OutboxJob,
    ReplyToken,
    SealedOriginal,
    SmsStatusEvent,
)
from gateway.workers import poll_until_stopped

log = structlog.get_logger("gateway.relay")

SEALED = cast(Table, SealedOriginal.__table__)
CONTACT = cast(Table, Contact.__table__)

# The worker claims up to this many batches in one pass, each while the last sends of the one
# before are still out, and no further batch after this many seconds: a pass ends (and the
# worker reports itself alive to /readyz) soon, however slowly the provider lets us send.
PASS_BATCHES = 10
PASS_CLAIMS_FOR_SECONDS = 10.0
# Outcomes wait at most this long for others to share their transaction.
RECORD_LINGER_SECONDS = 0.025


class LeaseLost(Exception):
    """Another relay holds the job now: this one must not send it."""


@dataclass(frozen=True)
class ClaimedJob:
    job_id: int
    attempts: int
    envelope: OutboundEnvelope
    refusal: SendOutcome | None = None  # decided at claim time: not sent at all
    unconfirmed: bool = False  # an earlier attempt may have reached the provider
    created_at: datetime | None = None  # the earliest the provider can have it
    known_sid: str | None = None  # the provider's id, if its status callback already told us
    exclude: frozenset[str] = frozenset()  # provider ids of our other messages to that address


async def claim_due(
    s: AsyncSession,
    kind: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    owner: str | None = None,
) -> list[OutboxJob]:
    """Claim due outbox jobs of one kind for this worker, with a lease.

    Due: pending and past their next attempt, or claimed by a worker whose lease ran out (it
    died mid-job). ``SKIP LOCKED`` lets several workers claim side by side on PostgreSQL
    without waiting for or taking each other's jobs; SQLite serialises the claim instead.
    """
    jobs = (
        (
            await s.execute(
                select(OutboxJob)
                .where(
                    OutboxJob.kind == kind,
                    or_(
                        and_(OutboxJob.state == "pending", OutboxJob.next_attempt_at <= now),
                        and_(OutboxJob.state == "sending", OutboxJob.lease_until <= now),
                    ),
                )
                .order_by(OutboxJob.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for job in jobs:
        if job.state == "sending" and job.unconfirmed_since is None:
            job.unconfirmed_since = now  # its holder died mid-send: the outcome is unknown
        job.state = "sending"
        job.attempts += 1
        job.lease_until = now + timedelta(seconds=lease_seconds)
        job.lease_owner = owner
    return list(jobs)


class Relay:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        senders: Mapping[str, Sender],
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.senders = senders
        self.settings = settings
        self.clock = clock
        self.owner = f"relay-{secrets.token_hex(8)}"  # this relay's name on its leases
        self.stopping = asyncio.Event()
        self.jitter: Callable[[], float] = random.random

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; then finish the sends in flight and release the rest."""
        self.stopping = stop
        await poll_until_stopped(
            "relay",
            lambda: self.run_once(batches=PASS_BATCHES),
            stop,
            self.settings.relay.poll_seconds,
        )

    async def run_once(self, batches: int = 1) -> int:
        """Claim due jobs and send them concurrently; returns how many were claimed.

        With ``batches`` > 1 the next batch is claimed while the last sends of the previous one
        are still out, so sending never pauses for a claim while work is due (the worker loop
        does this; one batch is one pass for a caller stepping the relay by hand).
        """
        if self.stopping.is_set():
            return 0
        claimed = await self.claim()
        if not claimed:
            return 0
        relay = self.settings.relay
        in_flight = {job.job_id for job in claimed}  # claimed and not yet recorded
        renewer = asyncio.create_task(self._renew_leases(in_flight), name="relay-lease")
        finished: asyncio.Queue[tuple[ClaimedJob, SendOutcome] | None] = asyncio.Queue()
        waiting = deque(claimed)  # claimed, not yet started
        running_low = asyncio.Event()  # few enough unstarted sends left to claim the next batch
        errors: list[BaseException] = []
        lanes: list[asyncio.Task[None]] = []
        busy = 0  # lanes started and not ended

        async def lane() -> None:
            """Up to ``relay.concurrency`` lanes take jobs in claim order, one send at a time
            each (a lane per send in flight, rather than a task per job)."""
            nonlocal busy
            try:
                while waiting:
                    job = waiting.popleft()
                    if len(waiting) <= relay.concurrency:
                        running_low.set()
                    try:
                        if self.stopping.is_set() and not job.unconfirmed:
                            await self.release(job)
                            in_flight.discard(job.job_id)
                            continue
                        outcome = job.refusal or await self._settle_or_send(job)
                    except Exception as exc:  # the database went away: the poll loop waits
                        errors.append(exc)
                        continue
                    finished.put_nowait((job, outcome))
            finally:
                busy -= 1

        def start_lanes() -> None:
            nonlocal busy
            for _ in range(min(relay.concurrency - busy, len(waiting))):
                busy += 1  # counted when created, so lanes never outnumber the concurrency
                lanes.append(asyncio.create_task(lane(), name="relay-send"))

        async def recorder() -> None:
            """Outcomes are recorded in batches: whatever arrived while the last batch was being
            written, or what arrives within a few milliseconds of the first one waiting (looked
            at a few times in that window, not woken for every outcome)."""
            loop = asyncio.get_running_loop()
            closing = False
            while not closing:
                first = await finished.get()
                if first is None:
                    return
                done = [first]
                deadline = loop.time() + RECORD_LINGER_SECONDS
                while True:
                    while not finished.empty() and len(done) < relay.batch_size:
                        nxt = finished.get_nowait()
                        if nxt is None:
                            closing = True
                            break
                        done.append(nxt)
                    if closing or len(done) >= relay.batch_size or len(done) >= len(in_flight):
                        break  # full, or nothing else is out
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    await asyncio.sleep(min(left, RECORD_LINGER_SECONDS / 5))
                try:
                    await self.record_many(done)
                finally:
                    for job, _ in done:
                        in_flight.discard(job.job_id)

        recording = asyncio.create_task(recorder(), name="relay-record")
        start_lanes()
        total = len(claimed)
        loop = asyncio.get_running_loop()
        claiming_until = loop.time() + PASS_CLAIMS_FOR_SECONDS
        try:
            for _ in range(batches - 1):
                if len(claimed) < relay.batch_size:
                    break  # that was all that was due
                await running_low.wait()
                if self.stopping.is_set() or loop.time() > claiming_until:
                    break
                running_low.clear()
                claimed = await self.claim()
                if not claimed:
                    break
                total += len(claimed)
                in_flight.update(job.job_id for job in claimed)
                waiting.extend(claimed)
                start_lanes()
        finally:
            while lanes:  # a lane may end just before a batch arrives: start lanes anew
                await asyncio.gather(*lanes, return_exceptions=True)
                lanes.clear()
                start_lanes()
            finished.put_nowait(None)
            recorded = await asyncio.gather(recording, return_exceptions=True)
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        for result in [*errors, *recorded]:  # the database went away: the poll loop waits
            if isinstance(result, BaseException):
                raise result
        return total

    async def _renew_leases(self, in_flight: set[int]) -> None:
        """Keep the lease of every job still being sent, so no other relay takes it over."""
        lease = self.settings.relay.lease_seconds
        while in_flight:
            await asyncio.sleep(lease / 3)
            if not in_flight:
                return
            try:
                async with self.db.transaction() as tx:
                    await tx.session.execute(
                        update(OutboxJob)
                        .where(
                            OutboxJob.id.in_(sorted(in_flight)),
                            OutboxJob.state == "sending",
                            OutboxJob.lease_owner == self.owner,
                        )
                        .values(lease_until=self.clock() + timedelta(seconds=lease))
                        .execution_options(synchronize_session=False)
                    )
            except StoreUnavailable as exc:
                log.warning("relay.lease_renewal_failed", error=str(exc), jobs=len(in_flight))

    async def _settle_or_send(self, job: ClaimedJob) -> SendOutcome:
        """Send, unless an earlier attempt may have reached the provider: then ask it first."""
        if job.unconfirmed:
            if job.known_sid:
                return SendOutcome(True, provider_id=job.known_sid)
            sender = self.senders.get(job.envelope.channel)
            lookup = getattr(sender, "find_sent", None)
            if lookup is not None and job.created_at is not None:
                finder: SentLookup = sender  # type: ignore[assignment]
                try:
                    sid = await finder.find_sent(job.envelope, job.created_at, job.exclude)
                except ProviderUnsure as exc:
                    return SendOutcome(False, ambiguous=True, error_text=str(exc))
                except Exception as exc:  # a lookup bug: stay unconfirmed, never resend blind
                    log.error(
                        "relay.lookup_crashed",
                        message_id=job.envelope.message_id,
                        error=exc.__class__.__name__,
                    )
                    return SendOutcome(
                        False, ambiguous=True, error_text=f"lookup error: {exc.__class__.__name__}"
                    )
                if sid is not None:
                    log.info("relay.settled_as_sent", message_id=job.envelope.message_id)
                    return SendOutcome(True, provider_id=sid)
                if job.attempts > self.settings.relay.max_attempts:
                    return SendOutcome(
                        False,
                        permanent=True,
                        error_text=(
                            f"Not sent: no answer after {job.attempts - 1} attempts and the "
                            "provider has no record of it."
                        ),
                    )
            elif job.attempts > self.settings.relay.max_attempts:
                return SendOutcome(
                    False,
                    permanent=True,
                    error_text=(
                        f"Not confirmed after {job.attempts - 1} attempts: the provider took "
                        "the message without answering, so it may have arrived. Check with the "
                        "family before sending it again."
                    ),
                )
        return await self._send(job)

    async def release(self, job: ClaimedJob) -> None:
        """Hand a job back unsent (stopping): due again at once, this attempt not counted."""
        async with self.db.transaction() as tx:
            await tx.session.execute(
                update(OutboxJob)
                .where(
                    OutboxJob.id == job.job_id,
                    OutboxJob.state == "sending",
                    OutboxJob.lease_owner == self.owner,
                )
                .values(
                    state="pending",
                    lease_until=None,
                    lease_owner=None,
                    attempts=OutboxJob.attempts - 1,
                )
                .execution_options(synchronize_session=False)
            )
        log.info("relay.released", message_id=job.envelope.message_id)

    async def _send(self, job: ClaimedJob) -> SendOutcome:
        sender = self.senders.get(job.envelope.channel)
        if sender is None:
            return SendOutcome(
                False, permanent=True, error_text=f"no sender for channel {job.envelope.channel}"
            )
        recorded = getattr(sender, "send_recorded", None) is not None
        try:
            if recorded:
                keeper: RecordedHandover = sender  # type: ignore[assignment]
                outcome = await keeper.send_recorded(job.envelope, lambda: self._handing_over(job))
            else:
                outcome = await sender.send(job.envelope)
        except Exception as exc:  # a sender bug must not stop the relay; the job retries
            log.error(
                "relay.sender_crashed",
                message_id=job.envelope.message_id,
                error=exc.__class__.__name__,
            )
            # It may have failed after handing the message over: settle before resending.
            outcome = SendOutcome(
                False, ambiguous=True, error_text=f"sender error: {exc.__class__.__name__}"
            )
        if outcome.ambiguous and not recorded and getattr(sender, "find_sent", None) is None:
            # A provider that cannot be asked and no record of the hand-over: an ordinary retry.
            outcome = replace(outcome, ambiguous=False)
        return outcome

    async def _handing_over(self, job: ClaimedJob) -> None:
        """Durably note, before the content goes out, that this job is being handed over.

        Called by a sender whose provider cannot be asked afterwards (SMTP), right before
        DATA. A hand-over while an earlier one is still unconfirmed may deliver the message a
        second time: it happens (a reply is never silently dropped) and is audited, and the
        repeat carries the same Message-ID. Raises when our lease is gone (nothing is sent).
        """
        async with self.db.transaction() as tx:
            s = tx.session
            row = (
                await s.execute(
                    select(OutboxJob.handed_over_at)
                    .where(
                        OutboxJob.id == job.job_id,
                        OutboxJob.state == "sending",
                        OutboxJob.lease_owner == self.owner,
                    )
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise LeaseLost("the lease ran out before the hand-over")
            if row.handed_over_at is None:
                await s.execute(
                    update(OutboxJob)
                    .where(OutboxJob.id == job.job_id)
                    .values(handed_over_at=self.clock())
                    .execution_options(synchronize_session=False)
                )
            elif job.unconfirmed:
                tx.audit(
                    "relay",
                    "message.resent_unconfirmed",
                    f"message:{job.envelope.message_id}",
                    channel=job.envelope.channel,
                    attempts=job.attempts,
                    first_handed_over_at=str(as_utc(row.handed_over_at)),
                    reason=(
                        "an earlier hand-over was never answered; sent again with the same "
                        "Message-ID, by which the receiving side can recognise a repeat"
                    ),
                )

    async def claim(self) -> list[ClaimedJob]:
        """Claim a batch of due sends with a lease in this relay's name, ready to send.

        A few statements for the whole batch: the due jobs (locked, ``SKIP LOCKED``), one
        UPDATE that takes them, one read of their messages, sealed bodies and contacts.
        """
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            s = tx.session
            # Core columns (not ORM entities): rows come back as plain tuples, no ORM loading.
            jobs = (
                await s.execute(
                    select(
                        OUTBOX.c.id,
                        OUTBOX.c.state,
                        OUTBOX.c.attempts,
                        OUTBOX.c.unconfirmed_since,
                        OUTBOX.c.created_at,
                        OUTBOX.c.idempotency_key,
                        OUTBOX.c.message_id,
                    )
                    .where(OUTBOX.c.kind == "send", _due(now))
                    .order_by(OUTBOX.c.id)
                    .limit(relay.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not jobs:
                return []
            await s.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([job.id for job in jobs]))
                .values(
                    # A job still "sending" here lost its holder mid-send: outcome unknown.
                    unconfirmed_since=case(
                        (
                            and_(
                                OUTBOX.c.state == "sending",
                                OUTBOX.c.unconfirmed_since.is_(None),
                            ),
                            now,
                        ),
                        else_=OUTBOX.c.unconfirmed_since,
                    ),
                    state="sending",
                    attempts=OUTBOX.c.attempts + 1,
                    lease_until=now + timedelta(seconds=relay.lease_seconds),
                    lease_owner=self.owner,
                )
            )
            rows = {
                row.id: row
                for row in (
                    await s.execute(
                        select(
                            MESSAGE.c.id,
                            MESSAGE.c.channel,
                            MESSAGE.c.direction,
                            MESSAGE.c.recipient,
                            MESSAGE.c.subject,
                            MESSAGE.c.email_message_id,
                            MESSAGE.c.flags,
                            MESSAGE.c.case_id,
                            MESSAGE.c.contact_id,
                            MESSAGE.c.in_reply_to_id,
                            SEALED.c.key_id,
                            SEALED.c.nonce,
                            SEALED.c.ciphertext,
                            CONTACT.c.opted_out_sms,
                        )
                        .join(SEALED, SEALED.c.id == MESSAGE.c.sealed_id)
                        .outerjoin(CONTACT, CONTACT.c.id == MESSAGE.c.contact_id)
                        .where(MESSAGE.c.id.in_([job.message_id for job in jobs]))
                    )
                ).all()
            }
            claimed: list[ClaimedJob] = []
            for job in jobs:
                row = rows[job.message_id]
                envelope = await self._envelope(s, job, row)
                item = ClaimedJob(job.id, job.attempts + 1, envelope, _refusal(row))
                if job.unconfirmed_since is not None or job.state == "sending":
                    created = as_utc(job.created_at)
                    item = replace(
                        item,
                        unconfirmed=True,
                        created_at=created,
                        known_sid=await _reported_sid(s, envelope.message_id),
                        exclude=await _other_sids(s, envelope, created),
                    )
                claimed.append(item)
        return claimed

    async def _envelope(self, s: AsyncSession, job: Any, row: Any) -> OutboundEnvelope:
        body = self.keyring.open(
            SealedBlob(row.key_id, row.nonce, row.ciphertext), b"outbound"
        ).decode("utf-8")
        reply_to = in_reply_to = None
        references: tuple[str, ...] = ()
        if row.channel == "email" and row.case_id is not None:
            token = (
                await s.execute(
                    select(ReplyToken.token)
                    .where(
                        ReplyToken.case_id == row.case_id,
                        ReplyToken.contact_id == row.contact_id,
                        ReplyToken.revoked_at.is_(None),
                    )
                    .limit(1)
                )
            ).scalar_one_or_none()
            if token:
                reply_to = reply_address(token, self.settings.email.domain)
            if row.in_reply_to_id is not None:
                parent = (
                    await s.execute(
                        select(Message.email_message_id).where(Message.id == row.in_reply_to_id)
                    )
                ).scalar_one_or_none()
                if parent:
                    in_reply_to = parent
                    references = (parent,)
        return OutboundEnvelope(
            message_id=row.id,
            channel=row.channel,
            to=row.recipient,
            body=body,
            idempotency_key=job.idempotency_key,
            subject=row.subject,
            email_message_id=row.email_message_id,
            reply_to=reply_to,
            in_reply_to=in_reply_to,
            references=references,
            auto_reply=bool((row.flags or {}).get("auto_reply")),
        )

    async def record(self, claimed: ClaimedJob, outcome: SendOutcome) -> None:
        await self.record_many([(claimed, outcome)])

    async def record_many(self, done: list[tuple[ClaimedJob, SendOutcome]]) -> None:
        """Record the outcomes of several sends in one transaction (each job its own rows)."""

        def lease_lost(envelope: OutboundEnvelope, outcome: SendOutcome) -> None:
            # Our lease ran out and another relay holds the job now: it settles it.
            log.warning(
                "relay.lease_lost",
                message_id=envelope.message_id,
                ok=outcome.ok,
                reason="the lease ran out before the outcome was recorded",
            )

        async with self.db.transaction() as tx:
            states = await record_outcomes(
                tx,
                [(c.job_id, c.envelope, outcome) for c, outcome in done],
                owner=self.owner,
                relay=self.settings.relay,
                askable=frozenset(
                    channel
                    for channel, sender in self.senders.items()
                    if getattr(sender, "find_sent", None) is not None
                ),
                now=self.clock(),
                jitter=self.jitter,
                on_lease_lost=lease_lost,
            )
        counts: Counter[tuple[str, str]] = Counter()
        for (claimed, outcome), state in zip(done, states, strict=True):
            if state is None:
                continue
            counts[claimed.envelope.channel, state] += 1
            if outcome.ok:
                log.debug("relay.outcome", message_id=claimed.envelope.message_id, ok=True)
            else:
                # error_text is written for caseworkers and names no family member or address.
                log.warning(
                    "relay.send_failed",
                    message_id=claimed.envelope.message_id,
                    channel=claimed.envelope.channel,
                    state=state,
                    attempts=claimed.attempts,
                    permanent=outcome.permanent,
                    unconfirmed=outcome.ambiguous,
                    error_code=outcome.error_code,
                    reason=outcome.error_text,
                )
        # Counted and logged per batch, not per reply (a reply's own line is at debug).
        for (channel, state), n in counts.items():
            SEND_ATTEMPTS.labels(channel, "retry" if state == "pending" else state).inc(n)
            if state == "sent":
                MESSAGES_OUT.labels(channel).inc(n)
        if counts:
            log.info(
                "relay.recorded",
                **{f"{channel}_{state}": n for (channel, state), n in sorted(counts.items())},
            )


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and past its next attempt, or held by a relay whose lease ran out."""
    return or_(
        and_(OUTBOX.c.state == "pending", OUTBOX.c.next_attempt_at <= now),
        and_(OUTBOX.c.state == "sending", OUTBOX.c.lease_until <= now),
    )


def _refusal(row: Any) -> SendOutcome | None:
    """Refuse an SMS to a family that opted out after it was queued (keyword confirmations
    excepted: the confirmation of STOP must still reach them)."""
    if row.channel != "sms" or not row.opted_out_sms or (row.flags or {}).get("keyword_reply"):
        return None
    return SendOutcome(
        False,
        permanent=True,
        error_code="opted_out",
        error_text=(
            "The family opted out of SMS (STOP) after this was queued, so it was not sent. "
            "Reach them by e-mail, letter or phone."
        ),
    )


async def _reported_sid(s: AsyncSession, message_id: int) -> str | None:
    """The MessageSid a Twilio status callback reported for our message, if one came."""
    sid = (
        await s.execute(
            select(SmsStatusEvent.sid).where(SmsStatusEvent.message_id == message_id).limit(1)
        )
    ).scalar_one_or_none()
    return str(sid) if sid else None


async def _other_sids(
    s: AsyncSession, envelope: OutboundEnvelope, since: datetime | None
) -> frozenset[str]:
    """Provider ids already recorded for our other messages to the same address."""
    q = select(Message.provider_id).where(
        Message.direction == "out",
        Message.recipient == envelope.to,
        Message.id != envelope.message_id,
        Message.provider_id.is_not(None),
    )
    if since is not None:
        q = q.where(Message.created_at >= since - timedelta(days=1))
    return frozenset(str(p) for p in (await s.execute(q)).scalars() if p)
