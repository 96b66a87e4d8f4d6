"""Cases and contacts as records (no message content): list, create, change, delete, and the
contacts of a case. One transaction each, audited; the JSON API and the admin page call these.
Changing a case's caseworker or team moves its unclaimed queue items with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from gateway.accounts import Staff
from gateway.casework import case_contacts, not_visible, visible_case
from gateway.permissions import ASSIGNABLE, case_scope
from gateway.storage.db import Database, Tx, utcnow
from gateway.storage.models import Case, Contact, Message, QueueItem, ReplyToken, User
from gateway.workqueue import Refused, follow_case_owner


async def list_cases(
    db: Database,
    staff: Staff,
    *,
    status: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> list[Case]:
    """Cases ``staff`` may see, by id after ``after``; ``limit + 1`` at most (a next page)."""
    conditions = [case_scope(staff)]
    if status:
        conditions.append(Case.status == status)
    if after is not None:
        conditions.append(Case.id > after)
    async with db.read() as s:
        return list(
            (await s.execute(select(Case).where(*conditions).order_by(Case.id).limit(limit + 1)))
            .scalars()
            .all()
        )


async def check_caseworker(tx: Tx, caseworker_id: int | None, team: str) -> None:
    if caseworker_id is None:
        return
    user = await tx.session.get(User, caseworker_id)
    if user is None or not user.active:
        raise Refused(422, "bad_caseworker", f"No active user {caseworker_id}.")
    if user.role not in ASSIGNABLE:
        raise Refused(
            422,
            "bad_caseworker",
            f"A {user.role} is never a case's caseworker (admins read no content).",
        )
    if user.team != team:
        raise Refused(422, "bad_caseworker", f"{user.name} is not in team {team}.")


async def create_case(
    db: Database,
    staff: Staff,
    *,
    ref: str,
    title: str,
    team: str,
    caseworker_id: int | None,
    status: str = "open",
) -> Case:
    async with db.transaction() as tx:
        ref = ref.strip()
        if (await tx.session.execute(select(Case.id).where(Case.ref == ref))).first():
            raise Refused(409, "exists", f"Case {ref} already exists.")
        await check_caseworker(tx, caseworker_id, team.strip())
        case = Case(
            ref=ref,
            title=title.strip(),
            team=team.strip(),
            caseworker_id=caseworker_id,
            status=status,
            created_at=utcnow(),
        )
        tx.session.add(case)
        await tx.session.flush()
        tx.audit(staff.email, "case.created", f"case:{case.id}", ref=ref, team=case.team)
    return case


async def case_with_contacts(db: Database, staff: Staff, ref: str) -> tuple[Case, list[Contact]]:
    async with db.read() as s:
        case = await visible_case(s, staff, ref)
        contacts = await case_contacts(s, case.id)
    return case, contacts


async def change_case(db: Database, staff: Staff, ref: str, data: dict[str, Any]) -> Case:
    """Change title, team, caseworker_id (None: nobody) or status."""
    async with db.transaction() as tx:
        case = await visible_case(tx.session, staff, ref)
        changes = {k: v for k, v in data.items() if v is not None or k == "caseworker_id"}
        if "caseworker_id" in data or "team" in changes:
            await check_caseworker(
                tx,
                changes.get("caseworker_id", case.caseworker_id),
                changes.get("team", case.team),
            )
        for key, value in changes.items():
            setattr(case, key, value.strip() if isinstance(value, str) else value)
        moved = 0
        if "caseworker_id" in changes or "team" in changes:
            await tx.session.flush()
            moved = await follow_case_owner(tx, case)
        tx.audit(
            staff.email,
            "case.changed",
            f"case:{case.id}",
            ref=case.ref,
            items_moved=moved,
            **changes,
        )
    return case


async def delete_case(db: Database, staff: Staff, ref: str) -> Case:
    """Delete a case nobody has corresponded on (a case with correspondence is closed instead)."""
    async with db.transaction() as tx:
        case = await visible_case(tx.session, staff, ref)
        s = tx.session
        used = (
            await s.execute(select(Message.id).where(Message.case_id == case.id).limit(1))
        ).first()
        queued = (
            await s.execute(select(QueueItem.id).where(QueueItem.case_id == case.id).limit(1))
        ).first()
        if used or queued:
            raise Refused(
                409, "has_messages", f"Case {case.ref} has correspondence; close it instead."
            )
        await s.execute(delete(ReplyToken).where(ReplyToken.case_id == case.id))
        await s.execute(delete(Contact).where(Contact.case_id == case.id))
        await s.delete(case)
        tx.audit(staff.email, "case.deleted", f"case:{case.id}", ref=case.ref)
    return case


async def _apply_contact(
    tx: Tx, staff: Staff, contact: Contact, values: dict[str, Any], case_ref: str, action: str
) -> None:
    before = (contact.consent_sms, contact.consent_email)
    for key, value in values.items():
        setattr(contact, key, value.strip() if isinstance(value, str) else value)
    if (contact.consent_sms, contact.consent_email) != before:
        contact.consent_by, contact.consent_at = staff.email, utcnow()
    await tx.session.flush()
    tx.audit(
        staff.email,
        action,
        f"contact:{contact.id}",
        case=case_ref,
        fields=sorted(values),
        consent_sms=contact.consent_sms,
        consent_email=contact.consent_email,
    )


async def add_contact(db: Database, staff: Staff, ref: str, values: dict[str, Any]) -> Contact:
    """Add a contact (already checked and normalised ``values``) to a case."""
    async with db.transaction() as tx:
        case = await visible_case(tx.session, staff, ref)
        contact = Contact(
            case_id=case.id,
            role="parent",
            name="",
            language="nb",
            consent_sms=False,
            consent_email=False,
            opted_out_sms=False,
            opted_out_email=False,
            verified=True,
        )
        tx.session.add(contact)
        await _apply_contact(tx, staff, contact, values, case.ref, "contact.created")
    return contact


async def _contact(tx: Tx, contact_id: int) -> tuple[Contact, Case]:
    contact = await tx.session.get(Contact, contact_id)
    case = await tx.session.get(Case, contact.case_id) if contact else None
    if contact is None or case is None:
        raise not_visible(f"contact {contact_id}")
    return contact, case


async def change_contact(
    db: Database, staff: Staff, contact_id: int, values: dict[str, Any]
) -> Contact:
    async with db.transaction() as tx:
        contact, case = await _contact(tx, contact_id)
        await _apply_contact(tx, staff, contact, values, case.ref, "contact.changed")
    return contact


async def delete_contact(db: Database, staff: Staff, contact_id: int) -> Contact:
    """Delete a contact nobody has corresponded with (otherwise the record keeps it)."""
    async with db.transaction() as tx:
        contact, case = await _contact(tx, contact_id)
        s = tx.session
        if (
            await s.execute(select(Message.id).where(Message.contact_id == contact.id).limit(1))
        ).first():
            raise Refused(
                409, "has_messages", "The contact has correspondence on record; it is kept."
            )
        await s.execute(delete(ReplyToken).where(ReplyToken.contact_id == contact.id))
        await s.delete(contact)
        tx.audit(staff.email, "contact.deleted", f"contact:{contact.id}", case=case.ref)
    return contact
