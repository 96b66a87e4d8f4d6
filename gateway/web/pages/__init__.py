"""The caseworker pages, server-rendered in the same process as the API (Jinja2, autoescape
everywhere). Every page works without JavaScript; ``static/pages.js`` only adds the queue's live
update and the SMS counter. The handlers parse the request, call the same use cases as the API
(``gateway.casework``, ``gateway.workqueue``, ``gateway.records``, ``gateway.sessions``) and
render.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from gateway.logs import mask_address
from gateway.web.pages import account, admin, attachments, audit, case, queue, signin, triage
from gateway.web.pages.common import add_security_headers

WEB_DIR = Path(__file__).resolve().parent.parent


def add_page_routes(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(WEB_DIR / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mask"] = mask_address
    app.on_response_prepare.append(add_security_headers)
    r = app.router
    r.add_static("/static", str(WEB_DIR / "static"), append_version=False)
    r.add_get("/", signin.root)
    r.add_get("/login", signin.login_form)
    r.add_post("/login", signin.login_submit)
    r.add_post("/logout", signin.logout)
    r.add_post("/language", signin.choose_language)
    r.add_get("/queue", queue.queue_mine)
    r.add_get("/queue/team", queue.queue_team)
    r.add_get("/duty", queue.duty_desk)
    r.add_get("/queue/rows", queue.queue_rows)
    r.add_post("/queue/items/{item_id}/{action}", queue.queue_action)
    r.add_get("/triage", triage.triage_page)
    r.add_post("/triage/{message_id}/{action}", triage.triage_action)
    r.add_post("/triage/blocked/{blocked_id}/unblock", triage.unblock)
    r.add_get("/cases/{ref}", case.case_page)
    r.add_post("/cases/{ref}/reply", case.reply)
    r.add_post("/cases/{ref}/sms-count", case.sms_count)
    r.add_post("/cases/{ref}/messages/{message_id}/reveal", case.reveal)
    r.add_post("/cases/{ref}/messages/{message_id}/risk-feedback", case.mark_risk)
    r.add_get("/cases/{ref}/attachments/{attachment_id}", attachments.attachment)
    r.add_get("/audit", audit.audit_page)
    r.add_get("/admin", admin.admin_page)
    r.add_get("/account", account.account_page)
    r.add_post("/account/token", account.create_own_token)
    r.add_post("/admin/users/{user_id}/{action}", admin.user_action)
    r.add_post("/admin/contacts/{contact_id}/consent", admin.contact_consent)
