"""The pages over plain HTTP use the gateway fixture with an http public URL (so the session
cookie is not Secure and a plain-HTTP client sends it back, as a browser on 127.0.0.1 would)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.settings import Settings
from tests.api.world import ROLES, TEAM_A, TEAM_B, World
from tests.conftest import make_settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, web={"public_url": "http://127.0.0.1"})


@pytest.fixture
async def world(runtime: Runtime, gateway: RunningGateway) -> AsyncIterator[World]:
    w = World(runtime, gateway.web_port)
    for team in (TEAM_A, TEAM_B):
        for role in ROLES:
            w.staff[(role, team)] = await w.add_person(role, team)
    yield w
