"""The security tests run the gateway as deployed: Authentication-Results from our own MTA."""

from __future__ import annotations

import pytest

from gateway.settings import Settings
from tests.conftest import make_settings
from tests.email.conftest import AUTHSERV


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, email={"trusted_authserv_id": AUTHSERV})
