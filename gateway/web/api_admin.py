"""Administration of staff: users and their API tokens (admins only)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import staff_admin
from gateway.accounts import AccountError, Staff, add_user
from gateway.permissions import ADMINS, ROLES
from gateway.storage.models import ApiToken, User
from gateway.web.api_common import (
    ApiError,
    Field,
    endpoint,
    int_param,
)
from gateway.web.keys import RUNTIME


def user_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "team": u.team,
        "absent": u.absent,
        "active": u.active,
        "notify_digest_minutes": u.notify_digest_minutes,
        "created_at": u.created_at.isoformat(),
    }


# --- users and tokens ----------------------------------------------------------------------


@endpoint("GET", "/api/v1/users", summary="All staff accounts", roles=ADMINS, tag="admin")
async def list_users(request: web.Request, _staff: Staff, _data: dict[str, Any]) -> web.Response:
    users = await staff_admin.list_users(request.app[RUNTIME].db)
    return web.json_response({"items": [user_json(u) for u in users]})


USER_FIELDS = {
    "email": Field("string", required=True, min_length=3, max_length=320, one_line=True),
    "name": Field("string", required=True, min_length=1, max_length=200, one_line=True),
    "role": Field("string", required=True, enum=ROLES),
    "team": Field("string", required=True, min_length=1, max_length=100, one_line=True),
}


@endpoint(
    "POST",
    "/api/v1/users",
    summary="Add a member of staff",
    roles=ADMINS,
    tag="admin",
    body=USER_FIELDS,
    ok=201,
    errors=(409, 422),
)
async def create_user(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.transaction() as tx:
        try:
            user = await add_user(
                tx,
                email=data["email"],
                name=data["name"].strip(),
                role=data["role"],
                team=data["team"].strip(),
                actor=staff.email,
            )
        except AccountError as exc:
            status = 409 if "already exists" in str(exc) else 422
            raise ApiError(status, "bad_user", str(exc)) from exc
    return web.json_response(user_json(user), status=201)


@endpoint(
    "GET",
    "/api/v1/users/{user_id}",
    summary="One staff account",
    roles=ADMINS,
    tag="admin",
    errors=(404,),
)
async def get_user(request: web.Request, _staff: Staff, _data: dict[str, Any]) -> web.Response:
    async with request.app[RUNTIME].db.transaction() as tx:
        user = await staff_admin.get_user(tx, int_param(request, "user_id"))
    return web.json_response(user_json(user))


@endpoint(
    "PATCH",
    "/api/v1/users/{user_id}",
    summary="Change a staff account (name, role, team, active, notify_digest_minutes: one "
    "notification per that many minutes, 0 for one per message, null for the service default)",
    roles=ADMINS,
    tag="admin",
    body={
        "name": Field("string", min_length=1, max_length=200, one_line=True),
        "role": Field("string", enum=ROLES),
        "team": Field("string", min_length=1, max_length=100, one_line=True),
        "active": Field("boolean"),
        "notify_digest_minutes": Field("integer", minimum=0, maximum=24 * 60, nullable=True),
    },
    errors=(403, 404, 409),
)
async def patch_user(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    user = await staff_admin.change_user(
        request.app[RUNTIME].db, staff, int_param(request, "user_id"), data
    )
    return web.json_response(user_json(user))


@endpoint(
    "DELETE",
    "/api/v1/users/{user_id}",
    summary="Deactivate a staff account and revoke its tokens (accounts are kept for the audit "
    "trail)",
    roles=ADMINS,
    tag="admin",
    errors=(404, 409),
)
async def delete_user(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    user = await staff_admin.deactivate_user(
        request.app[RUNTIME].db, staff, int_param(request, "user_id")
    )
    return web.json_response(user_json(user))


def token_json(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "label": t.label,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
    }


@endpoint(
    "GET",
    "/api/v1/users/{user_id}/tokens",
    summary="A user's API tokens (never the tokens themselves)",
    roles=ADMINS,
    tag="admin",
    errors=(404,),
)
async def list_tokens(request: web.Request, _staff: Staff, _data: dict[str, Any]) -> web.Response:
    tokens = await staff_admin.user_tokens(request.app[RUNTIME].db, int_param(request, "user_id"))
    return web.json_response({"items": [token_json(t) for t in tokens]})


@endpoint(
    "POST",
    "/api/v1/users/{user_id}/tokens",
    summary="Create an API token (shown once in the answer, stored hashed); days until expiry",
    roles=ADMINS,
    tag="admin",
    body={
        "days": Field("integer", minimum=1, maximum=366),
        "label": Field("string", max_length=100),
    },
    ok=201,
    errors=(403, 404, 422),
)
async def new_token(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    token, expires = await staff_admin.mint_token(
        request.app[RUNTIME].db,
        staff,
        int_param(request, "user_id"),
        days=data.get("days") or 90,
        label=data.get("label") or "",
    )
    return web.json_response({"token": token, "expires_at": expires.isoformat()}, status=201)


@endpoint(
    "DELETE",
    "/api/v1/tokens/{token_id}",
    summary="Revoke an API token",
    roles=ADMINS,
    tag="admin",
    errors=(404,),
)
async def delete_token(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    token_id = int_param(request, "token_id")
    revoked = await staff_admin.revoke_token(request.app[RUNTIME].db, staff, token_id)
    return web.json_response({"id": token_id, "revoked": True, "was_live": bool(revoked)})
