"""Metrics: names by Prometheus conventions, backlogs read from the database on scrape with a
short cache, sends counted by success apart from attempts, and /metrics kept off the public
port unless the operator gives it a token."""

from __future__ import annotations

import re

import aiohttp
import pytest
from prometheus_client import REGISTRY

from connectors.base import SendOutcome
from gateway.runtime import Runtime
from gateway.server import RunningGateway, start_gateway
from gateway.settings import Settings
from gateway.storage.models import Contact
from gateway.version import version
from tests.conftest import RecordingSender, make_settings
from tests.helpers import post_twilio, processed, seed_case, twilio_params
from tests.sms.conftest import load_fixtures

MMS = load_fixtures("inbound_")["mms_two_media"]["params"]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, metrics={"cache_seconds": 3600.0})


async def scrape(port: int, path: str = "/metrics", **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}{path}", headers=headers) as resp:
            return resp.status, await resp.text()


def sample(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_backlogs_latency_and_build_info_on_the_metrics_listener(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    assert (await post_twilio(gateway.web_port, twilio_params(body="Hei")))[0] == 200
    assert (await post_twilio(gateway.web_port, twilio_params(sid="SM" + "9" * 32, sender="+4740000001")))[0] == 200  # fmt: skip
    assert (await post_twilio(gateway.web_port, MMS))[0] == 200
    await processed(gateway)  # answered first, filed after
    async with runtime.db.read() as s:
        from sqlalchemy import select

        contact_id = (await s.execute(select(Contact.id))).scalar_one()
    await runtime.replies.reply(
        actor="t", author_id=None, case_ref="2026-0412", body="Takk", channel="sms",
        contact_id=contact_id,
    )  # fmt: skip
    assert gateway.metrics_port and gateway.metrics_port != gateway.web_port
    status, text = await scrape(gateway.metrics_port)
    assert status == 200
    assert sample(text, 'case_gateway_outbox_due{kind="send"}') == 1
    assert sample(text, 'case_gateway_outbox_due{kind="fetch_media"}') == 1
    assert sample(text, 'case_gateway_outbox_dead{kind="send"}') == 0
    assert sample(text, "case_gateway_media_pending") == 1
    assert sample(text, 'case_gateway_receipts_waiting{channel="sms"}') == 0  # all filed
    assert re.search(r'case_gateway_receipt_processing_seconds_count\{channel="sms"\} [1-9]', text)
    team_age = sample(text, 'case_gateway_queue_oldest_unclaimed_age_seconds{team="Team Nord"}')
    triage_age = sample(text, 'case_gateway_queue_oldest_unclaimed_age_seconds{team="triage"}')
    assert team_age is not None and team_age >= 0
    assert triage_age is not None and triage_age >= 0
    assert 'case_gateway_build_info{python="' in text and f'version="{version()}"' in text
    webhook = 'route="/webhooks/twilio/sms"'
    assert re.search(
        rf'case_gateway_http_request_duration_seconds_count\{{method="POST",{webhook}\}} [1-9]',
        text,
    ), "request latency histogram"
    assert re.search(r'case_gateway_intake_duration_seconds_count\{channel="sms"\} [1-9]', text)
    assert 'case_gateway_intake_duration_seconds_bucket{channel="sms",le="0.1"}' in text
    # No personal data in any label.
    assert "+47" not in text and "4791234567" not in text


async def test_backlog_gauges_are_cached_between_scrapes(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    assert gateway.metrics_port
    for _ in range(5):
        assert (await scrape(gateway.metrics_port))[0] == 200
    assert runtime.backlog.reads == 1
    runtime.backlog.cache_seconds = 0
    await scrape(gateway.metrics_port)
    await scrape(gateway.metrics_port)
    assert runtime.backlog.reads == 3


async def test_messages_sent_counts_successes_and_attempts_separately(
    runtime: Runtime, gateway: RunningGateway, sms_sender: RecordingSender
) -> None:
    await seed_case(runtime)
    async with runtime.db.read() as s:
        from sqlalchemy import select

        contact_id = (await s.execute(select(Contact.id))).scalar_one()

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    sent0 = value("case_gateway_messages_sent_total", channel="sms")
    retry0 = value("case_gateway_send_attempts_total", channel="sms", outcome="retry")
    ok0 = value("case_gateway_send_attempts_total", channel="sms", outcome="sent")
    sms_sender.script = [SendOutcome(False, error_text="temporary")]
    await runtime.replies.reply(
        actor="t", author_id=None, case_ref="2026-0412", body="Takk", channel="sms",
        contact_id=contact_id,
    )  # fmt: skip
    assert await runtime.relay.run_once() == 1  # fails, will retry (backoff 0 in tests)
    assert value("case_gateway_messages_sent_total", channel="sms") == sent0
    assert value("case_gateway_send_attempts_total", channel="sms", outcome="retry") == retry0 + 1
    assert await runtime.relay.run_once() == 1
    assert value("case_gateway_messages_sent_total", channel="sms") == sent0 + 1
    assert value("case_gateway_send_attempts_total", channel="sms", outcome="sent") == ok0 + 1


async def test_public_port_serves_metrics_only_with_the_token(sqlite_url: str) -> None:
    from gateway.runtime import build_runtime
    from gateway.sealing import new_key_line, parse_keys

    for token in ("", "s3cret-metrics-token"):
        rt = build_runtime(
            make_settings(sqlite_url, metrics={"enabled": False, "token": token}),
            senders={"sms": RecordingSender(), "email": RecordingSender()},
            keyring=parse_keys(new_key_line("test")),
        )
        await rt.db.migrate()
        gw = await start_gateway(rt, relay=False)
        try:
            assert gw.metrics_port is None  # the listener is off
            status, _ = await scrape(gw.web_port)
            if not token:
                assert status == 404
                continue
            assert (await scrape(gw.web_port))[0] == 401
            assert (await scrape(gw.web_port, Authorization="Bearer wrong"))[0] == 401
            status, text = await scrape(gw.web_port, Authorization=f"Bearer {token}")
            assert status == 200 and "case_gateway_build_info" in text
        finally:
            await gw.stop()
