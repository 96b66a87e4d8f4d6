"""What a send's outcome does to its outbox job and message, recorded for many sends at once.

``next_step`` decides (pure: the outcome, the attempt, the settings and an injected jitter in,
the job's next state out); ``record_outcomes`` writes the decisions of a whole set of sends in
the caller's transaction with a few statements (one read of the jobs under lock, one of the
messages, one executemany per table), so recording costs the same for one send or fifty.
Only a failure for good takes the slower path: it is shown on the case and may record an
opt-out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from connectors.base import OutboundEnvelope, SendOutcome
from gateway.case_alerts import show_on_case
from gateway.core.sms import STATUS_RANK, explain_error, retry_delay, status_moves_forward
from gateway.settings import RelaySettings
from gateway.sms_keywords import set_sms_opt_out
from gateway.storage.db import Tx
from gateway.storage.models import Message, OutboxJob

OUTBOX = cast(Table, OutboxJob.__table__)
MESSAGE = cast(Table, Message.__table__)


@dataclass(frozen=True)
class NextStep:
    """A job's state after one attempt, and the audit event that says so."""

    state: str  # sent | pending | dead
    action: str
    details: dict[str, Any] = field(default_factory=dict)
    retry_in: float | None = None  # pending: seconds until it is due again
    unconfirmed: bool | None = None  # True: set now if unset; False: clear; None: keep
    last_error: str | None = None


def next_step(
    outcome: SendOutcome,
    attempts: int,
    channel: str,
    relay: RelaySettings,
    jitter: float,
    *,
    askable: bool = True,
) -> NextStep:
    """The next state of a job whose attempt number ``attempts`` ended in ``outcome``.

    A reply that may have reached the provider (``ambiguous``) is never failed and never
    resent before the provider is asked: it waits, unconfirmed. A later failure clears that
    only where the provider can be asked (``askable``: it was asked before this attempt);
    an SMTP relay cannot be, so an earlier unanswered hand-over stays on record. ``jitter``
    in [0, 1).
    """
    base = {"channel": channel, "attempts": attempts}
    if outcome.ok:
        return NextStep("sent", "message.sent", base, unconfirmed=False)

    def delay() -> float:
        return retry_delay(
            min(attempts, 64),
            base=relay.backoff_base_seconds,
            cap=relay.backoff_cap_seconds,
            jitter=jitter * 0.999,
        )

    if outcome.ambiguous:
        wait = delay()
        return NextStep(
            "pending",
            "message.send_unconfirmed",
            {**base, "check_in_seconds": round(wait, 1)},
            retry_in=wait,
            unconfirmed=True,
            last_error=outcome.error_text,
        )
    if outcome.permanent or attempts >= relay.max_attempts:
        return NextStep(
            "dead",
            "message.dead_lettered",
            {**base, "error_code": outcome.error_code, "reason": outcome.error_text},
            last_error=outcome.error_text,
        )
    wait = delay()
    return NextStep(
        "pending",
        "message.send_retry",
        {**base, "error_code": outcome.error_code, "retry_in_seconds": round(wait, 1)},
        retry_in=wait,
        # Asked before this attempt and answered now: the provider does not have it.
        unconfirmed=False if askable else None,
        last_error=outcome.error_text,
    )


