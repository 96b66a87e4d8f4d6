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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import OutboundEnvelope, ProviderUnsure, Sender, SendOutcome, SentLookup
from gateway.case_alerts import show_on_case
from gateway.core.addresses import reply_address
from gateway.core.sms import STATUS_RANK, explain_error, retry_delay, status_moves_forward
from gateway.metrics import MESSAGES_OUT, SEND_ATTEMPTS
from gateway.sealing import Keyring, SealedBlob
from gateway.settings import Settings
from gateway.sms_keywords import set_sms_opt_out
from gateway.storage.db import Database, StoreUnavailable, Tx, as_utc, utcnow
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
        await poll_until_stopped("relay", self.run_once, stop, self.settings.relay.poll_seconds)

    async def run_once(self) -> int:
        """Claim one batch of due jobs and send them concurrently; returns how many were claimed."""
        if self.stopping.is_set():
            return 0
        claimed = await self.claim()
        if not claimed:
            return 0
        in_flight = {job.job_id for job in claimed}
        renewer = asyncio.create_task(self._renew_leases(in_flight), name="relay-lease")
        gate = asyncio.Semaphore(self.settings.relay.concurrency)
        finished: asyncio.Queue[tuple[ClaimedJob, SendOutcome] | None] = asyncio.Queue()

        async def one(job: ClaimedJob) -> None:
            async with gate:
                if self.stopping.is_set() and not job.unconfirmed:
                    await self.release(job)
                    in_flight.discard(job.job_id)
                    return
                outcome = job.refusal or await self._settle_or_send(job)
                finished.put_nowait((job, outcome))

        async def recorder() -> None:
            """Outcomes are recorded as they arrive, whatever has arrived in one transaction."""
            while True:
                first = await finished.get()
                if first is None:
                    return
                done = [first]
                closing = False
                while not finished.empty():
                    nxt = finished.get_nowait()
                    if nxt is None:
                        closing = True
                        break
                    done.append(nxt)
                try:
                    await self.record_many(done)
                finally:
                    for job, _ in done:
                        in_flight.discard(job.job_id)
                if closing:
                    return

        recording = asyncio.create_task(recorder(), name="relay-record")
        try:
            results = await asyncio.gather(*(one(job) for job in claimed), return_exceptions=True)
        finally:
            finished.put_nowait(None)
            recorded = await asyncio.gather(recording, return_exceptions=True)
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        for result in [*results, *recorded]:  # the database went away: the poll loop waits
            if isinstance(result, BaseException):
                raise result
        return len(claimed)

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
        try:
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
        if outcome.ambiguous and getattr(sender, "find_sent", None) is None:
            # A provider that cannot be asked: an ordinary retry (e-mail keeps its Message-ID,
            # so a repeat is recognisable to the receiving side).
            outcome = replace(outcome, ambiguous=False)
        return outcome

    async def claim(self) -> list[ClaimedJob]:
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            s = tx.session
            jobs = await claim_due(
                s, "send", now, relay.batch_size, relay.lease_seconds, self.owner
            )
            claimed: list[ClaimedJob] = []
            held = await _preload(s, [job.message_id for job in jobs])
            for job in jobs:
                envelope = await self._envelope(s, job)
                item = ClaimedJob(job.id, job.attempts, envelope, await _refusal(s, envelope))
                if job.unconfirmed_since is not None:
                    item = replace(
                        item,
                        unconfirmed=True,
                        created_at=as_utc(job.created_at),
                        known_sid=await _reported_sid(s, envelope.message_id),
                        exclude=await _other_sids(s, envelope, as_utc(job.created_at)),
                    )
                claimed.append(item)
            del held  # the preloaded rows were needed until here
        return claimed

    async def _envelope(self, s: AsyncSession, job: OutboxJob) -> OutboundEnvelope:
        msg = await s.get(Message, job.message_id)
        assert msg is not None
        blob = await s.get(SealedOriginal, msg.sealed_id)
        assert blob is not None
        body = self.keyring.open(
            SealedBlob(blob.key_id, blob.nonce, blob.ciphertext), b"outbound"
        ).decode("utf-8")
        reply_to = in_reply_to = None
        references: tuple[str, ...] = ()
        if msg.channel == "email" and msg.case_id is not None:
            token = (
                await s.execute(
                    select(ReplyToken.token)
                    .where(
                        ReplyToken.case_id == msg.case_id,
                        ReplyToken.contact_id == msg.contact_id,
                        ReplyToken.revoked_at.is_(None),
                    )
                    .limit(1)
                )
            ).scalar_one_or_none()
            if token:
                reply_to = reply_address(token, self.settings.email.domain)
            if msg.in_reply_to_id is not None:
                parent = await s.get(Message, msg.in_reply_to_id)
                if parent is not None and parent.email_message_id:
                    in_reply_to = parent.email_message_id
                    references = (parent.email_message_id,)
        return OutboundEnvelope(
            message_id=msg.id,
            channel=msg.channel,
            to=msg.recipient,
            body=body,
            idempotency_key=job.idempotency_key,
            subject=msg.subject,
            email_message_id=msg.email_message_id,
            reply_to=reply_to,
            in_reply_to=in_reply_to,
            references=references,
            auto_reply=bool(msg.flags.get("auto_reply")),
        )

    async def record(self, claimed: ClaimedJob, outcome: SendOutcome) -> None:
        await self.record_many([(claimed, outcome)])

    async def record_many(self, done: list[tuple[ClaimedJob, SendOutcome]]) -> None:
        """Record the outcomes of several sends in one transaction (each job its own rows)."""
        now = self.clock()
        states: list[str | None] = []
        async with self.db.transaction() as tx:
            # Lock and load every job and message of the batch at once; each job below then
            # finds its rows in the session, and the changes are flushed together.
            held: list[object] = list(
                (
                    await tx.session.execute(
                        select(OutboxJob)
                        .where(OutboxJob.id.in_([c.job_id for c, _ in done]))
                        .order_by(OutboxJob.id)
                        .with_for_update()
                        .execution_options(populate_existing=True)
                    )
                ).scalars()
            )
            held += await _preload(tx.session, [c.envelope.message_id for c, _ in done])
            for claimed, outcome in done:
                states.append(await self._record_in(tx, claimed, outcome, now))
            del held  # the preloaded rows were needed until here
        for (claimed, outcome), state in zip(done, states, strict=True):
            if state is None:
                continue
            channel = claimed.envelope.channel
            SEND_ATTEMPTS.labels(channel, "retry" if state == "pending" else state).inc()
            if state == "sent":
                MESSAGES_OUT.labels(channel).inc()
            if outcome.ok:
                log.info("relay.outcome", message_id=claimed.envelope.message_id, ok=True)
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

    async def _record_in(
        self, tx: Tx, claimed: ClaimedJob, outcome: SendOutcome, now: datetime
    ) -> str | None:
        """The job's new state, or None when our lease ran out and another relay has it."""
        relay = self.settings.relay
        s = tx.session
        job = await s.get(OutboxJob, claimed.job_id)  # locked and loaded by record_many
        assert job is not None
        msg = await s.get(Message, claimed.envelope.message_id)
        assert msg is not None
        if job.state != "sending" or job.lease_owner != self.owner:
            # Our lease ran out and another relay holds the job now: it settles it.
            log.warning(
                "relay.lease_lost",
                message_id=msg.id,
                ok=outcome.ok,
                reason="the lease ran out before the outcome was recorded",
            )
            return None
        job.lease_owner = None
        subject = f"message:{msg.id}"
        if outcome.ok:
            job.state, job.lease_until, job.last_error = "sent", None, None
            job.unconfirmed_since = None
            # A delivery callback may have overtaken us; statuses only move forward.
            if msg.status not in STATUS_RANK or status_moves_forward(msg.status, "sent"):
                msg.status = "sent"
            if outcome.provider_id:
                msg.provider_id = outcome.provider_id
            tx.audit("relay", "message.sent", subject, channel=msg.channel, attempts=job.attempts)
        elif outcome.ambiguous:
            # Perhaps accepted: never failed and never resent before the provider is asked.
            delay = retry_delay(
                min(job.attempts, 64),
                base=relay.backoff_base_seconds,
                cap=relay.backoff_cap_seconds,
                jitter=self.jitter() * 0.999,
            )
            job.state, job.lease_until = "pending", None
            job.next_attempt_at = now + timedelta(seconds=delay)
            job.last_error = outcome.error_text
            job.unconfirmed_since = job.unconfirmed_since or now
            tx.audit(
                "relay",
                "message.send_unconfirmed",
                subject,
                channel=msg.channel,
                attempts=job.attempts,
                check_in_seconds=round(delay, 1),
            )
        elif outcome.permanent or job.attempts >= relay.max_attempts:
            job.state, job.lease_until = "dead", None
            job.last_error = outcome.error_text
            msg.status = "failed"
            msg.error_code, msg.error_text = outcome.error_code, outcome.error_text
            tx.audit(
                "relay",
                "message.dead_lettered",
                subject,
                channel=msg.channel,
                attempts=job.attempts,
                error_code=outcome.error_code,
                reason=outcome.error_text,
            )
            if msg.channel == "sms" and explain_error(outcome.error_code).opted_out:
                # Twilio refused: the number sent STOP to Twilio. Record it on the contact.
                await set_sms_opt_out(
                    tx, msg.recipient, True, actor="relay", source=f"error:{outcome.error_code}"
                )
            # A keyword confirmation is the service's own notice; the opt-out itself is
            # already on the case, so its failure needs no caseworker.
            if msg.direction == "out" and not msg.flags.get("keyword_reply"):
                await show_on_case(
                    tx,
                    msg,
                    f"{msg.channel.upper()} not sent: {outcome.error_text}",
                    actor="relay",
                    now=now,
                )
        else:
            delay = retry_delay(
                min(job.attempts, 64),
                base=relay.backoff_base_seconds,
                cap=relay.backoff_cap_seconds,
                jitter=self.jitter() * 0.999,
            )
            job.state, job.lease_until = "pending", None
            job.unconfirmed_since = None  # the provider answered: it does not have it
            job.next_attempt_at = now + timedelta(seconds=delay)
            job.last_error = outcome.error_text
            tx.audit(
                "relay",
                "message.send_retry",
                subject,
                channel=msg.channel,
                attempts=job.attempts,
                error_code=outcome.error_code,
                retry_in_seconds=round(delay, 1),
            )
        return job.state


