"""Twilio's Messages resource as a minimal asyncio protocol server: the provider at speed.

The relay benchmark needs a provider that is never the bottleneck, as Twilio is not. The
aiohttp fake (``tests/fakes/twilio_api.py``, everything the tests script) takes 1–2 thousand
requests a second on a busy machine; this one parses HTTP/1.1 by hand (keep-alive, a
``Content-Length`` body, no chunking) and answers the three calls the relay makes:

- ``POST …/Messages.json`` creates a message (201 and its JSON resource with a ``sid``);
- ``GET …/Messages.json?To=&From=&PageSize=&Page=`` lists them newest first, with
  ``next_page_uri`` (how the relay settles a send whose answer was lost);
- ``GET …/Messages/{sid}.json`` fetches one;

and ``GET /_fake/accepted``, which says which of our messages it accepted (their
StatusCallback marker) and how many send requests it had. It does not honour the idempotency
header (Twilio does not document that it does): every accepted request is a message to the
family. With ``--chaos RATE`` a seeded share of calls goes wrong the ways a bad day does: a
third of the sends answer 500/503/429, a third reset before accepting, a third accept and then
lose the answer (stall past the client's timeout, or reset); a share of the look-ups fails.

    python -m tests.fakes.twilio_messages --account AC… --token … [--chaos 0.5 --stall 1.0]

It prints the port it listens on (127.0.0.1) as its first line and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import re
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import cast
from urllib.parse import parse_qsl, urlencode

from tests.fakes.twilio_api import Accepted, message_resource

REASONS = {200: "OK", 201: "Created", 401: "Unauthorized", 404: "Not Found", 429: "Too Many"}


@dataclass(frozen=True)
class Answer:
    """What to do with one request: answer it (after ``stall`` seconds), or reset."""

    status: int = 200
    body: bytes = b""
    stall: float = 0.0
    reset: bool = False


@dataclass
class MessagesApi:
    """The fake provider's state and behaviour, apart from the transport."""

    account_sid: str
    auth_token: str
    chaos_rate: float = 0.0
    chaos_stall: float = 1.0
    chaos_random: random.Random = field(default_factory=lambda: random.Random(7))
    accepted: list[Accepted] = field(default_factory=list)
    by_to: dict[str, list[Accepted]] = field(default_factory=dict)
    by_sid: dict[str, Accepted] = field(default_factory=dict)
    sends: int = 0
    base: str = ""
    date_second: int = -1
    date_json: str = ""

    def __post_init__(self) -> None:
        self.base = f"/2010-04-01/Accounts/{self.account_sid}/Messages"
        self.authorization = "Basic " + base64.b64encode(
            f"{self.account_sid}:{self.auth_token}".encode()
        ).decode("ascii")

    def answer(self, method: str, target: str, authorization: str, body: bytes) -> Answer:
        path, _, query = target.partition("?")
        if method == "GET" and path == "/_fake/accepted":
            return _json(200, self.summary())
        if not path.startswith(self.base):
            return _error(404, 20404, "not found")
        if authorization != self.authorization:
            return _error(401, 20003, "Authenticate")
        rest = path[len(self.base) :]
        if rest == ".json" and method == "POST":
            return self.create(_form(body))
        if rest == ".json" and method == "GET":
            return self.list(dict(parse_qsl(query)), path)
        if method == "GET" and rest.startswith("/") and rest.endswith(".json"):
            found = self.by_sid.get(rest[1:-5])
            if found is None:
                return _error(404, 20404, "not found")
            return _json(200, message_resource(self.account_sid, found))
        return _error(404, 20404, "not found")

    def summary(self) -> dict[str, object]:
        return {
            "sends": self.sends,
            "accepted": [{"sid": a.sid, "callback": a.status_callback} for a in self.accepted],
        }

    def create(self, form: dict[str, str]) -> Answer:
        self.sends += 1
        lost_stall: float | None = None
        if self.chaos_rate and self.chaos_random.random() < self.chaos_rate:
            kind = self.chaos_random.randrange(3)
            if kind == 0:
                return _error(self.chaos_random.choice((500, 503, 429)), None, "chaos")
            if kind == 1:
                return Answer(reset=True)  # before accepting: nothing was created
            lost_stall = self.chaos_stall if self.chaos_random.random() < 0.5 else 0.0
        now = time.time()
        message = Accepted(
            "SM" + secrets.token_hex(16),
            form.get("To", ""),
            form.get("From", "") or form.get("MessagingServiceSid", ""),
            form.get("Body", ""),
            form.get("StatusCallback", ""),
            datetime.fromtimestamp(now, UTC),
        )
        self.accepted.append(message)
        self.by_to.setdefault(message.to, []).append(message)
        self.by_sid[message.sid] = message
        if lost_stall == 0.0:
            return Answer(reset=True)  # accepted, and the answer never arrives
        return Answer(201, self.created_body(message, form, int(now)), stall=lost_stall or 0.0)

    def created_body(self, message: Accepted, form: dict[str, str], second: int) -> bytes:
        """The resource of a new message (as :func:`message_resource` writes it), from a
        template: the answer to every send, so it is built with the least work."""
        if second != self.date_second:
            self.date_second = second
            self.date_json = json.dumps(format_datetime(datetime.fromtimestamp(second, UTC)))
        from_ = form.get("From") or None
        service = form.get("MessagingServiceSid")
        return (
            f'{{"sid": "{message.sid}", "account_sid": "{self.account_sid}", '
            f'"to": {json.dumps(message.to)}, "from": {json.dumps(from_)}, '
            f'"messaging_service_sid": {json.dumps(service)}, "body": {json.dumps(message.body)}, '
            '"status": "queued", "num_segments": "1", "error_code": null, '
            f'"error_message": null, "date_created": {self.date_json}, "date_sent": null, '
            '"api_version": "2010-04-01"}'
        ).encode()

    def list(self, query: dict[str, str], path: str) -> Answer:
        """Messages, newest first, filtered by To and From, one page (``PageSize``)."""
        if self.chaos_rate and self.chaos_random.random() < self.chaos_rate / 2:
            return _error(503, None, "chaos")
        to, from_ = query.get("To"), query.get("From")
        size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        candidates = self.by_to.get(to, []) if to else self.accepted
        matching = [a for a in reversed(candidates) if not from_ or a.from_ == from_]
        found = matching[page * size : (page + 1) * size]
        uri = f"{path}?{urlencode(query)}"
        next_uri = None
        if (page + 1) * size < len(matching):
            next_uri = f"{path}?{urlencode({**query, 'Page': str(page + 1)})}"
        return _json(
            200,
            {
                "messages": [message_resource(self.account_sid, a) for a in found],
                "page": page,
                "page_size": size,
                "first_page_uri": uri,
                "previous_page_uri": None,
                "next_page_uri": next_uri,
                "uri": uri,
                "start": page * size,
                "end": page * size + len(found),
            },
        )


