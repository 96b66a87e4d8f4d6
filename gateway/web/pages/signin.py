"""Sign in, sign out, and the reader's page language."""

from __future__ import annotations

import hmac

from aiohttp import web

from gateway.sessions import SignInRefused, set_language, sign_in, sign_out
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Page,
    base_context,
    current_session,
    language_of,
    new_login_csrf,
    page,
    plain_page,
    render,
    safe_next,
    secure_cookies,
)
from gateway.web.pages.texts import LANGUAGES, text


def _login_form(
    request: web.Request,
    *,
    errors: list[tuple[str, str]] | None = None,
    email: str = "",
    status: int = 200,
    notice: str = "",
) -> web.Response:
    lang = language_of(request, None)
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        {
            **base_context(request, None, lang),
            "login_csrf": token,
            "errors": errors or [],
            "field_errors": dict(errors or []),
            "email": email,
            "next": safe_next(request.query.get("next", "/queue")),
            "notice": notice,
        },
        status=status,
    )
    # Double-submit token: a page elsewhere cannot read this cookie to forge the form.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    if await current_session(request) is not None:
        raise web.HTTPFound("/queue")
    notice = ""
    if request.query.get("signed_out"):
        notice = text(language_of(request, None), "signed_out")
    return _login_form(request, notice=notice)


def _client_address(request: web.Request) -> str:
    settings = request.app[RUNTIME].settings
    if settings.web.trusted_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote or "unknown"


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    lang = language_of(request, None)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = str(form.get("csrf", ""))
    if not cookie or not hmac.compare_digest(cookie.encode(), given.encode()):
        return plain_page(request, None, "csrf_title", "csrf_text", 403)
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    errors = []
    if not email:
        errors.append(("email", text(lang, "login_missing_email")))
    if not password:
        errors.append(("password", text(lang, "login_missing_password")))
    if errors:
        return _login_form(request, errors=errors, email=email, status=400)
    rt = request.app[RUNTIME]
    try:
        signed = await sign_in(
            rt.db,
            rt.settings.sessions,
            email=email,
            password=password,
            address=_client_address(request),
        )
    except SignInRefused as exc:
        if exc.reason == "paused":
            message = text(lang, "login_paused", minutes=max(1, (exc.retry_after + 59) // 60))
            return _login_form(request, errors=[("email", message)], email=email, status=429)
        return _login_form(
            request, errors=[("email", text(lang, "login_wrong"))], email=email, status=401
        )
    response = web.HTTPSeeOther(safe_next(str(form.get("next", "/queue"))))
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise response


@page()
async def logout(p: Page) -> web.StreamResponse:
    await sign_out(p.request.app[RUNTIME].db, p.view)
    response = web.HTTPSeeOther("/login?signed_out=1")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@page()
async def choose_language(p: Page) -> web.StreamResponse:
    form = await p.request.post()
    language = str(form.get("language", ""))
    if language in LANGUAGES:
        await set_language(p.request.app[RUNTIME].db, p.staff, language)
    raise web.HTTPSeeOther(safe_next(str(form.get("back", "/queue"))))


async def root(request: web.Request) -> web.StreamResponse:
    if await current_session(request) is None:
        raise web.HTTPFound("/login")
    raise web.HTTPFound("/queue")
