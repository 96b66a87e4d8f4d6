"""Twilio credentials go to Twilio's API host only, never to another allowed media host."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from connectors.twilio_media import fetch_media, is_twilio_api
from gateway.settings import Settings
from tests.conftest import make_settings


class MediaHost:
    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        self.port = 0

    async def media(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        return web.Response(body=b"\xff\xd8\xff\xe0 picture", content_type="image/jpeg")


@pytest.fixture
async def media_host() -> AsyncIterator[MediaHost]:
    host = MediaHost()
    app = web.Application()
    app.router.add_get("/media/{id}", host.media)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield host
    await runner.cleanup()


def settings_with(api_base_url: str) -> Settings:
    return make_settings(
        "sqlite+aiosqlite:///unused.db",
        twilio={"api_base_url": api_base_url, "media_hosts": "127.0.0.1,localhost"},
    )


async def test_other_allowed_host_gets_no_credentials(media_host: MediaHost) -> None:
    # Twilio's API is elsewhere; the media URL names another allowed host as its first hop.
    settings = settings_with("http://localhost:9")
    url = f"http://127.0.0.1:{media_host.port}/media/1"
    assert not is_twilio_api(url, settings)
    async with aiohttp.ClientSession() as http:
        fetched = await fetch_media(http, url, settings)
    assert fetched.data and media_host.authorizations == [None]


async def test_twilio_api_host_gets_basic_auth(media_host: MediaHost) -> None:
    settings = settings_with(f"http://127.0.0.1:{media_host.port}")
    url = f"http://127.0.0.1:{media_host.port}/media/2"
    assert is_twilio_api(url, settings)
    async with aiohttp.ClientSession() as http:
        fetched = await fetch_media(http, url, settings)
    assert fetched.data
    assert media_host.authorizations[0] is not None
    assert media_host.authorizations[0].startswith("Basic ")


def test_api_host_match_is_exact() -> None:
    settings = settings_with("https://api.twilio.com")
    assert is_twilio_api("https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1", settings)
    for other in (
        "https://media.twiliocdn.com/x",
        "http://api.twilio.com/x",
        "https://api.twilio.com.evil.example/x",
        "https://api.twilio.com:8443/x",
    ):
        assert not is_twilio_api(other, settings), other
