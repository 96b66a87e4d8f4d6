"""Sign-in, sessions, CSRF and the security headers, over plain HTTP against the real server."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie

from sqlalchemy import select, update

from gateway.storage.db import utcnow
from gateway.storage.models import AuditEvent, WebSession
from tests.api.world import TEAM_A, World
from tests.pages.support import PASSWORD, Browserless, csrf_of, signed_in, with_password


async def _actions(world: World) -> list[str]:
    async with world.rt.db.read() as s:
        return list((await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))).scalars())


async def test_login_form_has_the_fields_and_every_page_has_the_security_headers(
    world: World,
) -> None:
    client = Browserless(world.port)
    try:
        status, html, resp = await client.get("/login")
        assert status == 200
        assert 'name="email"' in html and 'name="password"' in html
        assert '<label for="email">' in html and "placeholder" not in html
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        status, _, resp = await client.get("/")
        assert status == 302 and resp.headers["Location"] == "/login"
        status, _, resp = await client.get("/queue")
        assert status == 302 and resp.headers["Location"].startswith("/login?next=")
    finally:
        await client.close()


async def test_sign_in_sets_a_strict_cookie_and_goes_to_the_queue(world: World) -> None:
    worker = await with_password(world.rt, world.person("caseworker"))
    client = Browserless(world.port)
    try:
        status, _, resp = await client.sign_in(worker.email)
        assert status == 303 and resp.headers["Location"] == "/queue"
        cookie = SimpleCookie(resp.headers["Set-Cookie"])["cg_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
        assert not cookie["secure"]  # public_url is http here
        status, _, resp = await client.get("/queue")
        assert status == 200 and resp.headers["Cache-Control"] == "no-store"
        assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        status, _, resp = await client.get("/")
        assert status == 302 and resp.headers["Location"] == "/queue"
        assert "user.signed_in" in await _actions(world)
    finally:
        await client.close()


async def test_cookie_is_secure_when_the_public_url_is_https(world: World) -> None:
    import dataclasses

    from gateway.settings import Settings

    settings: Settings = world.rt.settings
    world.rt.settings = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, public_url="https://gateway.example.no")
    )
    worker = await with_password(world.rt, world.person("caseworker"))
    client = Browserless(world.port)
    try:
        # A plain-HTTP client keeps Secure cookies to itself, so hand the login cookie back.
        status, html, resp = await client.get("/login")
        login_cookie = SimpleCookie(resp.headers["Set-Cookie"])["cg_login_csrf"]
        assert login_cookie["secure"]
        status, _, resp = await client.post(
            "/login",
            {"email": worker.email, "password": PASSWORD, "csrf": csrf_of(html)},
            csrf=False,
            headers={"Cookie": f"cg_login_csrf={login_cookie.value}"},
        )
        assert status == 303
        assert SimpleCookie(resp.headers["Set-Cookie"])["cg_session"]["secure"]
    finally:
        world.rt.settings = settings
        await client.close()


async def test_wrong_password_and_unknown_account_get_the_same_message(world: World) -> None:
    worker = await with_password(world.rt, world.person("caseworker"))
    client = Browserless(world.port)
    try:
        s1, wrong, _ = await client.sign_in(worker.email, "not the password at all")
        s2, unknown, _ = await client.sign_in("nobody@barnevern.example.no", PASSWORD)
        assert s1 == s2 == 401
        assert "E-postadressen eller passordet er feil." in wrong
        assert "E-postadressen eller passordet er feil." in unknown
        assert 'href="#email"' in wrong  # the error summary links to the field
        assert client.cookie("cg_session") is None
    finally:
        await client.close()


async def test_repeated_failures_pause_sign_in_for_the_account_and_are_audited(
    world: World,
) -> None:
    worker = await with_password(world.rt, world.person("caseworker"))
    client = Browserless(world.port)
    try:
        for _ in range(world.rt.settings.sessions.max_failures):
            status, _, _ = await client.sign_in(worker.email, "wrong password, again")
            assert status == 401
        status, html, _ = await client.sign_in(worker.email)  # the right password, too late
        assert status == 429
        assert "Vent" in html
        assert "sign_in.paused" in await _actions(world)
        # Another account from the same address is paused too (per-address slow-down).
        other = await with_password(world.rt, world.person("team_lead"))
        status, _, _ = await client.sign_in(other.email)
        assert status == 429
    finally:
        await client.close()


async def test_forms_without_the_csrf_token_are_refused(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    _, item = await world.inbound(case, owner_user=worker)
    client = await signed_in(world, worker)
    try:
        status, _, _ = await client.post(f"/queue/items/{item}/claim", {}, csrf=False)
        assert status == 403
        status, _, _ = await client.post(
            f"/queue/items/{item}/claim", {"csrf": "forged"}, csrf=False
        )
        assert status == 403
        status, _, _ = await client.post(f"/queue/items/{item}/claim", {"back": "/queue"})
        assert status == 303
        # The sign-in form is protected too (double-submit cookie).
        fresh = Browserless(world.port)
        try:
            status, _, _ = await fresh.post(
                "/login", {"email": worker.email, "password": PASSWORD}, csrf=False
            )
            assert status == 403
        finally:
            await fresh.close()
    finally:
        await client.close()


async def test_sign_out_idle_timeout_lifetime_and_deactivation_end_sessions(
    world: World,
) -> None:
    worker = world.person("caseworker")
    client = await signed_in(world, worker)
    try:
        status, _, _ = await client.post("/logout", {})
        assert status == 303
        status, _, _ = await client.get("/queue")
        assert status == 302
        assert "user.signed_out" in await _actions(world)

        status, _, _ = await client.sign_in(worker.email)
        assert status == 303
        async with world.rt.db.transaction() as tx:
            idle = timedelta(minutes=world.rt.settings.sessions.idle_minutes + 1)
            await tx.session.execute(
                update(WebSession)
                .where(WebSession.ended_at.is_(None))
                .values(last_seen_at=utcnow() - idle)
            )
        status, _, _ = await client.get("/queue")
        assert status == 302

        status, _, _ = await client.sign_in(worker.email)
        assert status == 303
        async with world.rt.db.transaction() as tx:
            old = timedelta(hours=world.rt.settings.sessions.lifetime_hours, minutes=1)
            await tx.session.execute(
                update(WebSession)
                .where(WebSession.ended_at.is_(None))
                .values(created_at=utcnow() - old)
            )
        status, _, _ = await client.get("/queue")
        assert status == 302

        status, _, _ = await client.sign_in(worker.email)
        assert status == 303
        admin = world.person("admin")
        code, _ = await world.call("DELETE", f"/api/v1/users/{worker.id}", admin)
        assert code == 200
        status, _, _ = await client.get("/queue")
        assert status == 302
        async with world.rt.db.read() as s:
            reasons = set((await s.execute(select(WebSession.end_reason))).scalars())
        assert {"sign_out", "idle", "lifetime", "deactivated"} <= reasons
    finally:
        await client.close()


async def test_api_tokens_keep_working_and_a_session_cookie_is_no_api_token(world: World) -> None:
    worker = world.person("caseworker")
    client = await signed_in(world, worker)
    try:
        code, _ = await world.call("GET", "/api/v1/queue", worker)
        assert code == 200
        async with client.http.get(client.base + "/api/v1/queue") as resp:
            assert resp.status == 401
    finally:
        await client.close()


async def test_the_queues_own_polling_does_not_keep_an_idle_session_alive(world: World) -> None:
    worker = world.person("caseworker")
    client = await signed_in(world, worker)
    try:
        before = utcnow() - timedelta(minutes=5)
        async with world.rt.db.transaction() as tx:
            await tx.session.execute(
                update(WebSession).where(WebSession.ended_at.is_(None)).values(last_seen_at=before)
            )
        status, _, resp = await client.get("/queue/rows?view=mine")
        assert status == 200 and resp.headers["X-Queue-Count"] == "0"
        async with world.rt.db.read() as s:
            seen = (await s.execute(select(WebSession.last_seen_at))).scalar_one()
        assert abs((seen.replace(tzinfo=None) - before.replace(tzinfo=None)).total_seconds()) < 1
        assert (await client.get("/queue"))[0] == 200  # a person's own request does
        async with world.rt.db.read() as s:
            seen = (await s.execute(select(WebSession.last_seen_at))).scalar_one()
        assert (seen.replace(tzinfo=None) - before.replace(tzinfo=None)).total_seconds() > 60
        # A team lead's view is not a caseworker's: another queue's rows are 404.
        assert (await client.get("/queue/rows?view=team"))[0] == 404
    finally:
        await client.close()


def test_after_sign_in_only_a_path_on_this_site_is_followed() -> None:
    from gateway.web.pages.common import safe_next

    assert safe_next("/cases/2026-0101?item=3") == "/cases/2026-0101?item=3"
    for hostile in ("//evil.example", "/\t/evil.example", "https://evil.example", "/\\evil", ""):
        assert safe_next(hostile) == "/queue", hostile
