"""MMS media: fetched by the worker from the fake Twilio API, sealed, bounded, never elsewhere."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from connectors.twilio_media import MediaFetcher, host_allowed
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Attachment, Message, OutboxJob
from tests.fakes.twilio_api import Failure, FakeTwilio, RecordingHost
from tests.helpers import post_twilio, processed, seed_case
from tests.sms.conftest import load_fixtures
from tests.sms.support import audit_actions, rows, unseal

MMS = load_fixtures("inbound_")["mms_two_media"]["params"]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x11" * 2000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + b"\x22" * 500
MEDIA_SIDS = [MMS["MediaUrl0"].rsplit("/", 1)[1], MMS["MediaUrl1"].rsplit("/", 1)[1]]


@pytest.fixture
async def elsewhere() -> AsyncIterator[RecordingHost]:
    host = RecordingHost()
    await host.start()
    yield host
    await host.stop()


def serve_media(fake: FakeTwilio) -> None:
    fake.media[MEDIA_SIDS[0]] = ("image/jpeg", JPEG)
    fake.media[MEDIA_SIDS[1]] = ("image/png", PNG)


def tune(rt: Runtime, section: str, **values: Any) -> None:
    assert rt.media is not None
    settings = rt.media.settings
    rt.media.settings = replace(
        settings, **{section: replace(getattr(settings, section), **values)}
    )


async def receive_mms(rt: Runtime, port: int, **params: str) -> None:
    await seed_case(rt)
    assert (await post_twilio(port, {**MMS, **params}))[0] == 200
    await processed(rt)  # filed after the 200


async def attachments(rt: Runtime) -> list[Attachment]:
    return await rows(rt, Attachment)


async def fetch_once(rt: Runtime) -> int:
    assert rt.media is not None
    return await rt.media.run_once()


def media_gets(fake: FakeTwilio) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and "/Media/" in r.path]


async def test_media_is_fetched_with_auth_through_the_redirect_and_sealed(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    serve_media(fake_twilio)
    await receive_mms(runtime, gateway.web_port)
    assert await fetch_once(runtime) == 1
    first, second = await attachments(runtime)
    assert [(a.verdict, a.content_type) for a in (first, second)] == [
        ("kept", "image/jpeg"),
        ("kept", "image/png"),
    ]
    assert await unseal(runtime, first.sealed_id, b"attachment") == JPEG
    assert first.sha256 == hashlib.sha256(JPEG).hexdigest() and first.size == len(JPEG)
    api_hits = [r for r in fake_twilio.requests if "/Media/" in r.path]
    cdn_hits = [r for r in fake_twilio.requests if r.path.startswith("/cdn/")]
    assert all(r.auth is not None for r in api_hits) and len(api_hits) == 2
    assert len(cdn_hits) == 2 and all("Authorization" not in r.headers for r in cdn_hits)
    (job,) = await rows(runtime, OutboxJob, OutboxJob.kind == "fetch_media")
    assert job.state == "sent"
    assert (await audit_actions(runtime)).count("attachment.fetched") == 2
    assert await fetch_once(runtime) == 0


async def test_failed_fetch_keeps_the_text_and_retries(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    serve_media(fake_twilio)
    fake_twilio.media_failures.extend([Failure(500), Failure(503)])
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    (msg,) = await rows(runtime, Message, Message.direction == "in")
    assert "Bilder fra i dag" in msg.redacted_text
    assert [a.verdict for a in await attachments(runtime)] == ["pending", "pending"]
    assert "not fetched yet" in (await attachments(runtime))[0].reason
    (job,) = await rows(runtime, OutboxJob, OutboxJob.kind == "fetch_media")
    assert (job.state, job.attempts) == ("pending", 1)
    await fetch_once(runtime)
    assert [a.verdict for a in await attachments(runtime)] == ["kept", "kept"]


async def test_media_that_never_arrives_is_blocked_after_the_last_attempt(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    tune(runtime, "sms", media_max_attempts=2)
    serve_media(fake_twilio)
    fake_twilio.media_failures.extend([Failure(502)] * 4)
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    await fetch_once(runtime)
    atts = await attachments(runtime)
    assert [a.verdict for a in atts] == ["blocked", "blocked"]
    assert "after 2 attempts" in atts[0].reason
    (job,) = await rows(runtime, OutboxJob, OutboxJob.kind == "fetch_media")
    assert job.state == "dead"


async def test_too_large_media_is_not_kept(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    tune(runtime, "sms", media_max_bytes=1000)
    serve_media(fake_twilio)
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    big, small = await attachments(runtime)
    assert big.verdict == "blocked" and "media_max_bytes" in big.reason and big.sealed_id is None
    assert small.verdict == "kept"


async def test_media_of_a_type_not_accepted_is_blocked_by_its_bytes(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    serve_media(fake_twilio)
    fake_twilio.media[MEDIA_SIDS[0]] = ("image/jpeg", b"MZ\x90\x00" + b"\x00" * 200)
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    exe, png = await attachments(runtime)
    assert exe.verdict == "blocked" and "application/x-msdownload" in exe.reason
    assert png.verdict == "kept"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/2010-04-01/Media/ME1",
        "http://localhost:{port}/steal",
        "http://169.254.169.254/latest/meta-data/",
        "https://user:pw@api.twilio.com/x",
    ],
    ids=["other-host", "localhost", "metadata-address", "userinfo"],
)
async def test_media_url_outside_twilio_is_never_fetched(
    runtime: Runtime,
    gateway: RunningGateway,
    fake_twilio: FakeTwilio,
    elsewhere: RecordingHost,
    url: str,
) -> None:
    serve_media(fake_twilio)
    await receive_mms(runtime, gateway.web_port, MediaUrl0=url.format(port=elsewhere.port))
    await fetch_once(runtime)
    bad, good = await attachments(runtime)
    assert bad.verdict == "blocked" and bad.sealed_id is None
    assert "media" in bad.reason
    assert good.verdict == "kept"
    assert elsewhere.hits == []


async def test_redirect_to_a_host_outside_twilio_is_not_followed(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio, elsewhere: RecordingHost
) -> None:
    serve_media(fake_twilio)
    fake_twilio.redirect_to = f"http://localhost:{elsewhere.port}/internal"
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    atts = await attachments(runtime)
    assert [a.verdict for a in atts] == ["blocked", "blocked"]
    assert "localhost" in atts[0].reason
    assert elsewhere.hits == []


async def test_slow_media_times_out_and_stays_pending(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    tune(runtime, "sms", media_timeout_seconds=0.2)
    serve_media(fake_twilio)
    fake_twilio.media_failures.extend([Failure(500, stall_seconds=1.0)])
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    first, second = await attachments(runtime)
    assert first.verdict == "pending" and "timed out" in first.reason
    assert second.verdict == "kept"


async def test_media_is_deleted_at_twilio_when_configured(
    runtime: Runtime, gateway: RunningGateway, fake_twilio: FakeTwilio
) -> None:
    serve_media(fake_twilio)
    await receive_mms(runtime, gateway.web_port)
    await fetch_once(runtime)
    assert fake_twilio.deleted == []  # off by default
    tune(runtime, "twilio", delete_media=True)
    await receive_mms_again(runtime, gateway.web_port)
    await fetch_once(runtime)
    assert sorted(fake_twilio.deleted) == sorted(MEDIA_SIDS)


async def receive_mms_again(rt: Runtime, port: int) -> None:
    sid = "MM" + "7" * 32
    assert (
        await post_twilio(port, {**MMS, "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid})
    )[0] == 200
    await processed(rt)


async def test_two_workers_fetch_each_media_once(pg_url: str, fake_twilio: FakeTwilio) -> None:
    from gateway.runtime import build_runtime
    from gateway.sealing import new_key_line, parse_keys
    from gateway.server import start_gateway
    from tests.conftest import make_settings

    settings = make_settings(
        pg_url,
        twilio={"api_base_url": fake_twilio.base_url, "media_hosts": "127.0.0.1"},
    )
    rt = build_runtime(settings, senders={}, keyring=parse_keys(new_key_line("t")))
    await rt.db.migrate()
    gw = await start_gateway(rt, relay=False)
    try:
        serve_media(fake_twilio)
        await receive_mms(rt, gw.web_port)
        workers = [MediaFetcher(rt.db, rt.keyring, settings) for _ in range(4)]
        claimed = await asyncio.gather(*(w.run_once() for w in workers))
        assert sum(claimed) == 1
        assert len(media_gets(fake_twilio)) == 2
        assert [a.verdict for a in await attachments(rt)] == ["kept", "kept"]
    finally:
        await gw.stop()


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("api.twilio.com", True),
        ("API.TWILIO.COM.", True),
        ("media.twiliocdn.com", True),
        ("s3.eu.twiliocdn.com", True),
        ("twiliocdn.com", False),
        ("eviltwiliocdn.com", False),
        ("api.twilio.com.evil.example", False),
        ("127.0.0.1", False),
    ],
)
def test_media_host_list(host: str, allowed: bool) -> None:
    patterns = ["api.twilio.com", "media.twiliocdn.com", "*.twiliocdn.com"]
    assert host_allowed(host, patterns) is allowed


async def test_serve_runs_the_media_worker_next_to_the_relay(
    runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    from gateway.server import start_gateway

    serve_media(fake_twilio)
    gw = await start_gateway(runtime, relay=True)
    try:
        assert gw.media_task is not None and not gw.media_task.done()
        await receive_mms(runtime, gw.web_port)
        for _ in range(200):  # the worker polls every 50 ms in tests
            if [a.verdict for a in await attachments(runtime)] == ["kept", "kept"]:
                break
            await asyncio.sleep(0.05)
        assert [a.verdict for a in await attachments(runtime)] == ["kept", "kept"]
    finally:
        await gw.stop()
    assert gw.media_task.done()
