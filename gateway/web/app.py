"""The aiohttp application: webhooks, health, metrics, the JSON API and the caseworker pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors import twilio_sms, twilio_status
from gateway.metrics import HTTP_REQUESTS
from gateway.runtime import Runtime
from gateway.web import api
from gateway.web.keys import RUNTIME
from gateway.web.pages import add_page_routes

log = structlog.get_logger("gateway.web")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# The same error codes as the API's own errors (never a bare number like "404").
_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


@web.middleware
async def errors_and_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Clear JSON errors for every failure; an unexpected one is 503 and logged, never a crash."""
    structlog.contextvars.clear_contextvars()
    route = (
        request.match_info.route.resource.canonical
        if request.match_info.route.resource
        else "unmatched"
    )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            response = web.json_response(
                {
                    "error": {
                        "code": _HTTP_CODES.get(exc.status, "bad_request"),
                        "message": exc.reason,
                    }
                },
                status=exc.status,
            )
        else:
            raise
    except Exception:
        # Invariant 1: an internal failure is a temporary error, so Twilio (or a client) retries;
        # every write is one transaction, so nothing half-done was kept.
        log.exception("http.unhandled", route=route)
        response = web.json_response(
            {
                "error": {
                    "code": "internal",
                    "message": "internal error; nothing was changed, try again",
                }
            },
            status=503,
        )
    HTTP_REQUESTS.labels(route, str(response.status)).inc()
    return response


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ok, detail = await request.app[RUNTIME].db.ready()
    return web.json_response(
        {"status": "ok" if ok else "unavailable", "detail": detail}, status=200 if ok else 503
    )


async def metrics(_request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        middlewares=[errors_and_metrics], client_max_size=runtime.settings.web.max_body_bytes
    )
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/webhooks/twilio/sms", twilio_sms.inbound_sms)
    app.router.add_post("/webhooks/twilio/status", twilio_status.delivery_status)
    api.add_routes(app)
    add_page_routes(app)
    return app
