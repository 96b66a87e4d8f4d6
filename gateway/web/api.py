"""The JSON API under /api/v1: every endpoint module registers itself in the route table of
``api_common``; this module adds them to the application together with the OpenAPI document.

Endpoints by area: ``api_queue`` (queue), ``api_messages`` (thread, message, reply, reveal),
``api_triage`` (triage, blocked senders, absence), ``api_admin`` (users, tokens),
``api_cases`` (cases, contacts), ``api_audit`` (audit log, export), ``api_risk_feedback``
(caseworkers' verdicts on risk signals). Who may call what is in ``gateway.permissions``.
"""

from __future__ import annotations

from aiohttp import web

from gateway.web import (
    api_admin,
    api_audit,
    api_cases,
    api_messages,
    api_queue,
    api_risk_feedback,
    api_triage,
)
from gateway.web.api_common import ROUTES
from gateway.web.openapi import build_openapi

__all__ = [
    "add_routes",
    "api_admin",
    "api_audit",
    "api_cases",
    "api_messages",
    "api_queue",
    "api_risk_feedback",
    "api_triage",
]

OPENAPI_PATH = "/api/v1/openapi.json"


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(build_openapi(ROUTES))


def add_routes(app: web.Application) -> None:
    app.router.add_get(OPENAPI_PATH, openapi)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
