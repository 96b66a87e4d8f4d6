"""Export of a case's full correspondence: JSON and printable HTML, by API and CLI, audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import main as cli_main
from gateway.export import digest_of
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent
from tests.api.world import TEAM_A, TEAM_B, World, make_world


async def _correspondence(w: World) -> tuple[str, int, int]:
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, item = await w.inbound(
        case,
        owner="user",
        owner_user=worker,
        team=TEAM_A,
        text="Hei <script>alert(1)</script> [FØDSELSNUMMER]",
        attachment=b"%PDF-1.4",
    )
    status, reply = await w.call(
        "POST",
        f"/api/v1/cases/{case.ref}/replies",
        worker,
        {"body": "Takk, vi ringer.", "queue_item_id": item},
    )
    assert status == 202
    await w.rt.relay.run_once()
    status, _ = await w.call(
        "POST", f"/api/v1/queue/{item}/journalled", worker, {"journal_ref": "J-77"}
    )
    assert status == 200
    return case.ref, mid, reply["message_id"]


async def test_json_export_is_the_complete_record_with_audit_references(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    ref, mid, out_id = await _correspondence(w)
    auditor = w.person("auditor", TEAM_B)  # auditors are not team-scoped
    status, doc = await w.call("GET", f"/api/v1/cases/{ref}/export?format=json", auditor)
    assert status == 200
    assert doc["case"]["ref"] == ref and doc["digest"] == digest_of(doc)
    inbound, outbound = doc["messages"]
    assert (inbound["id"], inbound["direction"], outbound["id"], outbound["direction"]) == (
        mid,
        "in",
        out_id,
        "out",
    )
    assert "01010750160" not in json.dumps(doc)
    assert inbound["attachments"][0]["verdict"] == "kept" and len(inbound["original_sha256"]) == 64
    assert outbound["delivery"]["state"] == "sent" and outbound["status"] == "sent"
    assert outbound["author"].startswith("caseworker")
    assert {"labels", "entities", "risks", "match_rule"} <= set(inbound["classification"])
    assert doc["queue"][0]["journal_ref"] == "J-77"
    async with runtime.db.read() as s:
        chain = {e.seq: e.hash for e in (await s.execute(select(AuditEvent))).scalars()}
    refs = outbound["audit"] + doc["audit"]
    assert refs and all(chain[r["seq"]] == r["hash"] for r in refs)
    assert "message.reply_queued" in [r["action"] for r in outbound["audit"]]
    assert {"queue.answered", "queue.journalled"} <= {r["action"] for r in doc["audit"]}
    async with runtime.db.read() as s:
        exported = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "case.exported"))
        ).scalar_one()
    assert exported.actor == auditor.email and exported.details["digest"] == doc["digest"]
    status, answer = await w.call("GET", f"/api/v1/cases/{ref}/export?format=pdf", auditor)
    assert status == 400 and "format" in answer["error"]["message"]


async def test_html_export_is_printable_and_escaped(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    ref, _mid, _out = await _correspondence(w)
    status, page = await w.call(
        "GET", f"/api/v1/cases/{ref}/export?format=html", w.person("caseworker", TEAM_A)
    )
    assert status == 200 and isinstance(page, str)
    assert page.startswith("<!doctype html>") and "@media print" in page
    # In the service's language (nb by default).
    assert '<html lang="nb">' in page and f"Sak {ref}" in page
    assert "Takk, vi ringer." in page and "J-77" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Korrespondanse (2 meldinger)" in page and "Correspondence" not in page


async def test_cli_export_writes_json_and_html(
    runtime: Runtime, gateway: RunningGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await make_world(runtime, gateway.web_port)
    ref, _mid, _out = await _correspondence(w)
    monkeypatch.setenv("CASE_GATEWAY_DATABASE_URL", runtime.settings.database.url)

    (tmp_path / "none.toml").write_text("")  # an empty configuration: defaults + environment

    async def cli(*args: str) -> int:
        # The CLI runs its own event loop: run it in a thread next to the test's loop.
        return await asyncio.to_thread(
            cli_main, ["--config", str(tmp_path / "none.toml"), "export", *args]
        )

    assert await cli(ref, "--format", "json", "--output", str(tmp_path / "c.json")) == 0
    assert await cli(ref, "--format", "html", "--output", str(tmp_path / "c.html")) == 0
    assert await cli("1999-0000") == 2
    doc = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert (
        doc["exported_by"].startswith("cli:")
        and len(doc["messages"]) == 2
        and doc["digest"] == digest_of(doc)
    )
    assert "<!doctype html>" in (tmp_path / "c.html").read_text(encoding="utf-8")
    # English stays available for a service or a reader that wants it.
    assert (
        await cli(ref, "--format", "html", "--language", "en", "--output", str(tmp_path / "e.html"))
        == 0
    )
    english = (tmp_path / "e.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "Correspondence (2 messages)" in english