async def _refusal(s: AsyncSession, envelope: OutboundEnvelope) -> SendOutcome | None:
    """Refuse an SMS to a family that opted out after it was queued (keyword confirmations
    excepted: the confirmation of STOP must still reach them)."""
    if envelope.channel != "sms":
        return None
    msg = await s.get(Message, envelope.message_id)
    if msg is None or msg.contact_id is None or msg.flags.get("keyword_reply"):
        return None
    contact = await s.get(Contact, msg.contact_id)
    if contact is None or not contact.opted_out_sms:
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


async def _preload(s: AsyncSession, message_ids: list[int]) -> list[object]:
    """Load the messages of a batch with their sealed bodies and contacts in three queries, so
    the per-job look-ups that follow are answered from the session. The caller keeps the
    returned rows: the session's identity map holds them only weakly."""
    if not message_ids:
        return []
    messages = list((await s.execute(select(Message).where(Message.id.in_(message_ids)))).scalars())
    rows: list[object] = list(messages)
    sealed = {m.sealed_id for m in messages if m.sealed_id is not None}
    contacts = {m.contact_id for m in messages if m.contact_id is not None}
    if sealed:
        rows += (
            await s.execute(select(SealedOriginal).where(SealedOriginal.id.in_(sealed)))
        ).scalars()
    if contacts:
        rows += (await s.execute(select(Contact).where(Contact.id.in_(contacts)))).scalars()
    return rows