async def record_outcomes(
    tx: Tx,
    done: Sequence[tuple[int, OutboundEnvelope, SendOutcome]],
    *,
    owner: str,
    relay: RelaySettings,
    askable: frozenset[str],
    now: datetime,
    jitter: Callable[[], float],
    on_lease_lost: Callable[[OutboundEnvelope, SendOutcome], None],
) -> list[str | None]:
    """Record ``(job id, envelope, outcome)`` of several sends; returns each job's new state,
    or None where our lease ran out and another relay holds the job (it settles it)."""
    s = tx.session
    job_ids = [job_id for job_id, _, _ in done]
    # Lock the jobs (in id order, as every relay does, so two never deadlock).
    jobs = {
        row.id: row
        for row in (
            await s.execute(
                select(
                    OUTBOX.c.id,
                    OUTBOX.c.state,
                    OUTBOX.c.lease_owner,
                    OUTBOX.c.attempts,
                    OUTBOX.c.next_attempt_at,
                    OUTBOX.c.unconfirmed_since,
                    OUTBOX.c.handed_over_at,
                )
                .where(OUTBOX.c.id.in_(job_ids))
                .order_by(OUTBOX.c.id)
                .with_for_update()
            )
        ).all()
    }
    statuses = {
        row.id: row
        for row in (
            await s.execute(
                select(MESSAGE.c.id, MESSAGE.c.status, MESSAGE.c.provider_id).where(
                    MESSAGE.c.id.in_([env.message_id for _, env, _ in done])
                )
            )
        ).all()
    }
    job_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    dead: list[tuple[OutboundEnvelope, SendOutcome]] = []
    states: list[str | None] = []
    for job_id, envelope, outcome in done:
        job = jobs.get(job_id)
        if job is None or job.state != "sending" or job.lease_owner != owner:
            on_lease_lost(envelope, outcome)
            states.append(None)
            continue
        step = next_step(
            outcome,
            job.attempts,
            envelope.channel,
            relay,
            jitter(),
            askable=envelope.channel in askable,
        )
        unconfirmed_since = job.unconfirmed_since
        if step.unconfirmed is True:
            unconfirmed_since = unconfirmed_since or now
        elif step.unconfirmed is False:
            unconfirmed_since = None
        handed_over_at = job.handed_over_at
        if step.state != "sent" and unconfirmed_since is None:
            handed_over_at = None  # answered, and nothing earlier left unanswered
        job_rows.append(
            {
                "b_id": job_id,
                "b_state": step.state,
                "b_next": (
                    now + timedelta(seconds=step.retry_in)
                    if step.retry_in is not None
                    else job.next_attempt_at
                ),
                "b_error": step.last_error,
                "b_unconfirmed": unconfirmed_since,
                "b_handed_over": handed_over_at,
            }
        )
        tx.audit("relay", step.action, f"message:{envelope.message_id}", **step.details)
        states.append(step.state)
        if step.state == "sent":
            current = statuses[envelope.message_id]
            # A delivery callback may have overtaken us; statuses only move forward.
            moves = current.status not in STATUS_RANK or status_moves_forward(
                current.status, "sent"
            )
            message_rows.append(
                {
                    "b_id": envelope.message_id,
                    "b_status": "sent" if moves else current.status,
                    "b_provider_id": outcome.provider_id or current.provider_id,
                }
            )
        elif step.state == "dead":
            dead.append((envelope, outcome))
    if job_rows:
        await s.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                unconfirmed_since=bindparam("b_unconfirmed"),
                handed_over_at=bindparam("b_handed_over"),
                lease_until=None,
                lease_owner=None,
            ),
            job_rows,
        )
    if message_rows:
        await s.execute(
            update(MESSAGE)
            .where(MESSAGE.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), provider_id=bindparam("b_provider_id")),
            message_rows,
        )
    for envelope, outcome in dead:
        await _failed_for_good(tx, envelope, outcome, now)
    return states


async def _failed_for_good(
    tx: Tx, envelope: OutboundEnvelope, outcome: SendOutcome, now: datetime
) -> None:
    """The message failed for good: say so on it and, for a caseworker's reply, on its case."""
    msg = await tx.session.get(Message, envelope.message_id)
    assert msg is not None
    msg.status = "failed"
    msg.error_code, msg.error_text = outcome.error_code, outcome.error_text
    if msg.channel == "sms" and explain_error(outcome.error_code).opted_out:
        # Twilio refused: the number sent STOP to Twilio. Record it on the contact.
        await set_sms_opt_out(
            tx, msg.recipient, True, actor="relay", source=f"error:{outcome.error_code}"
        )
    # A keyword confirmation is the service's own notice; the opt-out itself is already on
    # the case, so its failure needs no caseworker.
    if msg.direction == "out" and not msg.flags.get("keyword_reply"):
        await show_on_case(
            tx,
            msg,
            f"{msg.channel.upper()} not sent: {outcome.error_text}",
            actor="relay",
            now=now,
        )