def _form(body: bytes) -> dict[str, str]:
    """An urlencoded form (what ``parse_qsl`` does, with less work for plain values)."""
    form = {}
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        if b"%" in value or b"+" in value:
            value = _ESCAPED.sub(_byte, value.replace(b"+", b" "))
        form[name.decode("ascii")] = value.decode("utf-8")
    return form


_ESCAPED = re.compile(rb"%([0-9A-Fa-f]{2})")


def _byte(escaped: re.Match[bytes]) -> bytes:
    return bytes((int(escaped[1], 16),))


def _json(status: int, value: object) -> Answer:
    return Answer(status, json.dumps(value).encode())


def _error(status: int, code: int | None, message: str) -> Answer:
    return _json(status, {"status": status, "message": message, "code": code, "more_info": ""})


class HttpConnection(asyncio.Protocol):
    """One client connection: requests parsed from the buffer and answered in order."""

    def __init__(self, api: MessagesApi) -> None:
        self.api = api
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.stalled = False  # an answer is held back: the next request waits for it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.serve()

    def serve(self) -> None:
        while not self.stalled and self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, target, _ = head[0].split(" ", 2)
            answer = self.api.answer(method, target, headers.get("authorization", ""), body)
            if answer.reset:
                self.transport.abort()
                self.transport = None
                return
            if answer.stall:
                self.stalled = True
                loop = asyncio.get_running_loop()
                loop.call_later(answer.stall, self.answer_late, answer)
                return
            self.write(answer)

    def answer_late(self, answer: Answer) -> None:
        self.stalled = False
        if self.transport is None or self.transport.is_closing():
            return
        self.write(answer)
        self.serve()

    def write(self, answer: Answer) -> None:
        assert self.transport is not None
        reason = REASONS.get(answer.status, "Error")
        self.transport.write(
            f"HTTP/1.1 {answer.status} {reason}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(answer.body)}\r\n\r\n".encode("latin-1")
            + answer.body
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(api: MessagesApi, port: int = 0) -> asyncio.Server:
    """Listen on 127.0.0.1 (``port`` 0: any free port)."""
    loop = asyncio.get_running_loop()
    factory: Callable[[], asyncio.Protocol] = lambda: HttpConnection(api)  # noqa: E731
    return await loop.create_server(factory, "127.0.0.1", port, backlog=1024)


async def _serve_alone(api: MessagesApi) -> None:
    server = await serve(api)
    print(server.sockets[0].getsockname()[1], flush=True)  # the one line the parent reads
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Twilio's Messages API, fast, on 127.0.0.1.")
    parser.add_argument("--account", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chaos", type=float, default=0.0, help="share of calls that go wrong")
    parser.add_argument("--stall", type=float, default=1.0, help="seconds a lost answer stalls")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    api = MessagesApi(args.account, args.token, args.chaos, args.stall, random.Random(args.seed))
    # The provider stands for the outside world: as fast as this machine allows.
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        asyncio.run(_serve_alone(api))
    else:
        uvloop.run(_serve_alone(api))


if __name__ == "__main__":
    main()
