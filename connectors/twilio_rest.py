"""Outbound SMS through Twilio's REST API.

A send is one form POST to the Messages resource over a pooled aiohttp session, answered by
the message's JSON (its ``sid``) or an error JSON with Twilio's error code: the relay sends
hundreds a second, and the twilio library's request and resource objects cost more per send
than the HTTP exchange itself. Looking up messages (to settle a send whose answer was lost)
uses the twilio library's async client on the same session. Every request goes to the
configured API base URL (a fake Twilio server on 127.0.0.1 in tests) and a send carries the
outbox job's idempotency key, so a job retried after a lost answer is recognisable.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
import structlog
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from connectors.base import OutboundEnvelope, ProviderUnsure, SendOutcome
from gateway.core.sms import classify_send_failure, explain_error
from gateway.settings import Settings

log = structlog.get_logger("connectors.twilio_rest")

TWILIO_API = "https://api.twilio.com"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
LOOKUP_PAGE = 50  # messages per page of a lookup, newest first
LOOKUP_MAX_PAGES = 20  # a lookup reads back to the job's creation, at most this many pages
LOOKUP_CLOCK_SKEW = timedelta(minutes=5)  # between our clock and Twilio's


class RoutedTwilioHttpClient(AsyncTwilioHttpClient):
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API) and self.base_url != TWILIO_API:
            url = self.base_url + url[len(TWILIO_API) :]
        headers = dict(headers or {})
        if auth is not None:  # as a header: aiohttp deprecates its BasicAuth objects
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        # The library hands aiohttp no timeout of its own; bound the whole exchange here.
        async with asyncio.timeout(timeout or self.timeout):
            return await super().request(
                method, url, params, data, headers, None, None, allow_redirects
            )


class SendRate:
    """A token bucket: at most ``rate`` sends per second on average, bursts up to ``burst``.

    Twilio queues what exceeds a sender's throughput and fails it after hours (30001), so
    pacing ourselves keeps the failure visible in our outbox instead. ``clock`` and ``sleep``
    are injectable so the pacing can be tested without waiting. A send that finds a token
    takes it without waiting for anything (the common case, under the allowed rate); only
    sends that must wait queue on the lock, so they are let through in order.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self.sleep = sleep
        self.tokens = self.burst
        self.updated = clock()
        self.lock = asyncio.Lock()

    def _take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    async def acquire(self) -> None:
        """Wait until one send is allowed, then take it."""
        if not self.lock.locked() and self._take():
            return
        async with self.lock:
            while not self._take():
                await self.sleep((1.0 - self.tokens) / self.rate)


