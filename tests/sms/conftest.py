"""SMS tests run the gateway against a fake Twilio REST API on 127.0.0.1.

The real ``TwilioSmsSender`` is the relay's SMS sender, pointed at the fake through
``twilio.api_base_url``; MMS media URLs on api.twilio.com are routed there the same way, and
127.0.0.1 is added to the media hosts only here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors.twilio_rest import TwilioSmsSender
from gateway.settings import Settings
from tests.conftest import ACCOUNT_SID, TWILIO_TOKEN, make_settings
from tests.fakes.twilio_api import FakeTwilio

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"


def load_fixtures(prefix: str) -> dict[str, dict[str, Any]]:
    return {
        p.stem.removeprefix(prefix): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(FIXTURES.glob(f"{prefix}*.json"))
    }


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(ACCOUNT_SID, TWILIO_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(db_url: str, fake_twilio: FakeTwilio) -> Settings:
    return make_settings(
        db_url,
        twilio={
            "api_base_url": fake_twilio.base_url,
            "media_hosts": "api.twilio.com,*.twiliocdn.com,127.0.0.1",
            "max_per_second": 1000.0,
        },
        sms={"media_timeout_seconds": 5.0},
    )


@pytest.fixture
async def sms_sender(settings: Settings) -> AsyncIterator[TwilioSmsSender]:
    sender = TwilioSmsSender(settings)
    yield sender
    await sender.close()
