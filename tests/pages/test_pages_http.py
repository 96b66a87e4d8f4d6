"""The pages over plain HTTP (no JavaScript): scope, escaping, reveal, reply, triage, audit,
admin, and the language catalogue."""

from __future__ import annotations

import re
import string

import pytest
from sqlalchemy import select

from gateway.core.sms import count_segments
from gateway.storage.models import (
    AccessLogEntry,
    AuditEvent,
    Message,
    OutboxJob,
    QueueItem,
    RiskFeedback,
)
from gateway.web.pages.texts import LANGUAGES, TEXTS
from tests.api.world import TEAM_A, TEAM_B, World
from tests.helpers import api
from tests.pages.support import signed_in

HOSTILE = (
    '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned=2"> '
    '<a href="javascript:window.__pwned=3">klikk</a>'
)

# Strings whose SMS count the composer shows: GSM-7, extension characters, UCS-2, emoji.
SMS_TABLE = [
    "",
    "Hei",
    "Hei! Vi ringer deg i morgen kl. 10.",
    "a" * 160,
    "a" * 161,
    "Pris: 100€ {ca} [ok]",
    "ÆØÅ æøå",
    "Hej, välkommen till mötet på tisdag!",
    "Ça coûte 5 €",
    "Takk 🙂",
    "ž" * 70,
    "ž" * 71,
]


def test_every_text_exists_in_every_language_with_the_same_placeholders() -> None:
    keys = set(TEXTS["en"])
    fields = string.Formatter()
    for lang in LANGUAGES:
        assert set(TEXTS[lang]) == keys, lang
        for key in keys:
            names = {f for _, f, _, _ in fields.parse(TEXTS[lang][key]) if f}
            assert names == {f for _, f, _, _ in fields.parse(TEXTS["en"][key]) if f}, (lang, key)


async def test_a_caseworker_of_another_team_gets_404_and_roles_see_only_their_pages(
    world: World,
) -> None:
    case = await world.case(TEAM_A, world.person("caseworker"))
    other = await signed_in(world, world.person("caseworker", TEAM_B))
    try:
        status, html, _ = await other.get(f"/cases/{case.ref}")
        assert status == 404 and case.ref not in html
        for path in ("/audit", "/admin", "/triage", "/queue/team", "/duty"):
            assert (await other.get(path))[0] == 404, path
    finally:
        await other.close()
    auditor = await signed_in(world, world.person("auditor"))
    try:
        assert (await auditor.get("/audit"))[0] == 200
        assert (await auditor.get(f"/cases/{case.ref}"))[0] == 404
        assert (await auditor.get("/queue"))[0] == 404
    finally:
        await auditor.close()


