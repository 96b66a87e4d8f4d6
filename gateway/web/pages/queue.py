"""The queues: mine, the team's, the duty desk and triage (the last three for team leads), with
claim / done / journalled / give to the team queue, and a small fragment the page polls so new
items appear without a reload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway import casework, staff_admin
from gateway.casework import QueueFilter, QueueRow
from gateway.logs import mask_address
from gateway.permissions import CONTENT, LEADS
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, int_field, page, safe_next
from gateway.workqueue import Refused, claim, mark_done, mark_journalled, reassign

PREVIEW_CHARS = 160


@dataclass(frozen=True)
class QueueView:
    name: str
    path: str
    title_key: str
    roles: tuple[str, ...]
    queue: str | None
    mine_only: bool = False


VIEWS = {
    "mine": QueueView("mine", "/queue", "nav_queue", CONTENT, None, mine_only=True),
    "team": QueueView("team", "/queue/team", "nav_team", LEADS, "team"),
    "duty": QueueView("duty", "/duty", "nav_duty", LEADS, "duty"),
    "triage": QueueView("triage", "/triage", "nav_triage", LEADS, "triage"),
}


def row_context(row: QueueRow) -> dict[str, Any]:
    m, item = row.message, row.item
    text = m.redacted_text or m.subject or ""
    return {
        "item": item,
        "message": m,
        "case_ref": row.case_ref,
        "sender": mask_address(m.sender),
        "preview": text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS else ""),
        "why": item.reason or m.triage_reason or "",
        "risks": [r.get("type") for r in (m.classification or {}).get("risks", [])],
    }


async def rows_for(p: Page, view: QueueView) -> list[dict[str, Any]]:
    rows = await casework.list_queue(
        p.request.app[RUNTIME].db,
        p.staff,
        QueueFilter(queue=view.queue, mine_only=view.mine_only, limit=200),
    )
    return [row_context(r) for r in rows[:200]]


async def render_queue(
    p: Page, view: QueueView, *, problem: str = "", status: int = 200
) -> web.Response:
    rows = await rows_for(p, view)
    extra: dict[str, Any] = {
        "colleagues": await staff_admin.colleagues(p.request.app[RUNTIME].db, p.staff)
    }
    if view.name == "triage":
        extra["blocked"] = await casework.blocked_senders(p.request.app[RUNTIME].db)
    return p.render(
        "queue.html",
        {"view": view, "rows": rows, "problem": problem, **extra},
        status=status,
    )


def _queue_page(view: QueueView) -> Any:
    @page(view.roles)
    async def show(p: Page) -> web.StreamResponse:
        return await render_queue(p, view)

    return show


queue_mine = _queue_page(VIEWS["mine"])
queue_team = _queue_page(VIEWS["team"])
duty_desk = _queue_page(VIEWS["duty"])


@page(CONTENT, touch=False)
async def queue_rows(p: Page) -> web.StreamResponse:
    """The rows of one queue, for the page's live update (same scope as the page)."""
    view = VIEWS.get(p.request.query.get("view", "mine"))
    if view is None or p.staff.role not in view.roles:
        raise Refused(404, "not_found", "No such queue.")
    rows = await rows_for(p, view)
    colleagues = await staff_admin.colleagues(p.request.app[RUNTIME].db, p.staff)
    response = p.render("_queue_rows.html", {"view": view, "rows": rows, "colleagues": colleagues})
    response.headers["X-Queue-Count"] = str(len(rows))
    return response


@page(CONTENT)
async def queue_action(p: Page) -> web.StreamResponse:
    """Claim, done, journalled, or give an item to the team queue; then back to the queue."""
    form = await p.request.post()
    back = safe_next(str(form.get("back", "/queue")))
    view = next((v for v in VIEWS.values() if v.path == back), VIEWS["mine"])
    action = p.request.match_info["action"]
    item_id = int_field(p.request.match_info, "item_id")
    if item_id is None:
        raise Refused(404, "not_found", "No such queue item.")
    try:
        async with p.request.app[RUNTIME].db.transaction() as tx:
            if action == "claim":
                await claim(tx, p.staff, item_id)
            elif action == "done":
                await mark_done(tx, p.staff, item_id, note=str(form.get("note", ""))[:500])
            elif action == "journalled":
                ref = str(form.get("journal_ref", "")).strip()[:100]
                if not ref:
                    raise Refused(400, "bad_request", p.t("journal_missing"))
                await mark_journalled(tx, p.staff, item_id, ref)
            elif action == "reassign":
                reason = str(form.get("reason", "")).strip()[:500]
                if not reason:
                    raise Refused(400, "bad_request", p.t("reason_missing"))
                # "to" is a colleague's id, or empty for the team queue.
                to = int_field(form, "to")
                await reassign(
                    tx,
                    p.staff,
                    item_id,
                    user_id=to,
                    team=None if to is not None else p.staff.team,
                    reason=reason,
                )
            else:
                raise Refused(404, "not_found", "No such action.")
    except Refused as exc:
        if exc.status == 404:
            raise
        return await render_queue(p, view, problem=exc.message, status=exc.status)
    raise web.HTTPSeeOther(back + f"#item-{item_id}")
