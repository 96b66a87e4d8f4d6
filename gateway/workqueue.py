"""Queue item states: new -> claimed -> done -> journalled, and reassignment.

Every transition is one conditional UPDATE (``... WHERE state IN (...)``), so when two people act
on one item at the same moment the database lets exactly one of them win: on PostgreSQL the
second UPDATE waits for the first's row lock, re-reads the row and matches nothing; on SQLite
writers are serialised. Each transition writes its audit event in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, select, update

from gateway.accounts import Staff
from gateway.permissions import ASSIGNABLE, queue_scope
from gateway.queues import case_ownership
from gateway.storage.db import Tx, utcnow
from gateway.storage.models import Case, QueueItem, User

OPEN_STATES = ("new", "claimed")


class Refused(Exception):
    """An action that cannot be done as asked; ``status`` is the HTTP answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def visible_item(tx: Tx, staff: Staff, item_id: int) -> QueueItem:
    item = (
        await tx.session.execute(
            select(QueueItem).where(QueueItem.id == item_id, queue_scope(staff))
        )
    ).scalar_one_or_none()
    if item is None:
        raise Refused(404, "not_found", f"No queue item {item_id} that you can see.")
    return item


async def _transition(
    tx: Tx, item_id: int, from_states: tuple[str, ...], me: int, values: dict[str, Any]
) -> bool:
    """Move the item if it is in one of ``from_states`` and nobody else holds it."""
    result = await tx.session.execute(
        update(QueueItem)
        .where(
            QueueItem.id == item_id,
            QueueItem.state.in_(from_states),
            (QueueItem.claimed_by.is_(None)) | (QueueItem.claimed_by == me),
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return bool(result.rowcount == 1)


async def _holder_name(tx: Tx, item_id: int) -> tuple[str, str]:
    row = (
        await tx.session.execute(
            select(QueueItem.state, User.name)
            .outerjoin(User, User.id == QueueItem.claimed_by)
            .where(QueueItem.id == item_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    return str(row[0]), str(row[1] or "")


async def _refuse_conflict(tx: Tx, item_id: int, action: str) -> Refused:
    state, holder = await _holder_name(tx, item_id)
    if state in OPEN_STATES and holder:
        return Refused(409, "claimed", f"Cannot {action}: {holder} has claimed this item.")
    return Refused(409, "wrong_state", f"Cannot {action}: the item is {state}.")


async def claim(tx: Tx, staff: Staff, item_id: int) -> QueueItem:
    """Claim an item: exactly one of several concurrent claims wins; the others get 409."""
    item = await visible_item(tx, staff, item_id)
    if item.state == "claimed" and item.claimed_by == staff.id:
        return item
    if not await _transition(
        tx, item_id, ("new",), staff.id, {"state": "claimed", "claimed_by": staff.id}
    ):
        raise await _refuse_conflict(tx, item_id, "claim")
    tx.audit(staff.email, "queue.claimed", f"queue_item:{item_id}", message_id=item.message_id)
    return await _reload(tx, item_id)


async def mark_done(tx: Tx, staff: Staff, item_id: int, *, note: str = "") -> QueueItem:
    item = await visible_item(tx, staff, item_id)
    if not await _transition(
        tx, item_id, OPEN_STATES, staff.id, {"state": "done", "claimed_by": staff.id}
    ):
        raise await _refuse_conflict(tx, item_id, "mark it done")
    tx.audit(
        staff.email, "queue.done", f"queue_item:{item_id}", message_id=item.message_id, note=note
    )
    return await _reload(tx, item_id)


async def mark_journalled(tx: Tx, staff: Staff, item_id: int, journal_ref: str) -> QueueItem:
    item = await visible_item(tx, staff, item_id)
    if not await _transition(
        tx,
        item_id,
        (*OPEN_STATES, "done"),
        staff.id,
        {"state": "journalled", "journal_ref": journal_ref, "claimed_by": staff.id},
    ):
        raise await _refuse_conflict(tx, item_id, "mark it journalled")
    tx.audit(
        staff.email,
        "queue.journalled",
        f"queue_item:{item_id}",
        message_id=item.message_id,
        journal_ref=journal_ref,
    )
    return await _reload(tx, item_id)


async def take_for_reply(tx: Tx, staff: Staff, item_id: int, case_id: int) -> None:
    """A reply that answers a queue item closes it in the reply's own transaction: of two
    concurrent replies to one item exactly one is written, the other is refused (409)."""
    item = await visible_item(tx, staff, item_id)
    if item.case_id != case_id:
        raise Refused(422, "wrong_case", f"Queue item {item_id} is not about this case.")
    if not await _transition(
        tx, item_id, OPEN_STATES, staff.id, {"state": "done", "claimed_by": staff.id}
    ):
        state, holder = await _holder_name(tx, item_id)
        if state in OPEN_STATES and holder:
            raise Refused(409, "claimed", f"{holder} has claimed this item; not sent.")
        raise Refused(409, "already_answered", f"This item is already {state}; not sent.")
    tx.audit(staff.email, "queue.answered", f"queue_item:{item_id}", message_id=item.message_id)


async def reassign(
    tx: Tx,
    staff: Staff,
    item_id: int,
    *,
    user_id: int | None,
    team: str | None,
    reason: str,
) -> QueueItem:
    """Give an open item to a colleague of the case's team, or back to the case's team queue."""
    item = await visible_item(tx, staff, item_id)
    if item.state not in OPEN_STATES:
        raise Refused(409, "wrong_state", f"Cannot reassign: the item is {item.state}.")
    if item.case_id is None:
        raise Refused(409, "triage", "A triage item is not reassigned: link it to a case first.")
    case = await tx.session.get(Case, item.case_id)
    assert case is not None
    values: dict[str, Any]
    if user_id is not None:
        target = await tx.session.get(User, user_id)
        if target is None or not target.active or target.team != case.team:
            raise Refused(422, "bad_target", f"No active colleague {user_id} in team {case.team}.")
        if target.role not in ASSIGNABLE:
            raise Refused(422, "bad_target", f"A {target.role} does not work a queue.")
        if target.absent:
            raise Refused(409, "absent", f"{target.name} is marked absent.")
        values = {"owner_kind": "user", "owner_user_id": target.id, "owner_team": case.team}
    else:
        if team != case.team:
            raise Refused(
                422,
                "bad_target",
                f"The case belongs to team {case.team}; an administrator moves a case to "
                "another team.",
            )
        values = {"owner_kind": "team", "owner_user_id": None, "owner_team": case.team}
    result = await tx.session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.state.in_(OPEN_STATES))
        .values(
            state="new",
            claimed_by=None,
            reason=f"reassigned: {reason}",
            updated_at=utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        raise await _refuse_conflict(tx, item_id, "reassign")
    tx.audit(
        staff.email,
        "queue.reassigned",
        f"queue_item:{item_id}",
        message_id=item.message_id,
        to_user=user_id,
        to_team=values["owner_team"] if user_id is None else None,
        reason=reason,
    )
    return await _reload(tx, item_id)


async def _reload(tx: Tx, item_id: int) -> QueueItem:
    return (
        await tx.session.execute(
            select(QueueItem)
            .where(QueueItem.id == item_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def follow_case_owner(tx: Tx, case: Case) -> int:
    """Move the case's unclaimed items to whoever owns the case now; returns how many moved.

    Used when an admin changes a case's caseworker or team: what nobody has started on follows
    the case (claimed items stay with the colleague who is working on them). Duty desk and
    triage items are not the case owner's and stay where they are.
    """
    ownership = await case_ownership(tx.session, case)
    if ownership.caseworker_id is not None and not ownership.caseworker_absent:
        values: dict[str, Any] = {
            "owner_kind": "user",
            "owner_user_id": ownership.caseworker_id,
            "owner_team": case.team,
            "reason": "assigned caseworker",
        }
    else:
        values = {
            "owner_kind": "team",
            "owner_user_id": None,
            "owner_team": case.team,
            "reason": "no caseworker assigned",
        }
    result = await tx.session.execute(
        update(QueueItem)
        .where(
            QueueItem.case_id == case.id,
            QueueItem.owner_kind.in_(("user", "team")),
            QueueItem.state == "new",
        )
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
