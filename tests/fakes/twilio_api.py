"""A fake Twilio REST API on 127.0.0.1: the outside world for outbound SMS and MMS media.

It answers the Messages endpoint like Twilio does (JSON resource, error JSON with a code),
recognises a repeated idempotency token, records every request, and can be told to fail the
next requests with an HTTP status and Twilio error code, or to stall. Media is served the way
Twilio serves it: the API URL needs Basic auth and redirects to a pre-signed CDN URL.

Like the real API it keeps the messages it accepted and lists them (``GET Messages.json``,
newest first, filtered by To and From; ``GET Messages/{sid}.json`` fetches one), which is how
the relay settles a send whose answer it never got. Modes for the relay's worst days:
``honour_idempotency=False`` (Twilio does not document honouring the header, so each request
is a new message), ``latency`` (every answer slow), ``lose_answer_next`` (accept the message,
then stall so the client times out, or reset the connection), and ``chaos`` (a seeded share of
calls fails with errors, resets before acceptance, or answers lost after acceptance).

It also runs as a process of its own (``python -m tests.fakes.twilio_api``), so a benchmark
measures the relay against a provider that does not share its CPU and event loop, as Twilio
does not; ``GET /_fake/accepted`` then tells which of our messages it accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import secrets
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

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
class Accepted:
    """A message the fake accepted (what Twilio's Messages list returns)."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str
    created: datetime


@dataclass
class LostAnswer:
    """Accept the message, then never answer in time: stall, or reset the connection."""

    stall_seconds: float = 0.0  # 0: reset the connection instead


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
    accepted: list[Accepted] = field(default_factory=list)
    honour_idempotency: bool = True
    latency: float = 0.0  # seconds before every Messages answer
    lost_answers: list[LostAnswer] = field(default_factory=list)
    chaos_rate: float = 0.0  # share of create and list calls that go wrong
    chaos_stall: float = 1.0
    chaos_random: random.Random = field(default_factory=lambda: random.Random(7))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def media_url(self, message_sid: str, media_sid: str) -> str:
        """The MediaUrl Twilio would put in the webhook (on Twilio's real host)."""
        path = MEDIA_PATH.format(account=self.account_sid, message=message_sid, media=media_sid)
        return "https://api.twilio.com" + path

    def sent(self) -> list[Recorded]:
        """Every send request (POST), accepted or not."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def fail_next(self, status: int, code: int | None = None, *, stall: float = 0.0) -> None:
        self.failures.append(Failure(status, code, stall))

    def lose_answer_next(self, *, stall: float = 0.0) -> None:
        """Accept the next message but lose the answer (stall ``stall`` s, or reset if 0)."""
        self.lost_answers.append(LostAnswer(stall))

    def chaos(self, rate: float, *, stall: float = 1.0, seed: int = 7) -> None:
        """Make ``rate`` of the calls fail: a third errors (500/503/429), a third resets before
        accepting, a third accepts and then loses the answer (stall ``stall`` s or reset)."""
        self.chaos_rate, self.chaos_stall = rate, stall
        self.chaos_random = random.Random(seed)

    def accepted_for(self, message_id: int) -> list[Accepted]:
        """Every message accepted for our message ``message_id`` (by its callback marker)."""
        marker = f"?message={message_id}"
        return [a for a in self.accepted if a.status_callback.endswith(marker)]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages.json", self._list)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages/{sid}.json", self._fetch)
        app.router.add_get(MEDIA_PATH, self._media)
        app.router.add_delete(MEDIA_PATH, self._delete_media)
        app.router.add_get("/cdn/{media}", self._cdn)
        app.router.add_get("/_fake/accepted", self._accepted)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None  # asyncio's or uvloop's (no asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _accepted(self, request: web.Request) -> web.Response:
        """For a benchmark running the fake as its own process: what was accepted, for whom."""
        return web.json_response(
            {
                "sends": len(self.sent()),
                "accepted": [{"sid": a.sid, "callback": a.status_callback} for a in self.accepted],
            }
        )

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
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.failures:
            failure = self.failures.pop(0)
            if failure.stall_seconds:
                await asyncio.sleep(failure.stall_seconds)
            return _error(failure.status, failure.code, "scripted failure")
        lost = self.lost_answers.pop(0) if self.lost_answers else None
        if lost is None and self.chaos_rate and self.chaos_random.random() < self.chaos_rate:
            kind = self.chaos_random.randrange(3)
            if kind == 0:
                return _error(self.chaos_random.choice((500, 503, 429)), None, "chaos")
            if kind == 1:
                _reset(request)  # before accepting: nothing was created
                return web.Response(status=500)
            lost = LostAnswer(self.chaos_stall if self.chaos_random.random() < 0.5 else 0.0)
        token = rec.headers.get("I-Twilio-Idempotency-Token", "")
        known = self.by_token.get(token) if self.honour_idempotency else None
        sid = known or "SM" + secrets.token_hex(16)
        if token:
            self.by_token[token] = sid
        if known is None:
            self.accepted.append(
                Accepted(
                    sid,
                    rec.form.get("To", ""),
                    rec.form.get("From", "") or rec.form.get("MessagingServiceSid", ""),
                    rec.form.get("Body", ""),
                    rec.form.get("StatusCallback", ""),
                    datetime.now(UTC),
                )
            )
        if lost is not None:  # accepted, but the answer never arrives in time
            if lost.stall_seconds:
                await asyncio.sleep(lost.stall_seconds)
            else:
                _reset(request)
                return web.Response(status=500)
        return web.json_response(
            message_resource(
                self.account_sid,
                self.accepted[-1] if known is None else self._by_sid(sid),
                rec.form,
            ),
            status=201,
        )

    def _by_sid(self, sid: str) -> Accepted:
        return next(a for a in self.accepted if a.sid == sid)

    async def _list(self, request: web.Request) -> web.Response:
        """Messages, newest first, filtered by To and From, one page (``PageSize``)."""
        rec = await self._record(request)
        if not self._authorised(rec):
            return _error(401, 20003, "Authenticate")
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.chaos_rate and self.chaos_random.random() < self.chaos_rate / 2:
            return _error(503, None, "chaos")
        to, from_ = request.query.get("To"), request.query.get("From")
        size = int(request.query.get("PageSize", "50"))
        page = int(request.query.get("Page", "0"))
        matching = [
            a
            for a in reversed(self.accepted)
            if (not to or a.to == to) and (not from_ or a.from_ == from_)
        ]
        found = matching[page * size : (page + 1) * size]
        next_uri = None
        if (page + 1) * size < len(matching):
            query = dict(request.query)
            query["Page"] = str(page + 1)
            next_uri = str(request.rel_url.with_query(query))
        return web.json_response(
            {
                "messages": [message_resource(self.account_sid, a) for a in found],
                "page": page,
                "page_size": size,
                "first_page_uri": request.path_qs,
                "previous_page_uri": None,
                "next_page_uri": next_uri,
                "uri": request.path_qs,
                "start": page * size,
                "end": page * size + len(found),
            }
        )

    async def _fetch(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        if not self._authorised(rec):
            return _error(401, 20003, "Authenticate")
        sid = request.match_info["sid"]
        if not any(a.sid == sid for a in self.accepted):
            return _error(404, 20404, "not found")
        return web.json_response(message_resource(self.account_sid, self._by_sid(sid)))

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


def message_resource(
    account_sid: str, a: Accepted, form: dict[str, str] | None = None
) -> dict[str, object]:
    """The Messages resource Twilio answers with, for an accepted message."""
    form = form or {}
    return {
        "sid": a.sid,
        "account_sid": account_sid,
        "to": a.to,
        "from": form.get("From") or (a.from_ if a.from_.startswith("+") else None),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": a.body,
        "status": "queued",
        "num_segments": "1",
        "error_code": None,
        "error_message": None,
        "date_created": format_datetime(a.created),
        "date_sent": None,
        "api_version": "2010-04-01",
    }


def _auth(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _reset(request: web.Request) -> None:
    """Drop the connection without an answer, as a reset or a crashed proxy does."""
    transport = request.transport
    if transport is not None:
        transport.abort()


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
        assert server is not None  # asyncio's or uvloop's (no asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])

    async def _any(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def _serve_alone(account: str, token: str, honour_idempotency: bool) -> None:
    fake = FakeTwilio(account, token, honour_idempotency=honour_idempotency)
    await fake.start()
    print(fake.port, flush=True)  # the one line the parent reads
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Twilio REST API on 127.0.0.1.")
    parser.add_argument("--account", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ignore-idempotency", action="store_true")
    args = parser.parse_args()
    asyncio.run(_serve_alone(args.account, args.token, not args.ignore_idempotency))


if __name__ == "__main__":
    main()
