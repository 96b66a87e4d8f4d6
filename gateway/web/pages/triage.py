"""Triage (team leads): link an unknown sender's message to a case (optionally adding the sender
as an unverified contact), mark it spam, block or unblock the sender. Each action is audited by
the use case it calls."""

from __future__ import annotations

from aiohttp import web

from gateway import casework
from gateway.permissions import LEADS
from gateway.triage import NewContact
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, int_field, page
from gateway.web.pages.queue import VIEWS, render_queue
from gateway.workqueue import Refused


@page(LEADS)
async def triage_page(p: Page) -> web.StreamResponse:
    return await render_queue(p, VIEWS["triage"])


@page(LEADS)
async def triage_action(p: Page) -> web.StreamResponse:
    form = await p.request.post()
    action = p.request.match_info["action"]
    message_id = int_field(p.request.match_info, "message_id")
    if message_id is None:
        raise Refused(404, "not_found", "No such message.")
    reason = str(form.get("reason", "")).strip()[:500]
    db = p.request.app[RUNTIME].db
    try:
        if not reason:
            raise Refused(400, "bad_request", p.t("reason_missing"))
        if action == "link":
            new_contact = None
            if form.get("add_contact"):
                name = str(form.get("contact_name", "")).strip()[:200]
                if not name:
                    raise Refused(400, "bad_request", p.t("contact_name_missing"))
                new_contact = NewContact(name, "parent", p.language)
            await casework.link_from_triage(
                db,
                p.staff,
                message_id,
                str(form.get("case_ref", ""))[:64],
                reason=reason,
                new_contact=new_contact,
            )
        elif action == "spam":
            kind = "abuse" if form.get("kind") == "abuse" else "spam"
            await casework.mark_message_spam(db, p.staff, message_id, kind=kind, reason=reason)
        elif action == "block":
            await casework.block_message_sender(db, p.staff, message_id, reason=reason)
        else:
            raise Refused(404, "not_found", "No such action.")
    except Refused as exc:
        if exc.status == 404 and action != "link":
            raise
        return await render_queue(p, VIEWS["triage"], problem=exc.message, status=exc.status)
    raise web.HTTPSeeOther("/triage")


@page(LEADS)
async def unblock(p: Page) -> web.StreamResponse:
    form = await p.request.post()
    blocked_id = int_field(p.request.match_info, "blocked_id")
    reason = str(form.get("reason", "")).strip()[:500]
    if blocked_id is None:
        raise Refused(404, "not_found", "No such blocked sender.")
    if not reason:
        return await render_queue(p, VIEWS["triage"], problem=p.t("reason_missing"), status=400)
    await casework.unblock(p.request.app[RUNTIME].db, p.staff, blocked_id, reason=reason)
    raise web.HTTPSeeOther("/triage#blocked")
