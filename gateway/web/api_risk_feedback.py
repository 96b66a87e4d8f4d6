"""Caseworkers mark a message's risk signals right or wrong, for the next training round."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.accounts import Staff
from gateway.permissions import CONTENT
from gateway.risk_feedback import (
    RISK_TYPES,
    VERDICTS,
    FeedbackRejected,
    MessageNotVisible,
    mark_risk_feedback,
)
from gateway.web.api_common import ApiError, Field, endpoint, int_param, not_found
from gateway.web.keys import RUNTIME


@endpoint(
    "POST",
    "/api/v1/messages/{message_id}/risk-feedback",
    summary='Mark an inbound message "missed_risk" (name the risk_type the classifier should '
    'have raised) or "not_a_risk" (what it raised was a false alarm); audited as '
    "risk.feedback and exported for retraining with `case-gateway classify export-feedback`",
    roles=CONTENT,
    tag="messages",
    body={
        "verdict": Field("string", required=True, enum=VERDICTS),
        "risk_type": Field("string", enum=RISK_TYPES, description="the risk concerned"),
        "note": Field("string", max_length=2000),
    },
    ok=201,
    errors=(404, 422),
)
async def risk_feedback(request: web.Request, staff: Staff, data: dict[str, Any]) -> web.Response:
    risk_type = data.get("risk_type")
    try:
        mark = await mark_risk_feedback(
            request.app[RUNTIME].db,
            staff,
            int_param(request, "message_id"),
            data["verdict"],
            [risk_type] if risk_type else [],
            data.get("note"),
        )
    except MessageNotVisible as exc:
        raise not_found(str(exc)) from None
    except FeedbackRejected as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    return web.json_response(mark.as_json(), status=201)
