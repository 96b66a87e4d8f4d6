"""Cases and contacts: metadata for everyone who may see the case, changes by admins only.
Nothing here returns message content."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import delete, select

from gateway.accounts import Staff
from gateway.core.addresses import normalise_email, normalise_phone
from gateway.permissions import ADMINS, ASSIGNABLE, CASE_METADATA, case_scope
from gateway.storage.db import Tx, utcnow
from gateway.storage.models import Case, Contact, Message, QueueItem, ReplyToken, User
from gateway.web.api_common import (
    ApiError,
    Field,
    Page,
    Param,
    decode_cursor,
    encode_cursor,
    endpoint,
    int_param,
    not_found,
    query_int,
)
from gateway.web.api_messages import visible_case
from gateway.web.keys import RUNTIME
from gateway.workqueue import follow_case_owner

LANGUAGES = ("nb", "nn", "da", "sv", "en")


def case_json(c: Case, contacts: list[Contact] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ref": c.ref,
        "title": c.title,
        "team": c.team,
        "caseworker_id": c.caseworker_id,
        "status": c.status,
        "created_at": c.created_at.isoformat(),
    }
    if contacts is not None:
        out["contacts"] = [contact_json(x) for x in contacts]
    return out


def contact_json(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "role": c.role,
        "phone": c.phone,
        "email": c.email,
        "language": c.language,
        "consent_sms": c.consent_sms,
        "consent_email": c.consent_email,
        "opted_out_sms": c.opted_out_sms,
        "opted_out_email": c.opted_out_email,
        "verified": c.verified,
    }


@endpoint(
    "GET",
    "/api/v1/cases",
    summary="Cases you can see (metadata only): your team's; admins and auditors all",
    roles=CASE_METADATA,
    tag="cases",
    query=(
        Param("status", enum=("open", "closed")),
        Param("cursor"),
        Param("limit", "integer", description="1-200, default 50"),
    ),
)
async def list_cases(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    conditions = [case_scope(staff)]
    status = request.query.get("status")
    if status:
        if status not in ("open", "closed"):
            raise ApiError(400, "bad_request", "status must be open or closed.")
        conditions.append(Case.status == status)
    if request.query.get("cursor"):
        (last,) = decode_cursor(request.query["cursor"], 1)
        conditions.append(Case.id > last)
    limit = query_int(request, "limit", 50, 1, 200)
    async with request.app[RUNTIME].db.read() as s:
        rows = (
            (await s.execute(select(Case).where(*conditions).order_by(Case.id).limit(limit + 1)))
            .scalars()
            .all()
        )
    page = Page([case_json(c) for c in rows[:limit]])
    if len(rows) > limit:
        page.next_cursor = encode_cursor(rows[limit - 1].id)
    return page.response()


async def _check_caseworker(tx: Tx, caseworker_id: int | None, team: str) -> None:
    if caseworker_id is None:
        return
    user = await tx.session.get(User, caseworker_id)
    if user is None or not user.active:
        raise ApiError(422, "bad_caseworker", f"No active user {caseworker_id}.")
    if user.role not in ASSIGNABLE:
        raise ApiError(
            422,
            "bad_caseworker",
            f"A {user.role} is never a case's caseworker (admins read no content).",
        )
    if user.team != team:
        raise ApiError(422, "bad_caseworker", f"{user.name} is not in team {team}.")


@endpoint(
    "POST",
    "/api/v1/cases",
    summary="Create a case",
    roles=ADMINS,
    tag="cases",
    body={
        "ref": Field("string", required=True, min_length=1, max_length=64, one_line=True),
        "title": Field("string", required=True, min_length=1, max_length=300, one_line=True),
        "team": Field("string", required=True, min_length=1, max_length=100, one_line=True),
        "caseworker_id": Field("integer", nullable=True),
        "status": Field("string", enum=("open", "closed")),
    },
    ok=201,
    errors=(409, 422),
)
async def create_case(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.transaction() as tx:
        ref = data["ref"].strip()
        if (await tx.session.execute(select(Case.id).where(Case.ref == ref))).first():
            raise ApiError(409, "exists", f"Case {ref} already exists.")
        await _check_caseworker(tx, data.get("caseworker_id"), data["team"].strip())
        case = Case(
            ref=ref,
            title=data["title"].strip(),
            team=data["team"].strip(),
            caseworker_id=data.get("caseworker_id"),
            status=data.get("status") or "open",
            created_at=utcnow(),
        )
        tx.session.add(case)
        await tx.session.flush()
        tx.audit(staff.email, "case.created", f"case:{case.id}", ref=ref, team=case.team)
    return web.json_response(case_json(case, []), status=201)


@endpoint(
    "GET",
    "/api/v1/cases/{ref}",
    summary="One case with its contacts (no message content)",
    roles=CASE_METADATA,
    tag="cases",
    errors=(404,),
)
async def get_case(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.read() as s:
        case = await visible_case(s, staff, request.match_info["ref"])
        contacts = list(
            (
                await s.execute(
                    select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)
                )
            )
            .scalars()
            .all()
        )
    return web.json_response(case_json(case, contacts))


@endpoint(
    "PATCH",
    "/api/v1/cases/{ref}",
    summary="Change a case (title, team, caseworker_id, status)",
    roles=ADMINS,
    tag="cases",
    body={
        "title": Field("string", min_length=1, max_length=300, one_line=True),
        "team": Field("string", min_length=1, max_length=100, one_line=True),
        "caseworker_id": Field("integer", nullable=True),
        "status": Field("string", enum=("open", "closed")),
    },
    errors=(404, 422),
)
async def patch_case(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.transaction() as tx:
        case = await visible_case(tx.session, staff, request.match_info["ref"])
        changes = {k: v for k, v in data.items() if v is not None or k == "caseworker_id"}
        if "caseworker_id" in data or "team" in changes:
            await _check_caseworker(
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
    return web.json_response(case_json(case))


@endpoint(
    "DELETE",
    "/api/v1/cases/{ref}",
    summary="Delete a case that has no messages (a case with correspondence is closed instead)",
    roles=ADMINS,
    tag="cases",
    errors=(404, 409),
)
async def delete_case(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.transaction() as tx:
        case = await visible_case(tx.session, staff, request.match_info["ref"])
        s = tx.session
        used = (
            await s.execute(select(Message.id).where(Message.case_id == case.id).limit(1))
        ).first()
        queued = (
            await s.execute(select(QueueItem.id).where(QueueItem.case_id == case.id).limit(1))
        ).first()
        if used or queued:
            raise ApiError(
                409, "has_messages", f"Case {case.ref} has correspondence; close it instead."
            )
        await s.execute(delete(ReplyToken).where(ReplyToken.case_id == case.id))
        await s.execute(delete(Contact).where(Contact.case_id == case.id))
        await s.delete(case)
        tx.audit(staff.email, "case.deleted", f"case:{case.id}", ref=case.ref)
    return web.json_response({"ref": case.ref, "deleted": True})


CONTACT_FIELDS = {
    "name": Field("string", min_length=1, max_length=200, one_line=True),
    "role": Field("string", min_length=1, max_length=50, one_line=True),
    "phone": Field("string", max_length=40, nullable=True, one_line=True),
    "email": Field("string", max_length=320, nullable=True, one_line=True),
    "language": Field("string", enum=LANGUAGES),
    "consent_sms": Field("boolean"),
    "consent_email": Field("boolean"),
    "opted_out_sms": Field("boolean"),
    "opted_out_email": Field("boolean"),
    "verified": Field("boolean"),
}


def _contact_values(data: dict[str, Any], region: str) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if v is not None or k in ("phone", "email")}
    if values.get("phone"):
        phone = normalise_phone(values["phone"], region)
        if phone is None:
            raise ApiError(422, "bad_phone", "phone is not a valid phone number.")
        values["phone"] = phone
    if values.get("email"):
        if "@" not in values["email"]:
            raise ApiError(422, "bad_email", "email is not an e-mail address.")
        values["email"] = normalise_email(values["email"])
    for key in ("phone", "email"):
        if key in values and not values[key]:
            values[key] = None
    return values


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


@endpoint(
    "POST",
    "/api/v1/cases/{ref}/contacts",
    summary="Add a contact to a case",
    roles=ADMINS,
    tag="cases",
    body={
        **CONTACT_FIELDS,
        "name": Field("string", required=True, min_length=1, max_length=200, one_line=True),
    },
    ok=201,
    errors=(404, 422),
)
async def create_contact(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    rt = request.app[RUNTIME]
    values = _contact_values(data, rt.settings.sms.default_region)
    async with rt.db.transaction() as tx:
        case = await visible_case(tx.session, staff, request.match_info["ref"])
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
    return web.json_response(contact_json(contact), status=201)


async def _contact(tx: Tx, contact_id: int) -> tuple[Contact, Case]:
    contact = await tx.session.get(Contact, contact_id)
    case = await tx.session.get(Case, contact.case_id) if contact else None
    if contact is None or case is None:
        raise not_found(f"contact {contact_id}")
    return contact, case


@endpoint(
    "PATCH",
    "/api/v1/contacts/{contact_id}",
    summary="Change a contact (address, language, consent, opt-out, verified)",
    roles=ADMINS,
    tag="cases",
    body=CONTACT_FIELDS,
    errors=(404, 422),
)
async def patch_contact(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    rt = request.app[RUNTIME]
    values = _contact_values(data, rt.settings.sms.default_region)
    async with rt.db.transaction() as tx:
        contact, case = await _contact(tx, int_param(request, "contact_id"))
        await _apply_contact(tx, staff, contact, values, case.ref, "contact.changed")
    return web.json_response(contact_json(contact))


@endpoint(
    "DELETE",
    "/api/v1/contacts/{contact_id}",
    summary="Delete a contact nobody has corresponded with (otherwise 409: the record keeps it)",
    roles=ADMINS,
    tag="cases",
    errors=(404, 409),
)
async def delete_contact(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.transaction() as tx:
        contact, case = await _contact(tx, int_param(request, "contact_id"))
        s = tx.session
        if (
            await s.execute(select(Message.id).where(Message.contact_id == contact.id).limit(1))
        ).first():
            raise ApiError(
                409, "has_messages", "The contact has correspondence on record; it is kept."
            )
        await s.execute(delete(ReplyToken).where(ReplyToken.contact_id == contact.id))
        await s.delete(contact)
        tx.audit(staff.email, "contact.deleted", f"contact:{contact.id}", case=case.ref)
    return web.json_response({"id": contact.id, "deleted": True})
