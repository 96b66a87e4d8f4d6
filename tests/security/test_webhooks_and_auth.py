"""Webhooks take only signature-covered parameters; bad bytes are 400 not 503; guessing tokens
or signatures gets an address locked out (429, audited); tokens never reach a log line."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connectors.twilio_sms import FormRefused, parse_twilio_form
from gateway.ratelimit import FailureThrottle, client_address
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, Message
from tests.conftest import PUBLIC_URL
from tests.helpers import api, post_twilio, processed, seed_case, sign, twilio_params

PATH = "/webhooks/twilio/sms"


async def _count_messages(rt: Runtime) -> int:
    async with rt.db.read() as s:
        return int((await s.execute(select(func.count(Message.id)))).scalar_one())


async def post_raw(
    port: int, body: bytes, signature: str, content_type: str = "application/x-www-form-urlencoded"
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}{PATH}",
            data=body,
            headers={"X-Twilio-Signature": signature, "Content-Type": content_type},
        ) as resp,
    ):
        return resp.status, await resp.text()


async def raw_http(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read(65536)
    writer.close()
    return answer


async def test_prepended_body_parameter_is_refused_and_nothing_stored(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    params = twilio_params(body="Signert tekst")
    signature = sign(PATH, params)
    forged = b"Body=Usignert+tekst&" + urlencode(params).encode()
    status, answer = await post_raw(gateway.web_port, forged, signature)
    assert status == 400 and "repeated" in answer
    assert await _count_messages(runtime) == 0
    # The same request without the extra parameter is stored, and stored as signed.
    status, _ = await post_raw(gateway.web_port, urlencode(params).encode(), signature)
    assert status == 200
    await processed(gateway)
    async with runtime.db.read() as s:
        stored = (await s.execute(select(Message))).scalar_one()
    assert stored.redacted_text == "Signert tekst"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"Body=%FF%FE&From=%2B4791234567", "application/x-www-form-urlencoded"),
        (b"Body=\xe6\xf8\xe5&From=%2B4791234567", "application/x-www-form-urlencoded"),
        (b"Body=hei", "application/x-www-form-urlencoded; charset=iso-8859-1"),
        (b"Body=hei&Body=hei", "application/x-www-form-urlencoded"),
        (b"Body=a%00b", "application/x-www-form-urlencoded"),
    ],
)
async def test_bad_form_bytes_are_400_without_traceback(
    runtime: Runtime,
    gateway: RunningGateway,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await post_raw(gateway.web_port, body, "c2ln", content_type)
    assert status == 400
    assert "Traceback" not in caplog.text and "http.unhandled" not in caplog.text
    assert await _count_messages(runtime) == 0


async def test_bad_signatures_lock_the_address_out(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    limit = runtime.settings.security.webhook_failure_limit
    params = twilio_params()
    for _ in range(limit - 1):
        status, _ = await post_twilio(gateway.web_port, params, signature="Zm9yZ2Vk")
        assert status == 403
    status, _ = await post_twilio(gateway.web_port, params, signature="Zm9yZ2Vk")
    assert status == 403  # the failure that starts the lockout is still answered as what it is
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{gateway.web_port}{PATH}",
            data=params,
            headers={"X-Twilio-Signature": sign(PATH, params)},
        ) as resp,
    ):
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) > 0
    assert await _count_messages(runtime) == 0


async def test_token_guessing_locks_out_address_and_is_audited(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    token = await seed_case(runtime)
    limit = runtime.settings.security.auth_failure_limit
    url = f"http://127.0.0.1:{gateway.web_port}/api/v1/queue"
    async with aiohttp.ClientSession() as http:
        statuses = []
        for n in range(limit + 2):
            async with http.get(url, headers={"Authorization": f"Bearer cgw_guess{n}"}) as resp:
                statuses.append(resp.status)
                retry = resp.headers.get("Retry-After")
        assert statuses[: limit - 1] == [401] * (limit - 1)
        assert statuses[limit - 1 :] == [429] * 3 and retry is not None and int(retry) > 0
        # Locked out by address: even a valid token waits.
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 429
        # No token at all is not a guess: still 401, so the lockout is not advertised.
    async with runtime.db.read() as s:
        events = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action == "auth.locked_out")))
            .scalars()
            .all()
        )
    assert [e.subject for e in events] == ["address:127.0.0.1"]
    assert all("cgw_guess" not in str(e.details) for e in events)


def test_behind_the_trusted_proxy_the_forwarded_client_is_counted() -> None:
    assert client_address("10.0.0.1", "203.0.113.9", trusted_proxy=True) == "203.0.113.9"
    # Only the entry our proxy appended counts; what the client wrote before it does not.
    assert client_address("10.0.0.1", "1.2.3.4, 203.0.113.9", trusted_proxy=True) == "203.0.113.9"
    assert client_address("10.0.0.1", "203.0.113.9", trusted_proxy=False) == "10.0.0.1"
    assert client_address(None, None, trusted_proxy=False) == "unknown"


def test_failure_throttle_per_key_window_and_lockout() -> None:
    now = [0.0]
    throttle = FailureThrottle(3, window=60, lockout=300, clock=lambda: now[0])
    assert not throttle.failed("a") and not throttle.failed("a")
    now[0] = 61.0  # the first two fall out of the window
    assert not throttle.failed("a") and not throttle.failed("a")
    assert throttle.retry_after("a") is None
    assert throttle.failed("a")
    assert throttle.retry_after("a") == 300
    assert throttle.retry_after("b") is None
    now[0] += 299.5
    assert throttle.retry_after("a") == 1
    now[0] += 1
    assert throttle.retry_after("a") is None
    small = FailureThrottle(2, 60, 60, clock=lambda: now[0], max_keys=10)
    for n in range(50):
        small.failed(f"k{n}")
    assert len(small._failures) <= 10


async def test_non_ascii_authorization_and_lone_surrogates_are_400(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    token = await seed_case(runtime)
    answer = await raw_http(
        gateway.web_port,
        b"GET /api/v1/queue HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cgw_\xff\xfe\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400")
    body = b'{"text": "hei \\ud800"}'
    request = (
        b"POST /api/v1/cases/2026-0412/replies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body
    )
    answer = await raw_http(gateway.web_port, request)
    assert answer.startswith(b"HTTP/1.1 400") and b"not valid Unicode" in answer
    # NUL cannot be stored either (PostgreSQL refuses it): 400, never 503.
    status, _ = await api(gateway.web_port, "POST", "/api/v1/cases/2026-0412/replies", token,
                          {"body": "hei\u0000", "channel": "sms"})  # fmt: skip
    assert status == 400
    status, _ = await api(gateway.web_port, "GET", "/api/v1/cases/a%00b", token)
    assert status == 400


async def test_malformed_authorization_line_is_not_logged_raw(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "cgw_VerySecretTokenValue123"
    for line in (
        f"Authorization: Bearer {secret}\x01x".encode(),
        f"Authorization Bearer {secret}".encode(),
    ):
        answer = await raw_http(
            gateway.web_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + line + b"\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    assert caplog.records, "aiohttp logs a malformed request"
    assert "VerySecret" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("aiohttp"))


# --- the form parser as a property --------------------------------------------------------

_names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_names, _values, max_size=15))
def test_form_parser_returns_exactly_what_was_encoded(params: dict[str, str]) -> None:
    assert parse_twilio_form(urlencode(params).encode()) == params
    # What Twilio signs is what we parse: the signature over the parsed form matches.
    from twilio.request_validator import RequestValidator

    validator = RequestValidator("t")
    url = PUBLIC_URL + PATH
    parsed = parse_twilio_form(urlencode(params).encode())
    assert validator.validate(url, parsed, validator.compute_signature(url, params))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_names, _values), min_size=1, max_size=10), st.data())
def test_form_parser_refuses_any_repeated_parameter(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    repeated = data.draw(st.sampled_from(pairs))
    position = data.draw(st.integers(0, len(pairs)))
    forged = [*pairs[:position], repeated, *pairs[position:]]
    with pytest.raises(FormRefused):
        parse_twilio_form(urlencode(forged).encode())


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_form_parser_on_any_bytes_answers_or_refuses(body: bytes) -> None:
    try:
        params = parse_twilio_form(body)
    except FormRefused:
        return
    for name, value in params.items():
        name.encode("utf-8")
        value.encode("utf-8")
        assert "\x00" not in name + value
