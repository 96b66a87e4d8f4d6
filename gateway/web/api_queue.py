"""Queue endpoints: list my items, claim, done, journalled, reassign."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import casework
from gateway.accounts import Staff
from gateway.casework import QUEUE_KINDS, QUEUE_STATES, QueueFilter, case_ref_of
from gateway.permissions import CONTENT
from gateway.storage.models import Message, QueueItem
from gateway.web.api_common import (
    ApiError,
    Field,
    Page,
    Param,
    decode_cursor,
    encode_cursor,
    endpoint,
    int_param,
    query_bool,
    query_int,
)
from gateway.web.api_messages import message_json
from gateway.web.keys import RUNTIME
from gateway.workqueue import claim, mark_done, mark_journalled, reassign

STATES = QUEUE_STATES
QUEUES = QUEUE_KINDS


def item_json(q: QueueItem, m: Message | None, ref: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": q.id,
        "queue": q.owner_kind,
        "owner_user_id": q.owner_user_id,
        "team": q.owner_team,
        "state": q.state,
        "urgent": q.urgent,
        "reason": q.reason,
        "claimed_by": q.claimed_by,
        "journal_ref": q.journal_ref,
        "case": ref,
        "message_id": q.message_id,
    }
    if m is not None:
        out["message"] = message_json(m, ref)
    return out


@endpoint(
    "GET",
    "/api/v1/queue",
    summary="My queue: own items (team leads also the team queue, duty desk and triage)",
    roles=CONTENT,
    tag="queue",
    query=(
        Param(
            "state",
            description="comma-separated: new, claimed, done, journalled (default new,claimed)",
        ),
        Param("urgent", "boolean"),
        Param("channel", enum=("sms", "email")),
        Param("queue", enum=QUEUES),
        Param("cursor", description="next_cursor of the previous page"),
        Param("limit", "integer", description="1-200, default 50"),
    ),
)
async def list_queue(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    q = request.query
    states = [s.strip() for s in q.get("state", "new,claimed").split(",") if s.strip()]
    bad = [s for s in states if s not in STATES]
    if bad or not states:
        raise ApiError(400, "bad_request", f"state must be among {', '.join(STATES)}.")
    channel = q.get("channel")
    if channel:
        if channel not in ("sms", "email"):
            raise ApiError(400, "bad_request", "channel must be sms or email.")
    queue = q.get("queue")
    if queue:
        if queue not in QUEUES:
            raise ApiError(400, "bad_request", f"queue must be one of {', '.join(QUEUES)}.")
    limit = query_int(request, "limit", 50, 1, 200)
    after = None
    if q.get("cursor"):
        # Urgent first, then oldest first: the cursor is the (urgent, id) of the last item.
        was_urgent, last_id = decode_cursor(q["cursor"], 2)
        after = (was_urgent, last_id)
    rows = await casework.list_queue(
        request.app[RUNTIME].db,
        staff,
        QueueFilter(
            states=tuple(states),
            urgent=query_bool(request, "urgent"),
            channel=channel or None,
            queue=queue or None,
            after=after,
            limit=limit,
        ),
    )
    page = Page([item_json(r.item, r.message, r.case_ref) for r in rows[:limit]])
    if len(rows) > limit:
        last = rows[limit - 1].item
        page.next_cursor = encode_cursor(int(last.urgent), last.id)
    return page.response()


async def _item_answer(request: web.Request, item: QueueItem) -> web.Response:
    return web.json_response(
        item_json(item, None, await case_ref_of(request.app[RUNTIME].db, item))
    )


@endpoint(
    "POST",
    "/api/v1/queue/{item_id}/claim",
    summary="Claim an item; of concurrent claims exactly one wins, the others get 409",
    roles=CONTENT,
    tag="queue",
    errors=(404, 409),
)
async def claim_item(request: web.Request, staff: Staff, _data: dict[str, Any]) -> web.Response:
    item_id = int_param(request, "item_id")
    async with request.app[RUNTIME].db.transaction() as tx:
        item = await claim(tx, staff, item_id)
    return await _item_answer(request, item)


@endpoint(
    "POST",
    "/api/v1/queue/{item_id}/done",
    summary="Mark an item done",
    roles=CONTENT,
    tag="queue",
    body={"note": Field("string", max_length=500)},
    errors=(404, 409),
)
async def done_item(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    item_id = int_param(request, "item_id")
    async with request.app[RUNTIME].db.transaction() as tx:
        item = await mark_done(tx, staff, item_id, note=data.get("note") or "")
    return await _item_answer(request, item)


@endpoint(
    "POST",
    "/api/v1/queue/{item_id}/journalled",
    summary="Mark an item journalled, with the reference in the journal system",
    roles=CONTENT,
    tag="queue",
    body={"journal_ref": Field("string", required=True, min_length=1, max_length=100)},
    errors=(404, 409),
)
async def journal_item(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    item_id = int_param(request, "item_id")
    async with request.app[RUNTIME].db.transaction() as tx:
        item = await mark_journalled(tx, staff, item_id, data["journal_ref"].strip())
    return await _item_answer(request, item)


@endpoint(
    "POST",
    "/api/v1/queue/{item_id}/reassign",
    summary="Give an open item to a colleague (user_id) or to the case's team queue (team)",
    roles=CONTENT,
    tag="queue",
    body={
        "user_id": Field("integer"),
        "team": Field("string", min_length=1, max_length=100),
        "reason": Field("string", required=True, min_length=1, max_length=500),
    },
    errors=(404, 409, 422),
)
async def reassign_item(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    item_id = int_param(request, "item_id")
    if (data.get("user_id") is None) == (data.get("team") is None):
        raise ApiError(400, "bad_request", "Give exactly one of user_id or team.")
    async with request.app[RUNTIME].db.transaction() as tx:
        item = await reassign(
            tx,
            staff,
            item_id,
            user_id=data.get("user_id"),
            team=data.get("team"),
            reason=data["reason"].strip(),
        )
    return await _item_answer(request, item)
