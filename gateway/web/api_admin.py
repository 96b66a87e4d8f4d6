"""Administration of staff: users and their API tokens (admins only)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.accounts import (
    AccountError,
    AccountForbidden,
    Staff,
    add_user,
    check_user_change,
    create_token,
    revoke_tokens,
)
from gateway.notifications import set_digest_minutes
from gateway.permissions import ADMINS, ASSIGNABLE, ROLES
from gateway.storage.db import Tx
from gateway.storage.models import ApiToken, Case, User
from gateway.web.api_common import (
    ApiError,
    Field,
    endpoint,
    int_param,
    not_found,
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
    async with request.app[RUNTIME].db.read() as s:
        users = (await s.execute(select(User).order_by(User.id))).scalars().all()
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


async def _user(tx: Tx, user_id: int) -> User:
    user = await tx.session.get(User, user_id)
    if user is None:
        raise not_found(f"user {user_id}")
    return user


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
        user = await _user(tx, int_param(request, "user_id"))
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
    async with request.app[RUNTIME].db.transaction() as tx:
        user = await _user(tx, int_param(request, "user_id"))
        changes = {k: v for k, v in data.items() if v is not None}
        try:
            check_user_change(staff, user, changes)
        except AccountForbidden as exc:
            raise ApiError(403, "forbidden", str(exc)) from exc
        moves_away = ("role" in changes and changes["role"] not in ASSIGNABLE) or (
            "team" in changes and changes["team"] != user.team
        )
        if moves_away or changes.get("active") is False:
            assigned = (
                await tx.session.execute(
                    select(func.count(Case.id)).where(
                        Case.caseworker_id == user.id, Case.status == "open"
                    )
                )
            ).scalar_one()
            if assigned:
                raise ApiError(
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
        tx.audit(staff.email, "user.changed", f"user:{user.id}", **changes)
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
    async with request.app[RUNTIME].db.transaction() as tx:
        user = await _user(tx, int_param(request, "user_id"))
        if user.id == staff.id:
            raise ApiError(409, "self", "You cannot deactivate your own account.")
        assigned = (
            await tx.session.execute(
                select(func.count(Case.id)).where(
                    Case.caseworker_id == user.id, Case.status == "open"
                )
            )
        ).scalar_one()
        if assigned:
            raise ApiError(
                409, "has_cases", f"{user.name} has {assigned} open case(s); reassign them first."
            )
        user.active = False
        revoked = await revoke_tokens(tx, actor=staff.email, user_email=user.email)
        tx.audit(staff.email, "user.deactivated", f"user:{user.id}", tokens_revoked=revoked)
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
    async with request.app[RUNTIME].db.transaction() as tx:
        user = await _user(tx, int_param(request, "user_id"))
        tokens = (
            (await tx.session.execute(select(ApiToken).where(ApiToken.user_id == user.id)))
            .scalars()
            .all()
        )
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
    async with request.app[RUNTIME].db.transaction() as tx:
        user = await _user(tx, int_param(request, "user_id"))
        try:
            token, expires = await create_token(
                tx,
                user_email=user.email,
                actor=staff,
                days=data.get("days") or 90,
                label=data.get("label") or "",
            )
        except AccountForbidden as exc:
            raise ApiError(403, "forbidden", str(exc)) from exc
        except AccountError as exc:
            raise ApiError(422, "bad_token", str(exc)) from exc
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
    async with request.app[RUNTIME].db.transaction() as tx:
        if await tx.session.get(ApiToken, token_id) is None:
            raise not_found(f"token {token_id}")
        revoked = await revoke_tokens(tx, actor=staff.email, token_id=token_id)
    return web.json_response({"id": token_id, "revoked": True, "was_live": bool(revoked)})
