"""Put something the caseworker must act on into the queue of the case it belongs to.

Used wherever the gateway learns something about a case outside intake: an outbound message
that finally failed (the relay's dead-letter path and Twilio's delivery callbacks) and a family
that can no longer be reached by SMS. Whose queue it is follows the same ownership rules as an
inbound message (``gateway.core.routing.queue_targets``): the assigned caseworker, the team when
nobody is assigned or the worker is absent, triage when the message has no case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gateway.queues import REASON_MAX, case_ownership, owners_queue_items
from gateway.storage.db import Tx, utcnow
from gateway.storage.models import Case, Message, QueueItem

__all__ = ["case_ownership", "show_on_case"]


async def show_on_case(
    tx: Tx, message: Message, reason: str, *, actor: str, now: datetime | None = None
) -> list[QueueItem]:
    """Queue ``message`` for its case's owner with ``reason``; audited, at most once per message.

    A message that already has an open queue item with the same reason is not queued again, so
    a repeated failure report does not fill the queue.
    """
    now = now or utcnow()
    s = tx.session
    reason = reason[:REASON_MAX]
    existing = (
        await s.execute(
            select(QueueItem.id).where(
                QueueItem.message_id == message.id,
                QueueItem.reason == reason,
                QueueItem.state.in_(("new", "claimed")),
            )
        )
    ).first()
    if existing is not None:
        return []
    case = await s.get(Case, message.case_id) if message.case_id is not None else None
    items = await owners_queue_items(
        s, message.id, case, urgent=False, triage_reason=reason, now=now, reason=reason
    )
    s.add_all(items)
    await s.flush()
    tx.audit(
        actor,
        "queue_item.created",
        f"message:{message.id}",
        case=case.ref if case else None,
        reason=reason,
        owners=[i.owner_kind for i in items],
    )
    return items
