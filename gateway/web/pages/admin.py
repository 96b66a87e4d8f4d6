"""The admin page: staff (role, team, absence, password reset, deactivation, API tokens) and
cases with their contacts' consent. Admins never see message content here either; every action
goes through the same use cases as the API (``gateway.staff_admin``, ``gateway.sessions``), so
the same rules apply."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import staff_admin
from gateway.permissions import ADMINS, ROLES
from gateway.sessions import PasswordRefused, set_password
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, int_field, page
from gateway.workqueue import Refused


async def render_admin(
    p: Page, *, problem: str = "", notice: str = "", token: str = "", status: int = 200
) -> web.Response:
    db = p.request.app[RUNTIME].db
    users = await staff_admin.list_users(db)
    records = await staff_admin.case_records(db, p.staff)
    names = {u.id: u.name for u in users}
    return p.render(
        "admin.html",
        {
            "users": users,
            "records": records,
            "names": names,
            "roles": ROLES,
            "problem": problem,
            "notice": notice,
            "new_token": token,
        },
        status=status,
    )


@page(ADMINS)
async def admin_page(p: Page) -> web.StreamResponse:
    return await render_admin(p)


@page(ADMINS)
async def user_action(p: Page) -> web.StreamResponse:
    form = await p.request.post()
    db = p.request.app[RUNTIME].db
    user_id = int_field(p.request.match_info, "user_id")
    action = p.request.match_info["action"]
    if user_id is None:
        raise Refused(404, "not_found", "No such user.")
    token = ""
    try:
        if action == "role":
            role = str(form.get("role", ""))
            if role not in ROLES:
                raise Refused(400, "bad_request", f"role must be one of {', '.join(ROLES)}")
            changes: dict[str, Any] = {"role": role}
            team = str(form.get("team", "")).strip()[:100]
            if team:
                changes["team"] = team
            await staff_admin.change_user(db, p.staff, user_id, changes)
        elif action in ("absent", "present"):
            await staff_admin.set_absence(
                db, p.staff, user_id, absent=action == "absent", reason="set on the admin page"
            )
        elif action == "deactivate":
            await staff_admin.deactivate_user(db, p.staff, user_id)
        elif action == "password":
            async with db.transaction() as tx:
                user = await staff_admin.get_user(tx, user_id)
            try:
                await set_password(
                    db,
                    email=user.email,
                    password=str(form.get("password", "")),
                    actor=p.staff.email,
                )
            except PasswordRefused as exc:
                raise Refused(400, "bad_password", str(exc)) from exc
        elif action == "token":
            token, _expires = await staff_admin.mint_token(db, p.staff, user_id, label="admin page")
        else:
            raise Refused(404, "not_found", "No such action.")
    except Refused as exc:
        if exc.status == 404:
            raise
        return await render_admin(p, problem=exc.message, status=exc.status)
    if token:
        # Shown once, in this answer only (never in a URL or a later page).
        return await render_admin(p, notice=p.t("saved"), token=token)
    raise web.HTTPSeeOther(f"/admin#user-{user_id}")


@page(ADMINS)
async def contact_consent(p: Page) -> web.StreamResponse:
    form = await p.request.post()
    contact_id = int_field(p.request.match_info, "contact_id")
    if contact_id is None:
        raise Refused(404, "not_found", "No such contact.")
    await staff_admin.set_consent(
        p.request.app[RUNTIME].db,
        p.staff,
        contact_id,
        sms=bool(form.get("consent_sms")),
        email=bool(form.get("consent_email")),
    )
    raise web.HTTPSeeOther(f"/admin#contact-{contact_id}")
