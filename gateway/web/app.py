"""The aiohttp application: webhooks, health, metrics, the JSON API and the caseworker pages."""

from __future__ import annotations

import functools
import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from connectors import twilio_sms, twilio_status
from gateway.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS
from gateway.receipts import receipt_backlog
from gateway.runtime import Runtime
from gateway.storage.db import StoreUnavailable
from gateway.web import api
from gateway.web.keys import RUNTIME
from gateway.web.pages import add_page_routes

log = structlog.get_logger("gateway.web")
_access_log = structlog.get_logger("aiohttp.access")


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
    route = route_of(request)
    started = time.perf_counter()
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
    _requests_counter(route, response.status).inc()
    _duration_histogram(route, request.method).observe(time.perf_counter() - started)
    return response


# The labelled series of a route, looked up once rather than on every request (``labels``
# takes a lock and builds the key each time). Routes and statuses are few; bounded anyway.
@functools.lru_cache(maxsize=1024)
def _requests_counter(route: str, status: int) -> Counter:
    return HTTP_REQUESTS.labels(route, str(status))


@functools.lru_cache(maxsize=1024)
def _duration_histogram(route: str, method: str) -> Histogram:
    return HTTP_REQUEST_SECONDS.labels(route, method)


def route_of(request: web.Request) -> str:
    """The route pattern (``/cases/{ref}``), never the concrete path or its query string."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


class AccessLog(AbstractAccessLogger):
    """One structlog line per request: method, route pattern, status, duration; no query
    string, no concrete path, no client address (all of which can name a family)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = route_of(request) if isinstance(request, web.Request) else "unmatched"
        _access_log.info(
            "http.access",
            method=request.method,
            route=route,
            status=response.status,
            duration_ms=round(time * 1000, 1),
        )


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process answers. Never looks at the database or the workers."""
    return web.json_response({"status": "ok"})


def _when(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers at the newest schema and every worker has completed a
    pass within its window (a stuck or crash-looping worker takes the instance out).

    ``receipts`` tells how many messages (SMS and e-mail) were answered and are not filed yet,
    and whether the oldest waits longer than ``email.receipt_backlog_warn_seconds`` (it does not
    take the instance out: taking messages in is what keeps them safe with Twilio and the
    sender's MTA)."""
    runtime = request.app[RUNTIME]
    ok, detail = await runtime.db.ready()
    workers = {
        w.name: {
            "last_success": _when(w.last_success),
            "restarts": w.restarts,
            "last_error": w.last_error or None,
            "overdue": w.overdue(),
        }
        for w in runtime.workers.workers.values()
    }
    overdue = sorted(name for name, w in workers.items() if w["overdue"])
    if ok and overdue:
        ok = False
        detail = "no completed pass within its window: " + ", ".join(overdue)
    receipts: dict[str, object] | None = None
    if ok:
        try:
            backlog = await receipt_backlog(runtime.db)
        except StoreUnavailable:
            backlog = None
        if backlog is not None:
            limit = runtime.settings.email.receipt_backlog_warn_seconds
            receipts = {
                "waiting": backlog.waiting,
                "by_channel": backlog.by_channel,
                "oldest_seconds": round(backlog.oldest_seconds or 0.0, 1),
                "backlog_old": (backlog.oldest_seconds or 0.0) > limit,
            }
    return web.json_response(
        {
            "status": "ok" if ok else "unavailable",
            "detail": detail,
            "workers": workers,
            "receipts": receipts,
        },
        status=200 if ok else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text; backlog gauges are read from the database at most once per cache period."""
    await request.app[RUNTIME].backlog.refresh()
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def metrics_with_token(request: web.Request) -> web.StreamResponse:
    """/metrics on the public port: only with ``metrics.token`` set, and only to its bearer."""
    token = request.app[RUNTIME].settings.metrics.token
    if not token:
        raise web.HTTPNotFound(
            reason="metrics are served on the metrics listener (metrics.host, metrics.port)"
        )
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise web.HTTPUnauthorized(reason="metrics need Authorization: Bearer <metrics token>")
    return await metrics(request)


def make_metrics_app(runtime: Runtime) -> web.Application:
    """The metrics listener: /metrics, and the health checks for probes that live there too."""
    app = web.Application(middlewares=[errors_and_metrics])
    app[RUNTIME] = runtime
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def make_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        middlewares=[errors_and_metrics], client_max_size=runtime.settings.web.max_body_bytes
    )
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_with_token)
    app.router.add_post("/webhooks/twilio/sms", twilio_sms.inbound_sms)
    app.router.add_post("/webhooks/twilio/status", twilio_status.delivery_status)
    api.add_routes(app)
    add_page_routes(app)
    return app
