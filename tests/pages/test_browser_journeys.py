"""The caseworker pages in Debian's Chromium against the real server on 127.0.0.1.

Each journey signs in through the login form, as a person would. Screenshots of every page go
to var/screenshots/ (not committed), so anyone can look at what caseworkers see.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.world import TEAM_A, TEAM_B
from tests.pages.live import LiveGateway
from tests.pages.support import PASSWORD

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
HOSTILE = (
    'Se her <script>window.__pwned = 1</script> og <img src=x onerror="window.__pwned = 2"> '
    '<a href="javascript:window.__pwned = 3">klikk</a>'
)
_sids = itertools.count(1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[LiveGateway]:
    gateway = LiveGateway(tmp_path_factory.mktemp("pages"))
    yield gateway
    gateway.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="nb-NO")
    p = context.new_page()
    p.set_default_timeout(15000)
    yield p
    context.close()


def _sid() -> str:
    return f"SM{next(_sids):032d}"


def sign_in_with_keyboard(page: Any, live: LiveGateway, email: str) -> None:
    """Only the keyboard: Tab to the fields, type, Enter."""
    page.goto(live.url + "/login")
    page.keyboard.press("Tab")  # the skip link comes first
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def check_accessibility(page: Any, name: str, screenshots: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


def test_caseworker_sees_a_new_sms_arrive_opens_the_case_and_replies(
    live: LiveGateway, page: Any, screenshots: Path
) -> None:
    worker = live.person("caseworker")
    case = live.run(live.world.case(TEAM_A, worker))
    page.goto(live.url + "/login")
    check_accessibility(page, "login", screenshots)
    sign_in_with_keyboard(page, live, worker.email)
    assert page.url.endswith("/queue")
    page.evaluate("window.__sameDocument = true")
    assert live.sms_from(case.phone, "Hei, kan du ringe meg i dag?", _sid()) == 200
    row = page.locator("#queue-rows tr", has_text="kan du ringe meg")
    row.wait_for()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    check_accessibility(page, "queue", screenshots)

    row.get_by_role("link", name=case.ref).click()
    page.wait_for_url(f"**/cases/{case.ref}**")
    check_accessibility(page, "case", screenshots)

    counter = page.locator("#sms-counter")
    page.locator("#body").focus()
    page.keyboard.type("Hei! Jeg ringer deg klokka 14.")
    expect(counter).to_have_attribute("data-segments", "1")
    assert "GSM-7" in counter.inner_text()
    page.keyboard.type(" Takk for at du tok kontakt, vi finner en tid som passer." * 3)
    expect(counter).to_have_attribute("data-segments", "2")
    page.keyboard.type(" 🙂")
    expect(counter).to_have_attribute("data-encoding", "UCS-2")

    page.keyboard.press("Tab")  # from the message to "Check and count" ...
    page.keyboard.press("Tab")  # ... to "Send reply"
    assert page.evaluate("document.activeElement.value") == "send"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Svaret ditt står i kø for sending." in page.inner_text("main")
    sent = page.locator("article.just-sent")
    assert "venter på sending" in sent.inner_text()
    check_accessibility(page, "case-after-reply", screenshots)


def test_reveal_with_a_reason_shows_the_original_once(
    live: LiveGateway, page: Any, screenshots: Path
) -> None:
    worker = live.person("caseworker")
    case = live.run(live.world.case(TEAM_A, worker))
    live.run(live.world.inbound(case, owner_user=worker, text="Ring meg på [PHONE]"))
    sign_in_with_keyboard(page, live, worker.email)
    page.goto(f"{live.url}/cases/{case.ref}")
    page.get_by_text("Vis originalen").first.click()
    page.get_by_label("Hvorfor trenger du å se originalen?").fill("Må ringe mor tilbake")
    with page.expect_navigation():
        page.get_by_role("button", name="Vis originalen").click()
    assert page.locator("#revealed-text").inner_text() == "Ring meg på [PHONE]"
    check_accessibility(page, "revealed", screenshots)


def test_hostile_message_is_shown_as_text_and_nothing_runs(
    live: LiveGateway, page: Any, screenshots: Path
) -> None:
    worker = live.person("caseworker")
    case = live.run(live.world.case(TEAM_A, worker))
    live.run(live.world.inbound(case, owner_user=worker, text=HOSTILE))
    sign_in_with_keyboard(page, live, worker.email)
    for path in ("/queue", f"/cases/{case.ref}"):
        page.goto(live.url + path)
        page.get_by_text("<script>window.__pwned = 1</script>", exact=False).first.wait_for()
        assert page.locator("main img").count() == 0
        assert page.locator('main a[href^="javascript:"]').count() == 0
        assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(screenshots / "hostile-text.png"), full_page=True)


def test_team_lead_claims_from_the_team_queue_and_triages_an_unknown_sender(
    live: LiveGateway, page: Any, screenshots: Path
) -> None:
    lead = live.person("team_lead")
    case = live.run(live.world.case(TEAM_A, None))
    live.run(live.world.inbound(case, owner="team", team=TEAM_A, text="Til teamet: ny adresse"))
    sign_in_with_keyboard(page, live, lead.email)
    page.goto(live.url + "/queue/team")
    check_accessibility(page, "team-queue", screenshots)
    row = page.locator("#queue-rows tr", has_text="Til teamet: ny adresse")
    with page.expect_navigation():
        row.get_by_role("button", name="Ta").click()
    assert "Tatt" in page.locator("#queue-rows tr", has_text="Til teamet: ny adresse").inner_text()

    page.goto(live.url + "/duty")
    check_accessibility(page, "duty", screenshots)

    assert live.sms_from("+4790011223", "Hei, det er mormor til Emil", _sid()) == 200
    page.goto(live.url + "/triage")
    row = page.locator("#queue-rows tr", has_text="mormor til Emil")
    row.wait_for()
    check_accessibility(page, "triage", screenshots)
    row.locator("summary", has_text="Knytt til sak").click()
    row.get_by_label("Saksnummer").fill(case.ref)
    row.get_by_label("Begrunnelse").first.fill("Mormor, bekreftet på telefon")
    row.get_by_label("Legg avsenderen til saken som ubekreftet kontakt").check()
    row.get_by_label("Kontaktens navn").fill("Mormor")
    with page.expect_navigation():
        row.get_by_role("button", name="Knytt til sak").click()
    assert page.locator("#queue-rows tr", has_text="mormor til Emil").count() == 0
    page.goto(f"{live.url}/cases/{case.ref}")
    assert "Mormor" in page.inner_text("main")
    assert "mormor til Emil" in page.inner_text("main")


def test_auditor_verifies_the_chain_and_admin_page_is_accessible(
    live: LiveGateway, page: Any, screenshots: Path
) -> None:
    sign_in_with_keyboard(page, live, live.person("auditor").email)
    page.goto(live.url + "/audit")
    with page.expect_navigation():
        page.get_by_role("button", name="Kontroller kjeden").click()
    assert "Revisjonskjeden er hel" in page.locator("#chain-verdict").inner_text()
    check_accessibility(page, "audit", screenshots)
    page.get_by_role("button", name="Logg ut").click()
    page.wait_for_url("**/login**")

    sign_in_with_keyboard(page, live, live.person("admin").email)
    page.goto(live.url + "/admin")
    check_accessibility(page, "admin", screenshots)
    page.goto(live.url + "/account")
    with page.expect_navigation():
        page.get_by_role("button", name="Lag en API-nøkkel").click()
    assert page.locator("#new-token").inner_text().startswith("cgw_")
    check_accessibility(page, "account", screenshots)


def test_a_caseworker_of_another_team_gets_404_on_the_case(
    live: LiveGateway, page: Any, screenshots: Path
) -> None:
    case = live.run(live.world.case(TEAM_A, live.person("caseworker")))
    sign_in_with_keyboard(page, live, live.person("caseworker", TEAM_B).email)
    response = page.goto(f"{live.url}/cases/{case.ref}")
    assert response is not None and response.status == 404
    assert case.ref not in page.content()
    check_accessibility(page, "not-found", screenshots)
