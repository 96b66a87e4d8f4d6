"""Caseworkers' feedback on risk signals: mark a message "missed risk" or "not a risk".

One transaction per mark, audited as ``risk.feedback``. The marked messages, redacted,
become training data for the next round of the risk model (``case-gateway classify
export-feedback``; ``scripts/train_risk_model.py --feedback FILE``). Feedback never changes
the message's priority or routing: a risk only raises priority, and that already happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from gateway.accounts import Staff
from gateway.permissions import message_scope
from gateway.storage.db import Database, utcnow
from gateway.storage.models import Case, Message, RiskFeedback

MISSED_RISK, NOT_A_RISK = "missed_risk", "not_a_risk"
VERDICTS = (MISSED_RISK, NOT_A_RISK)
RISK_TYPES = ("THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT")


class FeedbackRejected(ValueError):
    """A mark that cannot be recorded; ``code`` names why for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class MessageNotVisible(LookupError):
    """The message does not exist or lies outside the caller's scope."""


@dataclass(frozen=True)
class FeedbackMark:
    """One recorded verdict."""

    id: int
    message_id: int
    verdict: str
    risk_types: tuple[str, ...]
    raised: tuple[str, ...]  # what the classifier had raised on the message
    marked_by: str
    marked_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "verdict": self.verdict,
            "risk_types": list(self.risk_types),
            "raised": list(self.raised),
            "marked_by": self.marked_by,
            "marked_at": self.marked_at.isoformat(),
        }


def _raised(message: Message) -> tuple[str, ...]:
    risks = (message.classification or {}).get("risks", [])
    return tuple(sorted({str(r.get("type")) for r in risks if r.get("type")}))


def check_mark(verdict: str, risk_types: Sequence[str], raised: Sequence[str]) -> tuple[str, ...]:
    """The risk types a mark names, or why it cannot be recorded."""
    if verdict not in VERDICTS:
        raise FeedbackRejected("bad_verdict", f"verdict must be one of {', '.join(VERDICTS)}")
    unknown = sorted(set(risk_types) - set(RISK_TYPES))
    if unknown:
        raise FeedbackRejected(
            "bad_risk_type", f"unknown risk type {unknown[0]}; one of {', '.join(RISK_TYPES)}"
        )
    if verdict == MISSED_RISK and not risk_types:
        raise FeedbackRejected(
            "risk_type_required", 'say which risk was missed: risk_types, e.g. ["SELF_HARM"]'
        )
    if verdict == NOT_A_RISK:
        # "Not a risk" speaks of what was raised, unless the caller names some of it.
        return tuple(sorted(set(risk_types) or set(raised)))
    return tuple(sorted(set(risk_types)))


async def mark_risk_feedback(
    db: Database,
    staff: Staff,
    message_id: int,
    verdict: str,
    risk_types: Sequence[str] = (),
    note: str | None = None,
) -> FeedbackMark:
    """Record one verdict on a message the caller may see, audited in the same transaction."""
    async with db.transaction() as tx:
        message = await tx.session.get(Message, message_id)
        case = (
            await tx.session.get(Case, message.case_id)
            if message is not None and message.case_id is not None
            else None
        )
        if message is None or not message_scope(staff, case):
            raise MessageNotVisible(f"message {message_id}")
        if message.direction != "in":
            raise FeedbackRejected("not_inbound", "only messages from families carry risk signals")
        raised = _raised(message)
        types = check_mark(verdict, risk_types, raised)
        row = RiskFeedback(
            message_id=message.id,
            verdict=verdict,
            risk_types=list(types),
            note=(note or "").strip() or None,
            marked_by=staff.email,
            marked_at=utcnow(),
        )
        tx.session.add(row)
        await tx.session.flush()
        tx.audit(
            staff.email,
            "risk.feedback",
            f"message:{message.id}",
            verdict=verdict,
            risk_types=list(types),
            raised=list(raised),
        )
    return FeedbackMark(row.id, message.id, verdict, types, raised, row.marked_by, row.marked_at)


async def feedback_for_training(db: Database) -> AsyncIterator[dict[str, Any]]:
    """The latest verdict on each marked message, with its redacted text, oldest first.

    Each record is a training line: ``{"id", "text", "risks", "verdict", "raised",
    "marked_at"}``; ``risks`` is what the message should have raised (the types marked
    missed plus the raised ones still standing, or none for "not a risk").
    """
    latest = select(func.max(RiskFeedback.id)).group_by(RiskFeedback.message_id).scalar_subquery()
    async with db.read() as s:
        rows = (
            await s.execute(
                select(RiskFeedback, Message)
                .join(Message, Message.id == RiskFeedback.message_id)
                .where(RiskFeedback.id.in_(latest))
                .order_by(RiskFeedback.id)
            )
        ).all()
    for mark, message in rows:
        raised = set(_raised(message))
        if mark.verdict == MISSED_RISK:
            risks = sorted(raised | set(mark.risk_types))
        else:
            risks = sorted(raised - set(mark.risk_types))
        yield {
            "id": message.id,
            "text": message.redacted_text or "",
            "risks": risks,
            "verdict": mark.verdict,
            "raised": sorted(raised),
            "marked_at": mark.marked_at.isoformat(),
        }
