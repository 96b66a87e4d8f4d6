"""The outbox relay worker: claims due jobs, sends them once, records the outcome.

Claiming uses ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers (in one or
several processes) never take the same job; on SQLite ``BEGIN IMMEDIATE`` serialises the claim.
A claimed job carries a lease: if the worker dies mid-send, the job is claimed again after the
lease, with the same idempotency key, so the provider can recognise the repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import OutboundEnvelope, Sender, SendOutcome
from gateway.case_alerts import show_on_case
from gateway.core.addresses import reply_address
from gateway.core.sms import STATUS_RANK, explain_error, retry_delay, status_moves_forward
from gateway.metrics import MESSAGES_OUT, SEND_ATTEMPTS
from gateway.sealing import Keyring, SealedBlob
from gateway.settings import Settings
from gateway.sms_keywords import set_sms_opt_out
from gateway.storage.db import Database, utcnow
from gateway.storage.models import Contact, Message, OutboxJob, ReplyToken, SealedOriginal
from gateway.workers import poll_until_stopped

log = structlog.get_logger("gateway.relay")


@dataclass(frozen=True)
class ClaimedJob:
    job_id: int
    attempts: int
    envelope: OutboundEnvelope
    refusal: SendOutcome | None = None  # decided at claim time: not sent at all


async def claim_due(
    s: AsyncSession, kind: str, now: datetime, limit: int, lease_seconds: float
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
        job.state = "sending"
        job.attempts += 1
        job.lease_until = now + timedelta(seconds=lease_seconds)
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

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        await poll_until_stopped("relay", self.run_once, stop, self.settings.relay.poll_seconds)

    async def run_once(self) -> int:
        """Claim one batch of due jobs and send each; returns how many were attempted."""
        claimed = await self.claim()
        for job in claimed:
            outcome = job.refusal or await self._send(job)
            await self.record(job, outcome)
        return len(claimed)

    async def _send(self, job: ClaimedJob) -> SendOutcome:
        sender = self.senders.get(job.envelope.channel)
        if sender is None:
            return SendOutcome(
                False, permanent=True, error_text=f"no sender for channel {job.envelope.channel}"
            )
        try:
            return await sender.send(job.envelope)
        except Exception as exc:  # a sender bug must not stop the relay; the job retries
            log.error(
                "relay.sender_crashed",
                message_id=job.envelope.message_id,
                error=exc.__class__.__name__,
            )
            return SendOutcome(False, error_text=f"sender error: {exc.__class__.__name__}")

    async def claim(self) -> list[ClaimedJob]:
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            s = tx.session
            jobs = await claim_due(s, "send", now, relay.batch_size, relay.lease_seconds)
            claimed: list[ClaimedJob] = []
            for job in jobs:
                envelope = await self._envelope(s, job)
                claimed.append(
                    ClaimedJob(job.id, job.attempts, envelope, await _refusal(s, envelope))
                )
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
        now = self.clock()
        relay = self.settings.relay
        async with self.db.transaction() as tx:
            s = tx.session
            job = await s.get(OutboxJob, claimed.job_id)
            msg = await s.get(Message, claimed.envelope.message_id)
            assert job is not None and msg is not None
            subject = f"message:{msg.id}"
            if outcome.ok:
                job.state, job.lease_until, job.last_error = "sent", None, None
                # A delivery callback may have overtaken us; statuses only move forward.
                if msg.status not in STATUS_RANK or status_moves_forward(msg.status, "sent"):
                    msg.status = "sent"
                if outcome.provider_id:
                    msg.provider_id = outcome.provider_id
                tx.audit(
                    "relay", "message.sent", subject, channel=msg.channel, attempts=job.attempts
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
                    job.attempts, base=relay.backoff_base_seconds, cap=relay.backoff_cap_seconds
                )
                job.state, job.lease_until = "pending", None
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
        channel = claimed.envelope.channel
        SEND_ATTEMPTS.labels(channel, "retry" if job.state == "pending" else job.state).inc()
        if job.state == "sent":
            MESSAGES_OUT.labels(channel).inc()
        log.info(
            "relay.outcome",
            message_id=claimed.envelope.message_id,
            ok=outcome.ok,
            permanent=outcome.permanent,
            error_code=outcome.error_code,
        )


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
