"""What every caseworker page shares: the session cookie, the role check (outside your scope is
404, as in the API), the CSRF check on every form, rendering in the reader's language with the
team's time zone, and the security headers.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import structlog
from aiohttp import web
from multidict import MultiDictProxy

from gateway.outbound import ReplyError
from gateway.permissions import ADMIN, AUDITOR, CASEWORKER, TEAM_LEAD
from gateway.sessions import SessionView, session_for
from gateway.storage.db import StoreUnavailable, as_utc
from gateway.web.keys import RUNTIME
from gateway.web.pages.texts import LANGUAGES, text
from gateway.workqueue import Refused

log = structlog.get_logger("gateway.pages")

SESSION_COOKIE = "cg_session"
# A path on this site: no scheme, no host, no backslash, tab or other control character.
_LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_.~%?=&+-]*")
LOGIN_CSRF_COOKIE = "cg_login_csrf"
ALL_ROLES = (CASEWORKER, TEAM_LEAD, ADMIN, AUDITOR)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer of the service carries the page security headers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def secure_cookies(request: web.Request) -> bool:
    return urlsplit(request.app[RUNTIME].settings.web.public_url).scheme == "https"


@dataclass
class Page:
    """The request as a page sees it: who is reading, in which language and time zone."""

    request: web.Request
    view: SessionView
    language: str
    zone: ZoneInfo

    @property
    def staff(self) -> Any:
        return self.view.staff

    def t(self, key: str, **values: object) -> str:
        return text(self.language, key, **values)

    def render(
        self, template: str, context: Mapping[str, Any], *, status: int = 200
    ) -> web.Response:
        return render(self.request, template, {**self.context(), **context}, status=status)

    def context(self) -> dict[str, Any]:
        return {**base_context(self.request, self.view, self.language), "local": self.local}

    def local(self, value: datetime | str | None) -> str:
        """A time in the team's time zone, as people there read it."""
        if value is None:
            return ""
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return value
        else:
            parsed = value
        utc = as_utc(parsed)
        assert utc is not None
        return utc.astimezone(self.zone).strftime("%d.%m.%Y %H:%M")


def base_context(
    request: web.Request, view: SessionView | None, lang: str | None = None
) -> dict[str, Any]:
    """What base.html needs, for any page (signed in or not)."""
    lang = lang or language_of(request, view)

    def t(key: str, **values: object) -> str:
        return text(lang, key, **values)

    return {
        "t": t,
        "lang": lang,
        "staff": view.staff if view else None,
        "csrf": view.csrf if view else "",
        "languages": LANGUAGES,
        "path": request.path,
    }


def language_of(request: web.Request, view: SessionView | None) -> str:
    if view is not None and view.language in LANGUAGES:
        return view.language
    return request.app[RUNTIME].settings.service.language


def render(
    request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, dict(context), status=status)
    # Pages show case content: never kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def plain_page(
    request: web.Request, view: SessionView | None, title_key: str, body_key: str, status: int
) -> web.Response:
    lang = language_of(request, view)
    return render(
        request,
        "message.html",
        {
            **base_context(request, view, lang),
            "title": text(lang, title_key),
            "body": text(lang, body_key),
        },
        status=status,
    )


async def current_session(request: web.Request, *, touch: bool = True) -> SessionView | None:
    rt = request.app[RUNTIME]
    return await session_for(
        rt.db, rt.settings.sessions, request.cookies.get(SESSION_COOKIE, ""), touch=touch
    )


def csrf_ok(expected: str, form: MultiDictProxy[Any] | Mapping[str, Any], header: str) -> bool:
    given = str(form.get("csrf", "") or header or "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


PageHandler = Callable[[Page], Awaitable[web.StreamResponse]]


def page(
    roles: Sequence[str] = ALL_ROLES, *, touch: bool = True
) -> Callable[[PageHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A page for signed-in staff of ``roles``: others are sent to /login (no session) or get
    404 (wrong role, as for anything outside one's scope). Every POST must carry the session's
    CSRF token (form field ``csrf`` or header ``X-CSRF-Token``), else 403. ``touch=False`` for
    what a page fetches by itself (it does not keep the session alive)."""

    def wrap(fn: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                view = await current_session(request, touch=touch)
                if view is None:
                    if request.method != "GET":
                        return plain_page(request, None, "csrf_title", "csrf_text", 403)
                    raise web.HTTPFound(
                        "/login"
                        + ("?next=" + quote(request.path_qs) if request.path != "/" else "")
                    )
                if view.staff.role not in roles:
                    return plain_page(request, view, "not_found_title", "not_found", 404)
                if request.method == "POST":
                    form = await request.post()
                    if not csrf_ok(view.csrf, form, request.headers.get("X-CSRF-Token", "")):
                        return plain_page(request, view, "csrf_title", "csrf_text", 403)
                rt = request.app[RUNTIME]
                zone = rt.settings.team(view.staff.team).hours.zone
                return await fn(Page(request, view, language_of(request, view), zone))
            except Refused as exc:
                if exc.status == 404:
                    return plain_page(request, None, "not_found_title", "not_found", 404)
                raise
            except StoreUnavailable:
                return plain_page(request, None, "unavailable_title", "unavailable", 503)
            except web.HTTPException:
                raise
            except Exception:
                # Every write is one transaction, so nothing half-done was kept.
                log.exception("page.unhandled", path=request.path)
                return plain_page(request, None, "unavailable_title", "failed_page", 503)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    return wrap


def refusal(exc: Refused | ReplyError) -> str:
    return exc.message


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def int_field(form: Mapping[str, Any], name: str) -> int | None:
    raw = str(form.get(name, "") or "").strip()
    if not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


def safe_next(raw: str) -> str:
    """Where to go after sign-in: a path on this site only (never another site)."""
    if _LOCAL_PATH.fullmatch(raw) and not raw.startswith("//"):
        return raw
    return "/queue"
