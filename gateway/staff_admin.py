"""Administration of staff and of case records, as use cases: change or deactivate a person,
mark someone absent, list and mint API tokens, record a contact's consent. One transaction
each, audited; the JSON API and the admin page both call these (never message content)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from gateway.accounts import (
    AccountError,
    AccountForbidden,
    Staff,
    check_user_change,
    create_token,
    revoke_tokens,
)
from gateway.notifications import set_digest_minutes
from gateway.permissions import ASSIGNABLE, TEAM_LEAD, case_scope
from gateway.practice import record_consent
from gateway.sessions import end_sessions
from gateway.storage.db import Database, Tx, utcnow
from gateway.storage.models import ApiToken, Case, Contact, QueueItem, User
from gateway.workqueue import Refused


def _no_user(user_id: int) -> Refused:
    return Refused(404, "not_found", f"No user {user_id} that you can see.")


async def get_user(tx: Tx, user_id: int) -> User:
    user = await tx.session.get(User, user_id)
    if user is None:
        raise _no_user(user_id)
    return user


async def list_users(db: Database) -> list[User]:
    async with db.read() as s:
        return list((await s.execute(select(User).order_by(User.id))).scalars().all())


async def _open_cases_of(tx: Tx, user_id: int) -> int:
    return int(
        (
            await tx.session.execute(
                select(func.count(Case.id)).where(
                    Case.caseworker_id == user_id, Case.status == "open"
                )
            )
        ).scalar_one()
    )


async def change_user(db: Database, staff: Staff, user_id: int, data: dict[str, Any]) -> User:
    """Change name, role, team, active or notify_digest_minutes. A person who is still the
    caseworker of open cases keeps a content role, their team and their account until those
    cases are reassigned."""
    async with db.transaction() as tx:
        user = await get_user(tx, user_id)
        changes = {k: v for k, v in data.items() if v is not None}
        try:
            check_user_change(staff, user, changes)
        except AccountForbidden as exc:
            raise Refused(403, "forbidden", str(exc)) from exc
        moves_away = ("role" in changes and changes["role"] not in ASSIGNABLE) or (
            "team" in changes and changes["team"] != user.team
        )
        if moves_away or changes.get("active") is False:
            assigned = await _open_cases_of(tx, user.id)
            if assigned:
                raise Refused(
                    409,
                    "has_cases",
                    f"{user.name} is the caseworker of {assigned} open case(s); reassign them first.",
                )
        if "notify_digest_minutes" in data:
            changes.pop("notify_digest_minutes", None)
            await set_digest_minutes(tx, user, data["notify_digest_minutes"], staff.email)
        for key, value in changes.items():
            setattr(user, key, value.strip() if isinstance(value, str) else value)
        if changes.get("active") is False:
            await revoke_tokens(tx, actor=staff.email, user_email=user.email)
            await end_sessions(tx, user.id, "deactivated")
        tx.audit(staff.email, "user.changed", f"user:{user.id}", **changes)
    return user


async def deactivate_user(db: Database, staff: Staff, user_id: int) -> User:
    """Deactivate an account: its tokens are revoked and its sessions end; it is kept for the
    audit trail."""
    async with db.transaction() as tx:
        user = await get_user(tx, user_id)
        if user.id == staff.id:
            raise Refused(409, "self", "You cannot deactivate your own account.")
        assigned = await _open_cases_of(tx, user.id)
        if assigned:
            raise Refused(
                409, "has_cases", f"{user.name} has {assigned} open case(s); reassign them first."
            )
        user.active = False
        revoked = await revoke_tokens(tx, actor=staff.email, user_email=user.email)
        ended = await end_sessions(tx, user.id, "deactivated")
        tx.audit(
            staff.email,
            "user.deactivated",
            f"user:{user.id}",
            tokens_revoked=revoked,
            sessions_ended=ended,
        )
    return user


@dataclass(frozen=True)
class Absence:
    user: User
    moved: int


async def set_absence(
    db: Database, staff: Staff, user_id: int, *, absent: bool, reason: str
) -> Absence:
    """Mark a colleague absent (their unclaimed items go to the team queue) or back; team
    leads for their own team, admins for anyone."""
    async with db.transaction() as tx:
        user = await tx.session.get(User, user_id)
        if user is None or (staff.role == TEAM_LEAD and user.team != staff.team):
            raise _no_user(user_id)
        user.absent = absent
        moved = 0
        if user.absent:
            result = await tx.session.execute(
                update(QueueItem)
                .where(
                    QueueItem.owner_kind == "user",
                    QueueItem.owner_user_id == user.id,
                    QueueItem.state == "new",
                )
                .values(
                    owner_kind="team",
                    owner_user_id=None,
                    owner_team=user.team,
                    reason="caseworker absent",
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            moved = int(getattr(result, "rowcount", 0) or 0)
        tx.audit(
            staff.email,
            "user.absent" if user.absent else "user.present",
            f"user:{user.id}",
            reason=reason.strip(),
            items_moved_to_team=moved,
        )
    return Absence(user, moved)


async def user_tokens(db: Database, user_id: int) -> list[ApiToken]:
    async with db.transaction() as tx:
        user = await get_user(tx, user_id)
        return list(
            (await tx.session.execute(select(ApiToken).where(ApiToken.user_id == user.id)))
            .scalars()
            .all()
        )


async def mint_token(
    db: Database, staff: Staff, user_id: int, *, days: int = 90, label: str = ""
) -> tuple[str, Any]:
    """A new API token for a user (shown once); the rules of :func:`create_token` apply."""
    async with db.transaction() as tx:
        user = await get_user(tx, user_id)
        try:
            return await create_token(
                tx, user_email=user.email, actor=staff, days=days, label=label
            )
        except AccountForbidden as exc:
            raise Refused(403, "forbidden", str(exc)) from exc
        except AccountError as exc:
            raise Refused(422, "bad_token", str(exc)) from exc


async def revoke_token(db: Database, staff: Staff, token_id: int) -> int:
    async with db.transaction() as tx:
        if await tx.session.get(ApiToken, token_id) is None:
            raise Refused(404, "not_found", f"No token {token_id} that you can see.")
        return await revoke_tokens(tx, actor=staff.email, token_id=token_id)


@dataclass(frozen=True)
class CaseRecord:
    case: Case
    contacts: list[Contact]


async def case_records(db: Database, staff: Staff, *, limit: int = 200) -> list[CaseRecord]:
    """Cases with their contacts (metadata only: no message content)."""
    async with db.read() as s:
        cases = list(
            (await s.execute(select(Case).where(case_scope(staff)).order_by(Case.id).limit(limit)))
            .scalars()
            .all()
        )
        ids = [c.id for c in cases]
        contacts = (
            list(
                (
                    await s.execute(
                        select(Contact).where(Contact.case_id.in_(ids)).order_by(Contact.id)
                    )
                )
                .scalars()
                .all()
            )
            if ids
            else []
        )
    return [CaseRecord(c, [x for x in contacts if x.case_id == c.id]) for c in cases]


async def set_consent(
    db: Database, staff: Staff, contact_id: int, *, sms: bool, email: bool
) -> Contact:
    """Record a contact's consent per channel (withdrawing is an opt-out), audited."""
    async with db.transaction() as tx:
        contact = await tx.session.get(Contact, contact_id)
        if contact is None:
            raise Refused(404, "not_found", f"No contact {contact_id} that you can see.")
        if contact.consent_sms != sms:
            await record_consent(tx, contact, "sms", sms, staff.email)
        if contact.consent_email != email:
            await record_consent(tx, contact, "email", email, staff.email)
    return contact


async def colleagues(db: Database, staff: Staff) -> list[User]:
    """Active people of the caller's team who can take an item (content roles), not the caller."""
    async with db.read() as s:
        return list(
            (
                await s.execute(
                    select(User)
                    .where(
                        User.team == staff.team,
                        User.active.is_(True),
                        User.role.in_(ASSIGNABLE),
                        User.id != staff.id,
                    )
                    .order_by(User.name)
                )
            )
            .scalars()
            .all()
        )