class TwilioSmsSender:
    """Sends from the Messaging Service when one is configured, else from the service number.

    Sends use a session of their own, its connection pool sized to the relay's concurrency and
    without a cookie jar; the request body is the one form that differs per reply only in the
    recipient, the text and our message id, so all the rest is encoded once.
    """

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        tw = settings.twilio
        self.settings = settings
        self.http = RoutedTwilioHttpClient(tw.api_base_url, timeout)
        self.client = Client(tw.account_sid, tw.auth_token, http_client=self.http)
        self.status_callback = settings.web.public_url.rstrip("/") + "/webhooks/twilio/status"
        self.rate = SendRate(tw.max_per_second)
        self.messages_url = (
            f"{tw.api_base_url.rstrip('/')}/2010-04-01/Accounts/{tw.account_sid}/Messages.json"
        )
        self.headers = {
            "Authorization": aiohttp.encode_basic_auth(tw.account_sid, tw.auth_token),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        self._form_tail: tuple[Settings, str] | None = None
        self.connections = max(1, settings.relay.concurrency)
        self._sends: aiohttp.ClientSession | None = None

    @property
    def timeout(self) -> float:
        """Seconds a send or a look-up may take in all."""
        return float(self.http.timeout or 0.0)

    def form(self, out: OutboundEnvelope) -> bytes:
        """The urlencoded form of one send (what ``urlencode`` of the whole form gives)."""
        return (
            f"To={quote_plus(out.to)}&Body={quote_plus(out.body)}{self.form_tail()}{out.message_id}"
        ).encode("ascii")

    def form_tail(self) -> str:
        """What every send's form ends with, encoded once per settings."""
        if self._form_tail is None or self._form_tail[0] is not self.settings:
            tw = self.settings.twilio
            sender = (
                {"MessagingServiceSid": tw.messaging_service_sid}
                if tw.messaging_service_sid
                else {"From": tw.from_number}
            )
            # Our id in the callback URL: the status finds its message even before we have
            # recorded the MessageSid Twilio answers with. It ends the form: "…?message=" + id.
            callback = f"{self.status_callback}?message="
            self._form_tail = (
                self.settings,
                "&" + urlencode({**sender, "StatusCallback": callback}),
            )
        return self._form_tail[1]

    def sends(self) -> aiohttp.ClientSession:
        if self._sends is None or self._sends.closed:
            self._sends = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._sends

    async def send(self, out: OutboundEnvelope) -> SendOutcome:
        await self.rate.acquire()
        try:
            async with self.sends().post(
                self.messages_url,
                data=self.form(out),
                headers={**self.headers, IDEMPOTENCY_HEADER: out.idempotency_key},
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                status, payload = resp.status, await resp.read()
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            return SendOutcome(
                False, error_text=f"Twilio unreachable ({exc.__class__.__name__}); will retry"
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have reached Twilio: settled by asking Twilio before any resend.
            return SendOutcome(
                False,
                ambiguous=True,
                error_text=(
                    f"Twilio unreachable mid-request ({exc.__class__.__name__}); "
                    "checking with Twilio before sending again"
                ),
            )
        answer = _json_object(payload)
        if status >= 400:
            raw_code = answer.get("code")
            code = raw_code if isinstance(raw_code, int) else None
            verdict = classify_send_failure(status, code)
            explanation = explain_error(code if code is not None else status)
            log.warning(
                "twilio.send_failed", message_id=out.message_id, status=status, error_code=code
            )
            return SendOutcome(
                False,
                permanent=verdict == "dead",
                error_code=str(code or status),
                error_text=explanation.text_for_caseworker,
            )
        sid = answer.get("sid")
        if not (200 <= status < 300 and isinstance(sid, str) and sid):
            # Not an answer Twilio gives: it may still have taken the message, so ask it.
            return SendOutcome(
                False,
                ambiguous=True,
                error_text=(
                    f"Twilio answered {status} without a message id; "
                    "checking with Twilio before sending again"
                ),
            )
        return SendOutcome(True, provider_id=sid)

    async def find_sent(
        self, out: OutboundEnvelope, since: datetime, exclude: frozenset[str]
    ) -> str | None:
        """Look for ``out`` among the newest messages Twilio has to that number from us.

        Twilio lists messages newest first; ours is matched by recipient, sender, exact body
        and creation time (``date_sent`` is empty until it leaves Twilio's queue, so the
        filter is on ``date_created``), skipping ids already recorded for other messages.
        """
        tw = self.settings.twilio
        kwargs: dict[str, Any] = {"to": out.to, "page_size": LOOKUP_PAGE}
        if not tw.messaging_service_sid and tw.from_number:
            kwargs["from_"] = tw.from_number
        earliest = since - LOOKUP_CLOCK_SKEW
        try:
            page = await self.client.messages.page_async(**kwargs)
            for _ in range(LOOKUP_MAX_PAGES):
                older = False
                for found in page:
                    created = found.date_created
                    if created is not None and created < earliest:
                        older = True  # newest first: the rest is older still
                        break
                    if found.body == out.body and found.sid not in exclude:
                        return str(found.sid)
                if older or page.next_page_url is None:
                    return None
                next_page = await page.next_page_async()
                if next_page is None:
                    return None
                page = next_page
        except TwilioException as exc:  # an error answer (the page loader raises the base)
            raise ProviderUnsure("Twilio could not list messages; will ask again") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderUnsure(f"Twilio lookup failed ({exc.__class__.__name__})") from exc
        raise ProviderUnsure("too many messages to that number to look through; will ask again")

    async def close(self) -> None:
        if self._sends is not None:
            await self._sends.close()
        await self.http.close()


def _json_object(payload: bytes) -> dict[str, Any]:
    """The JSON object Twilio answered with, or an empty one for anything else."""
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
