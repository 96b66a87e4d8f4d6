"""Caseworkers mark risk signals right or wrong; the marks are audited and exported."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, Message
from tests.api.world import TEAM_A, TEAM_B, make_world


async def test_marks_are_audited_and_exported_redacted(
    runtime: Runtime, gateway: RunningGateway, tmp_path: Path
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    missed, _ = await w.inbound(case, owner="none", text="står på [ADRESSE] nå. unnskyld")
    false_alarm, _ = await w.inbound(case, owner="none", text="jeg dør av latter")
    async with runtime.db.transaction() as tx:
        m = await tx.session.get(Message, false_alarm)
        assert m is not None
        m.classification = {**m.classification, "risks": [{"type": "SELF_HARM"}]}

    status, mark = await w.call(
        "POST",
        f"/api/v1/messages/{missed}/risk-feedback",
        worker,
        {"verdict": "missed_risk", "risk_type": "SELF_HARM", "note": "bru"},
    )
    assert status == 201, mark
    assert mark["verdict"] == "missed_risk" and mark["risk_types"] == ["SELF_HARM"]
    assert mark["raised"] == [] and mark["marked_by"] == worker.email
    status, mark = await w.call(
        "POST", f"/api/v1/messages/{false_alarm}/risk-feedback", worker, {"verdict": "not_a_risk"}
    )
    assert status == 201 and mark["risk_types"] == ["SELF_HARM"]

    async with runtime.db.read() as s:
        events = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action == "risk.feedback")))
            .scalars()
            .all()
        )
    assert [e.subject for e in events] == [f"message:{missed}", f"message:{false_alarm}"]

    out = tmp_path / "feedback.jsonl"
    env = {**os.environ, "CASE_GATEWAY_DATABASE_URL": runtime.settings.database.url}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "gateway.cli", "classify", "export-feedback", "--output", str(out)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(r["id"], r["risks"], r["verdict"]) for r in lines] == [
        (missed, ["SELF_HARM"], "missed_risk"),
        (false_alarm, [], "not_a_risk"),
    ]
    assert lines[0]["text"] == "står på [ADRESSE] nå. unnskyld"  # the redacted text only


async def test_bad_marks_are_refused_and_other_teams_do_not_exist(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, _ = await w.inbound(case, owner="none")
    url = f"/api/v1/messages/{mid}/risk-feedback"
    status, answer = await w.call("POST", url, worker, {"verdict": "missed_risk"})
    assert status == 422 and answer["error"]["code"] == "risk_type_required"
    status, answer = await w.call("POST", url, worker, {"verdict": "maybe"})
    assert status == 400
    status, _ = await w.call("POST", url, w.person("caseworker", TEAM_B), {"verdict": "not_a_risk"})
    assert status == 404


def test_export_names_the_problem_when_the_database_is_unreadable(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CASE_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/missing/none.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "classify", "export-feedback"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
