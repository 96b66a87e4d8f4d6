"""Putting a message into queues: whose, by the ownership rules of ``gateway.core.routing``.

Every place that queues something (intake, triage links, failures shown on a case, threats
toward staff) builds its queue items here, so the ownership rules are applied one way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.routing import CaseOwnership, QueueTarget, queue_targets
from gateway.storage.models import Case, QueueItem, User

REASON_MAX = 200  # QueueItem.reason


async def case_ownership(s: AsyncSession, case: Case) -> CaseOwnership:
    """Who owns ``case`` right now (an absent or deactivated worker counts as nobody)."""
    absent = False
    if case.caseworker_id is not None:
        worker = await s.get(User, case.caseworker_id)
        absent = worker is None or worker.absent or not worker.active
    return CaseOwnership(case.team, case.caseworker_id, absent)


def queue_item_for(
    message_id: int,
    case_id: int | None,
    target: QueueTarget,
    now: datetime,
    *,
    reason: str | None = None,
) -> QueueItem:
    """A new queue item for one target (``reason`` overrides the target's own)."""
    return QueueItem(
        message_id=message_id,
        case_id=case_id,
        owner_kind=target.owner_kind,
        owner_user_id=target.user_id,
        owner_team=target.team,
        urgent=target.urgent,
        reason=(reason if reason is not None else target.reason)[:REASON_MAX],
        state="new",
        created_at=now,
        updated_at=now,
    )


async def owners_queue_items(
    s: AsyncSession,
    message_id: int,
    case: Case | None,
    *,
    urgent: bool,
    triage_reason: str | None,
    now: datetime,
    blocked: bool = False,
    reason: str | None = None,
) -> list[QueueItem]:
    """The queue items for a message: its case's owner (or triage), and the duty desk when
    urgent. Not added to the session: the caller adds them (intake inserts them itself)."""
    ownership = await case_ownership(s, case) if case is not None else None
    return [
        queue_item_for(message_id, case.id if case else None, target, now, reason=reason)
        for target in queue_targets(
            ownership, urgent=urgent, triage_reason=triage_reason, blocked=blocked
        )
    ]
