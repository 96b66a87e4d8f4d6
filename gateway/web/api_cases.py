"""Cases and contacts: metadata for everyone who may see the case, changes by admins only.
Nothing here returns message content."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import case_admin
from gateway.accounts import Staff
from gateway.core.addresses import normalise_email, normalise_phone
from gateway.permissions import ADMINS, CASE_METADATA
from gateway.storage.models import Case, Contact
from gateway.web.api_common import (
    ApiError,
    Field,
    Page,
    Param,
    decode_cursor,
    encode_cursor,
    endpoint,
    int_param,
    query_int,
)
from gateway.web.keys import RUNTIME

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
    status = request.query.get("status")
    if status and status not in ("open", "closed"):
        raise ApiError(400, "bad_request", "status must be open or closed.")
    after = None
    if request.query.get("cursor"):
        (after,) = decode_cursor(request.query["cursor"], 1)
    limit = query_int(request, "limit", 50, 1, 200)
    rows = await case_admin.list_cases(
        request.app[RUNTIME].db, staff, status=status or None, after=after, limit=limit
    )
    page = Page([case_json(c) for c in rows[:limit]])
    if len(rows) > limit:
        page.next_cursor = encode_cursor(rows[limit - 1].id)
    return page.response()


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
    case = await case_admin.create_case(
        request.app[RUNTIME].db,
        staff,
        ref=data["ref"],
        title=data["title"],
        team=data["team"],
        caseworker_id=data.get("caseworker_id"),
        status=data.get("status") or "open",
    )
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
    case, contacts = await case_admin.case_with_contacts(
        request.app[RUNTIME].db, staff, request.match_info["ref"]
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
    case = await case_admin.change_case(
        request.app[RUNTIME].db, staff, request.match_info["ref"], data
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
    case = await case_admin.delete_case(request.app[RUNTIME].db, staff, request.match_info["ref"])
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
    contact = await case_admin.add_contact(rt.db, staff, request.match_info["ref"], values)
    return web.json_response(contact_json(contact), status=201)


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
    contact = await case_admin.change_contact(
        rt.db, staff, int_param(request, "contact_id"), values
    )
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
    contact = await case_admin.delete_contact(
        request.app[RUNTIME].db, staff, int_param(request, "contact_id")
    )
    return web.json_response({"id": contact.id, "deleted": True})
