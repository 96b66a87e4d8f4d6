"""Signing in and using the pages over plain HTTP (no browser), against the real servers."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from yarl import URL

from gateway.runtime import Runtime
from gateway.sessions import set_password
from tests.api.world import Person, World

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def with_password(rt: Runtime, person: Person, password: str = PASSWORD) -> Person:
    await set_password(rt.db, email=person.email, password=password, actor="test")
    return person


class Browserless:
    """A cookie-keeping HTTP client that behaves like a browser without JavaScript."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str, **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path, allow_redirects=False, **kw) as resp:
            text = await resp.text()
            if resp.status == 200 and 'name="csrf"' in text and path != "/login":
                self.csrf = csrf_of(text)
            return resp.status, text, resp

    async def post(
        self, path: str, data: dict[str, Any], *, csrf: bool = True, **kw: Any
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        form = dict(data)
        if csrf:
            form.setdefault("csrf", self.csrf)
        async with self.http.post(self.base + path, data=form, allow_redirects=False, **kw) as resp:
            return resp.status, await resp.text(), resp

    async def sign_in(
        self, email: str, password: str = PASSWORD
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        status, html, _ = await self.get("/login")
        assert status == 200, html
        result = await self.post(
            "/login", {"email": email, "password": password, "csrf": csrf_of(html)}, csrf=False
        )
        if result[0] == 303:
            await self.get("/queue")  # picks up the session's CSRF token, as a browser would
        return result

    def cookie(self, name: str) -> str | None:
        morsel = self.http.cookie_jar.filter_cookies(URL(self.base)).get(name)
        return morsel.value if morsel else None


async def signed_in(world: World, person: Person) -> Browserless:
    await with_password(world.rt, person)
    client = Browserless(world.port)
    status, body, _ = await client.sign_in(person.email)
    assert status == 303, body
    return client
