"""Triage: what a team lead does with a message the gateway could not place.

- link it to a case (optionally adding the sender as a new contact of that case: the only way a
  contact is ever created from a message, and an audited human act — invariant 5);
- mark it as spam or abuse;
- block its sender: later messages from that address are stored and flagged, never queued and
  never answered (intake and the reply service check the block list).

Every action records the actor and the reason in the audit log, in the action's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from gateway.accounts import Staff
from gateway.queues import owners_queue_items
from gateway.storage.db import Tx, utcnow
from gateway.storage.models import BlockedSender, Case, Contact, Message, QueueItem
from gateway.workqueue import Refused


@dataclass(frozen=True)
class NewContact:
    name: str
    role: str = "parent"
    language: str = "nb"


async def _close_items(tx: Tx, message_id: int, reason: str) -> None:
    await tx.session.execute(
        update(QueueItem)
        .where(QueueItem.message_id == message_id, QueueItem.state.in_(("new", "claimed")))
        .values(state="done", reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def link_to_case(
    tx: Tx,
    staff: Staff,
    message: Message,
    case: Case,
    *,
    reason: str,
    contact_id: int | None = None,
    new_contact: NewContact | None = None,
) -> Contact | None:
    """Attach a triage message to ``case`` and queue it for the case's caseworker."""
    s = tx.session
    if message.direction != "in" or message.case_id is not None:
        raise Refused(409, "not_in_triage", "Only an inbound message waiting in triage is linked.")
    if message.flags.get("blocked_sender"):
        raise Refused(409, "blocked_sender", "The sender is blocked; unblock them first.")
    if case.status != "open":
        raise Refused(409, "case_closed", f"Case {case.ref} is closed.")
    contact: Contact | None = None
    if contact_id is not None and new_contact is not None:
        raise Refused(400, "bad_request", "Give contact_id or add_contact, not both.")
    if contact_id is not None:
        contact = await s.get(Contact, contact_id)
        if contact is None or contact.case_id != case.id:
            raise Refused(422, "bad_contact", f"Contact {contact_id} is not on case {case.ref}.")
    elif new_contact is not None:
        contact = Contact(
            case_id=case.id,
            role=new_contact.role,
            name=new_contact.name,
            phone=message.sender if message.channel == "sms" else None,
            email=message.sender if message.channel == "email" else None,
            language=new_contact.language,
            consent_sms=False,
            consent_email=False,
            opted_out_sms=False,
            opted_out_email=False,
            verified=False,  # added from a message: the caseworker confirms the identity
        )
        s.add(contact)
        await s.flush()
        tx.audit(
            staff.email,
            "contact.added_from_message",
            f"contact:{contact.id}",
            case=case.ref,
            message_id=message.id,
            role=new_contact.role,
            reason=reason,
        )
    message.case_id = case.id
    message.contact_id = contact.id if contact else None
    message.status = "received"
    message.flags = {**message.flags, "linked_by_triage": True}
    await _close_items(tx, message.id, f"linked to {case.ref}")
    s.add_all(
        await owners_queue_items(
            s,
            message.id,
            case,
            urgent=message.priority == "urgent",
            triage_reason=None,
            now=utcnow(),
        )
    )
    tx.audit(
        staff.email,
        "triage.linked",
        f"message:{message.id}",
        case=case.ref,
        contact_id=message.contact_id,
        reason=reason,
        was=message.triage_reason,
    )
    await s.flush()
    return contact


async def mark_spam(tx: Tx, staff: Staff, message: Message, *, kind: str, reason: str) -> None:
    """Spam or abuse: the message stays in the record, flagged, and leaves every queue."""
    if message.direction != "in":
        raise Refused(409, "outbound", "Only inbound messages are marked as spam or abuse.")
    message.flags = {**message.flags, kind: True}
    message.status = kind
    await _close_items(tx, message.id, f"marked as {kind}")
    tx.audit(staff.email, f"triage.marked_{kind}", f"message:{message.id}", reason=reason)


async def block_sender(tx: Tx, staff: Staff, message: Message, *, reason: str) -> BlockedSender:
    """Block the sender of ``message``; their open queue items are closed."""
    if message.direction != "in":
        raise Refused(409, "outbound", "Only the sender of an inbound message can be blocked.")
    s = tx.session
    row = (
        await s.execute(select(BlockedSender).where(BlockedSender.address == message.sender))
    ).scalar_one_or_none()
    if row is not None:
        return row
    row = BlockedSender(
        address=message.sender, reason=reason, blocked_by=staff.email, created_at=utcnow()
    )
    s.add(row)
    await s.flush()
    ids = (
        (
            await s.execute(
                select(Message.id).where(
                    Message.sender == message.sender, Message.direction == "in"
                )
            )
        )
        .scalars()
        .all()
    )
    for mid in ids:
        await _close_items(tx, mid, "sender blocked")
    message.flags = {**message.flags, "blocked_sender": True}
    tx.audit(
        staff.email,
        "sender.blocked",
        f"blocked_sender:{row.id}",
        message_id=message.id,
        channel=message.channel,
        reason=reason,
    )
    return row


async def unblock_sender(tx: Tx, staff: Staff, blocked_id: int, *, reason: str) -> None:
    row = await tx.session.get(BlockedSender, blocked_id)
    if row is None:
        raise Refused(404, "not_found", f"No blocked sender {blocked_id}.")
    await tx.session.delete(row)
    tx.audit(staff.email, "sender.unblocked", f"blocked_sender:{blocked_id}", reason=reason)


async def is_blocked(tx: Tx, address: str) -> bool:
    return (
        await tx.session.execute(select(BlockedSender.id).where(BlockedSender.address == address))
    ).first() is not None
