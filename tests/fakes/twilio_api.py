"""A fake Twilio REST API on 127.0.0.1: the outside world for outbound SMS and MMS media.

It answers the Messages endpoint like Twilio does (JSON resource, error JSON with a code),
recognises a repeated idempotency token, records every request, and can be told to fail the
next requests with an HTTP status and Twilio error code, or to stall. Media is served the way
Twilio serves it: the API URL needs Basic auth and redirects to a pre-signed CDN URL.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, field

from aiohttp import web

MEDIA_PATH = "/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    auth: tuple[str, str] | None


@dataclass
class Failure:
    status: int
    code: int | None = None
    stall_seconds: float = 0.0


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media sid -> (type, bytes)
    media_failures: list[Failure] = field(default_factory=list)
    redirect_to: str | None = None  # send media redirects elsewhere (a host we must not reach)
    deleted: list[str] = field(default_factory=list)
    by_token: dict[str, str] = field(default_factory=dict)
    port: int = 0
    runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def media_url(self, message_sid: str, media_sid: str) -> str:
        """The MediaUrl Twilio would put in the webhook (on Twilio's real host)."""
        path = MEDIA_PATH.format(account=self.account_sid, message=message_sid, media=media_sid)
        return "https://api.twilio.com" + path

    def sent(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def fail_next(self, status: int, code: int | None = None, *, stall: float = 0.0) -> None:
        self.failures.append(Failure(status, code, stall))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_get(MEDIA_PATH, self._media)
        app.router.add_delete(MEDIA_PATH, self._delete_media)
        app.router.add_get("/cdn/{media}", self._cdn)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _record(self, request: web.Request) -> Recorded:
        form = {k: str(v) for k, v in (await request.post()).items()}
        rec = Recorded(request.method, request.path, dict(request.headers), form, _auth(request))
        self.requests.append(rec)
        return rec

    def _authorised(self, rec: Recorded) -> bool:
        return rec.auth == (self.account_sid, self.auth_token)

    async def _create(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        if not self._authorised(rec):
            return _error(401, 20003, "Authenticate")
        if self.failures:
            failure = self.failures.pop(0)
            if failure.stall_seconds:
                await asyncio.sleep(failure.stall_seconds)
            return _error(failure.status, failure.code, "scripted failure")
        token = rec.headers.get("I-Twilio-Idempotency-Token", "")
        sid = self.by_token.get(token) or "SM" + secrets.token_hex(16)
        if token:
            self.by_token[token] = sid
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": rec.form.get("To"),
                "from": rec.form.get("From"),
                "messaging_service_sid": rec.form.get("MessagingServiceSid"),
                "body": rec.form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "error_code": None,
                "error_message": None,
                "api_version": "2010-04-01",
            },
            status=201,
        )

    async def _media(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        if not self._authorised(rec):
            return _error(401, 20003, "Authenticate")
        if self.media_failures:
            failure = self.media_failures.pop(0)
            if failure.stall_seconds:
                await asyncio.sleep(failure.stall_seconds)
            return _error(failure.status, failure.code, "scripted failure")
        media_sid = request.match_info["media"]
        if media_sid not in self.media:
            return _error(404, 20404, "not found")
        target = self.redirect_to or f"/cdn/{media_sid}?Signature=presigned"
        raise web.HTTPFound(target)

    async def _cdn(self, request: web.Request) -> web.Response:
        await self._record(request)
        content_type, data = self.media[request.match_info["media"]]
        return web.Response(body=data, content_type=content_type)

    async def _delete_media(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        if not self._authorised(rec):
            return _error(401, 20003, "Authenticate")
        self.deleted.append(request.match_info["media"])
        return web.Response(status=204)


def _auth(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _error(status: int, code: int | None, message: str) -> web.Response:
    body = {"status": status, "message": message, "code": code, "more_info": ""}
    return web.json_response(body, status=status)


class RecordingHost:
    """Any other host on 127.0.0.1: records whether the gateway ever reached it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])

    async def _any(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