async def test_hostile_text_is_shown_as_text_in_the_queue_and_on_the_case(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    await world.inbound(case, owner_user=worker, text=HOSTILE)
    client = await signed_in(world, worker)
    try:
        for path in ("/queue", f"/cases/{case.ref}"):
            status, html, _ = await client.get(path)
            assert status == 200
            assert "<script>window" not in html and "<img src=x" not in html
            assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
            assert 'href="javascript:' not in html
    finally:
        await client.close()


async def test_reveal_needs_a_reason_is_audited_logged_and_never_cached(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    message_id, _ = await world.inbound(case, owner_user=worker, text="Ring [PHONE]")
    client = await signed_in(world, worker)
    try:
        await client.get(f"/cases/{case.ref}")
        path = f"/cases/{case.ref}/messages/{message_id}/reveal"
        status, html, _ = await client.post(path, {"reason": "no"})
        assert status == 400 and 'href="#reason-' in html
        status, html, resp = await client.post(path, {"reason": "Ringe tilbake til mor"})
        assert status == 200, html
        assert resp.headers["Cache-Control"] == "no-store"
        assert 'id="revealed-text">Ring [PHONE]</div>' in html
        async with world.rt.db.read() as s:
            event = (
                await s.execute(select(AuditEvent).where(AuditEvent.action == "original.revealed"))
            ).scalar_one()
            reads = (await s.execute(select(AccessLogEntry.action))).scalars().all()
        assert event.details["reason"] == "Ringe tilbake til mor"
        assert "case.thread" in reads and "original.revealed" in reads
    finally:
        await client.close()


async def test_reply_dry_run_then_send_shows_the_outbox_state_and_closes_the_item(
    world: World,
) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    _, item = await world.inbound(case, owner_user=worker)
    client = await signed_in(world, worker)
    try:
        status, html, _ = await client.get(f"/cases/{case.ref}?item={item}")
        assert status == 200
        form = {"body": "Hei! Vi ringer i morgen.", "channel": "sms", "queue_item_id": str(item)}
        status, html, _ = await client.post(
            f"/cases/{case.ref}/reply", {**form, "action": "preview"}
        )
        assert status == 200 and 'id="preview"' in html and "GSM-7" in html
        async with world.rt.db.read() as s:
            assert not (await s.execute(select(OutboxJob))).first()
        status, _, resp = await client.post(f"/cases/{case.ref}/reply", {**form, "action": "send"})
        assert status == 303
        status, html, _ = await client.get(resp.headers["Location"].split("#")[0])
        assert "venter på sending" in html  # the outbox state, in the service's language
        async with world.rt.db.read() as s:
            q = await s.get(QueueItem, item)
            out = (await s.execute(select(Message).where(Message.direction == "out"))).scalar_one()
        assert q is not None and q.state == "done" and out.redacted_text
        # An empty reply is refused with the error linked to the field.
        status, html, _ = await client.post(
            f"/cases/{case.ref}/reply", {"body": " ", "action": "send"}
        )
        assert status == 400 and 'href="#body"' in html
    finally:
        await client.close()


async def test_a_channel_without_consent_is_closed_with_the_reason(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker, consent=False)
    await world.inbound(case, owner_user=worker)
    client = await signed_in(world, worker)
    try:
        status, html, _ = await client.get(f"/cases/{case.ref}")
        assert re.search(r'id="channel-sms"[^>]*disabled', html)
        assert "SMS: mangler samtykke" in html
        status, html, _ = await client.post(
            f"/cases/{case.ref}/reply", {"body": "Hei", "channel": "sms", "action": "send"}
        )
        assert status == 409 and "not consented" in html
    finally:
        await client.close()


async def test_the_composer_counts_like_the_core(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    client = await signed_in(world, worker)
    try:
        for body in SMS_TABLE:
            async with client.http.post(
                f"{client.base}/cases/{case.ref}/sms-count",
                data={"body": body},
                headers={"X-CSRF-Token": client.csrf},
            ) as resp:
                assert resp.status == 200
                got = await resp.json()
            want = count_segments(body)
            assert (got["count"], got["encoding"], got["units"]) == (
                want.count,
                want.encoding,
                want.units,
            ), body
        async with client.http.post(
            f"{client.base}/cases/{case.ref}/sms-count", data={"body": "x"}
        ) as resp:
            assert resp.status == 403
    finally:
        await client.close()


async def test_triage_links_an_unknown_sender_to_a_case_with_a_new_contact(world: World) -> None:
    lead = world.person("team_lead")
    case = await world.case(TEAM_A, world.person("caseworker"))
    message_id, _ = await world.inbound(None, owner="triage", sender="+4799887766")
    client = await signed_in(world, lead)
    try:
        status, html, _ = await client.get("/triage")
        assert status == 200 and f"/triage/{message_id}/link" in html
        status, html, _ = await client.post(
            f"/triage/{message_id}/link",
            {
                "case_ref": case.ref,
                "reason": "Mor fra ny telefon",
                "add_contact": "1",
                "contact_name": "Mor",
            },
        )
        assert status == 303, html
        async with world.rt.db.read() as s:
            m = await s.get(Message, message_id)
        assert m is not None and m.case_id == case.case_id
        status, html, _ = await client.post(
            f"/triage/{message_id}/link", {"case_ref": case.ref, "reason": "igjen"}
        )
        assert status == 409
    finally:
        await client.close()


async def test_auditor_verifies_the_chain_and_admin_sees_no_content(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    await world.inbound(case, owner_user=worker, text="Hemmelig innhold")
    auditor = await signed_in(world, world.person("auditor"))
    try:
        status, html, _ = await auditor.get("/audit?verify=1")
        assert status == 200 and 'id="chain-verdict"' in html
        assert "Revisjonskjeden er hel" in html
    finally:
        await auditor.close()
    admin = await signed_in(world, world.person("admin"))
    try:
        status, html, _ = await admin.get("/admin")
        assert status == 200 and case.ref in html and "Hemmelig innhold" not in html
        status, _, _ = await admin.post(f"/admin/users/{worker.id}/deactivate", {})
        assert status == 409  # still the caseworker of an open case: the API's rule
        status, html, _ = await admin.post(
            f"/admin/users/{world.person('admin').id}/deactivate", {}
        )
        assert status == 409
    finally:
        await admin.close()


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_a_person_reads_the_pages_in_their_language(world: World, language: str) -> None:
    client = await signed_in(world, world.person("caseworker"))
    try:
        status, _, _ = await client.post("/language", {"language": language, "back": "/queue"})
        assert status == 303
        status, html, _ = await client.get("/queue")
        assert f'<html lang="{language}">' in html
        assert TEXTS[language]["nav_queue"] in html
    finally:
        await client.close()


async def test_an_item_is_given_to_a_colleague_or_the_team_queue(world: World) -> None:
    worker = world.person("caseworker")
    colleague = await world.add_person("caseworker", TEAM_A, name="Kollega Kari")
    case = await world.case(TEAM_A, worker)
    _, first = await world.inbound(case, owner_user=worker)
    _, second = await world.inbound(case, owner_user=worker)
    client = await signed_in(world, worker)
    try:
        status, html, _ = await client.get("/queue")
        assert "Kollega Kari" in html
        assert world.person("caseworker", TEAM_B).email not in html
        status, _, _ = await client.post(
            f"/queue/items/{first}/reassign",
            {"to": str(colleague.id), "reason": "Kari har saken i dag", "back": "/queue"},
        )
        assert status == 303
        status, _, _ = await client.post(
            f"/queue/items/{second}/reassign", {"to": "", "reason": "Ferie", "back": "/queue"}
        )
        assert status == 303
        async with world.rt.db.read() as s:
            a, b = await s.get(QueueItem, first), await s.get(QueueItem, second)
        assert a is not None and a.owner_user_id == colleague.id
        assert b is not None and b.owner_kind == "team"
        status, html, _ = await client.post(
            f"/queue/items/{second}/reassign", {"to": "", "reason": "", "back": "/queue"}
        )
        assert status in (400, 404)
    finally:
        await client.close()


async def test_the_practices_reply_templates_fill_the_composer(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gateway.core.templates import load_templates, read_template_dir
    from gateway.practice import BUILTIN_TEMPLATES

    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "reply_call_back.txt").write_text(
        "Hei! Vi ringer deg i dag. Haster det, ring {emergency_numbers}. Hilsen {service_name}"
    )
    (tmp_path / "nb" / "reply_broken.txt").write_text("Hei {no_such_value}")
    files = read_template_dir(str(BUILTIN_TEMPLATES)) | read_template_dir(str(tmp_path))
    assert world.rt.practice is not None
    world.rt.practice.templates = load_templates(files)
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    await world.inbound(case, owner_user=worker)
    client = await signed_in(world, worker)
    try:
        status, html, _ = await client.get(f"/cases/{case.ref}")
        assert 'value="reply_call_back"' in html and "reply_broken" not in html
        status, html, _ = await client.post(
            f"/cases/{case.ref}/reply",
            {"body": "", "template": "reply_call_back", "action": "template"},
        )
        assert status == 200
        assert (
            "Hei! Vi ringer deg i dag. Haster det, ring 112. Hilsen Barneverntjenesten</textarea>"
            in html
        )
    finally:
        await client.close()


async def test_a_caseworker_marks_a_missed_risk_on_the_case_page(world: World) -> None:
    worker = world.person("caseworker")
    case = await world.case(TEAM_A, worker)
    message_id, _ = await world.inbound(case, owner_user=worker, text="Jeg orker ikke mer")
    client = await signed_in(world, worker)
    try:
        status, html, _ = await client.get(f"/cases/{case.ref}")
        assert status == 200 and f"/messages/{message_id}/risk-feedback" in html
        path = f"/cases/{case.ref}/messages/{message_id}/risk-feedback"
        status, _, _ = await client.post(
            path, {"verdict": "missed_risk", "risk_type": "SELF_HARM"}, csrf=False
        )
        assert status == 403  # a form without its CSRF token changes nothing
        status, _, resp = await client.post(
            path, {"verdict": "missed_risk", "risk_type": "SELF_HARM"}
        )
        assert status == 303 and "feedback=1" in resp.headers["Location"]
        status, html, _ = await client.get(f"/cases/{case.ref}?feedback=1")
        assert status == 200 and 'role="status"' in html
        async with world.rt.db.read() as s:
            marks = (await s.execute(select(RiskFeedback))).scalars().all()
            events = (
                (await s.execute(select(AuditEvent).where(AuditEvent.action == "risk.feedback")))
                .scalars()
                .all()
            )
            priority = (
                await s.execute(select(Message.priority).where(Message.id == message_id))
            ).scalar_one()
        assert [(m.message_id, m.verdict, m.risk_types) for m in marks] == [
            (message_id, "missed_risk", ["SELF_HARM"])
        ]
        assert len(events) == 1 and events[0].actor == worker.email
        assert priority == "normal"  # feedback never changes routing
    finally:
        await client.close()


async def test_a_caseworker_makes_their_own_api_token_and_an_admin_cannot(world: World) -> None:
    worker = world.person("caseworker")
    client = await signed_in(world, worker)
    admin = await signed_in(world, world.person("admin"))
    try:
        status, html, _ = await client.get("/account")
        assert status == 200 and 'action="/account/token"' in html
        status, html, _ = await client.post("/account/token", {})
        assert status == 200, html
        token = re.search(r'id="new-token">(cgw_[^<]+)<', html)
        assert token is not None
        status, _ = await api(world.port, "GET", "/api/v1/queue", token.group(1))
        assert status == 200  # the token works for the API, as this person
        await admin.get("/admin")
        status, html, _ = await admin.post(f"/admin/users/{worker.id}/token", {})
        assert status == 403 and 'id="new-token"' not in html
        async with world.rt.db.read() as s:
            made = (
                (await s.execute(select(AuditEvent).where(AuditEvent.action == "token.created")))
                .scalars()
                .all()
            )
        mine = [e for e in made if e.subject == f"user:{worker.id}" and e.details["via"] == "api"]
        assert [e.actor for e in mine] == [worker.email]
    finally:
        await client.close()
        await admin.close()
