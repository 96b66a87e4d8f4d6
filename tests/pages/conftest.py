"""The pages over plain HTTP use the gateway fixture with an http public URL (so the session
cookie is not Secure and a plain-HTTP client sends it back, as a browser on 127.0.0.1 would)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.settings import Settings
from tests.api.world import ROLES, TEAM_A, TEAM_B, World
from tests.conftest import make_settings, unavailable


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, one per test module (never a downloaded browser).

    Not one per session: the synchronous Playwright API keeps its own event loop running while
    it is open, and the asyncio tests that follow a browser module need the loop to themselves."""
    if not os.path.exists(CHROMIUM):
        unavailable("browser", f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable("browser", f"playwright is not installed ({exc})")
        raise
    pw = sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
