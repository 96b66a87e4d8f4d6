"""A gateway running on its own event loop in a background thread, so that the synchronous
Playwright API can drive a browser against it from the test's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from twilio.request_validator import RequestValidator

from gateway.runtime import Runtime, build_runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import RunningGateway, start_gateway
from tests.api.world import ROLES, TEAM_A, TEAM_B, Person, World
from tests.conftest import TWILIO_TOKEN, RecordingSender, make_settings
from tests.helpers import processed, twilio_params
from tests.pages.support import with_password

T = TypeVar("T")
LOCAL_URL = "http://127.0.0.1"


class LiveGateway:
    def __init__(self, directory: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.settings = make_settings(
            f"sqlite+aiosqlite:///{directory / 'gateway.db'}", web={"public_url": LOCAL_URL}
        )
        self.rt: Runtime
        self.gw: RunningGateway
        self.rt, self.gw = self.run(self._start())
        self.world = World(self.rt, self.gw.web_port)
        for team in (TEAM_A, TEAM_B):
            for role in ROLES:
                person = self.run(self.world.add_person(role, team))
                self.world.staff[(role, team)] = self.run(with_password(self.rt, person))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gw.web_port}"

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> tuple[Runtime, RunningGateway]:
        rt = build_runtime(
            self.settings,
            senders={"sms": RecordingSender(), "email": RecordingSender()},
            keyring=parse_keys(new_key_line("test")),
        )
        await rt.db.migrate()
        return rt, await start_gateway(rt, relay=False)

    def person(self, role: str, team: str = TEAM_A) -> Person:
        return self.world.person(role, team)

    def sms_from(self, phone: str, body: str, sid: str) -> int:
        """A family's SMS through the real, signed Twilio webhook; returns the HTTP status."""
        params = twilio_params(sid=sid, sender=phone, body=body)
        path = "/webhooks/twilio/sms"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(LOCAL_URL + path, params)

        async def post() -> int:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    self.url + path, data=params, headers={"X-Twilio-Signature": signature}
                ) as resp,
            ):
                status = resp.status
            await processed(self.gw)  # answered 200 first, filed after
            return status

        return self.run(post())

    def stop(self) -> None:
        self.run(self.gw.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
