"""What an auditor and an operator see: reveals, exports and queue listings in the access log,
a reveal whose sealing key is gone answered clearly (and logged without content), and the same
error codes on every path."""

from __future__ import annotations

import structlog
from structlog.testing import capture_logs

from gateway.runtime import Runtime
from gateway.sealing import new_key_line, parse_keys
from gateway.server import RunningGateway
from tests.api.world import TEAM_A, make_world


async def test_reveals_exports_and_queue_listings_are_in_the_access_log(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, auditor = w.person("caseworker", TEAM_A), w.person("auditor", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, _ = await w.inbound(case, owner="user", owner_user=worker)
    status, page = await w.call("GET", "/api/v1/queue", worker)
    assert status == 200 and len(page["items"]) == 1
    status, _ = await w.call(
        "POST", f"/api/v1/messages/{mid}/reveal", worker, {"reason": "journalføring av vedtak"}
    )
    assert status == 200
    assert (await w.call("GET", f"/api/v1/cases/{case.ref}/export", worker))[0] == 200
    status, log = await w.call("GET", f"/api/v1/access-log?case={case.ref}", auditor)
    assert status == 200
    assert [(e["actor"], e["action"], e["subject"]) for e in log["items"]] == [
        (worker.email, "queue.listed", "queue:mine"),
        (worker.email, "original.revealed", f"message:{mid}"),
        (worker.email, "case.exported", f"case:{case.case_id}"),
    ]
    # An empty listing showed nothing, so it is not an access.
    other = w.person("caseworker", "Team Sør")
    assert (await w.call("GET", "/api/v1/queue", other))[0] == 200
    _, everything = await w.call("GET", f"/api/v1/access-log?actor={other.email}", auditor)
    assert everything["items"] == []


async def test_reveal_with_a_missing_key_is_a_clear_error_and_logged(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, _ = await w.inbound(case, owner="none", text="Hemmelig innhold her")
    sealed_with = runtime.keyring.active_id
    runtime.keyring = parse_keys(new_key_line("another"))  # the key file lost the old key
    try:
        with capture_logs() as logs:
            status, answer = await w.call(
                "POST", f"/api/v1/messages/{mid}/reveal", worker, {"reason": "journalføring"}
            )
    finally:
        structlog.reset_defaults()
    assert status == 503 and answer["error"]["code"] == "original_unavailable"
    assert sealed_with in answer["error"]["message"] and "operator" in answer["error"]["message"]
    problem = [e for e in logs if e["event"] == "reveal.sealing_key_problem"]
    assert problem and problem[0]["key_id"] == sealed_with and problem[0]["problem"] == "missing"
    assert problem[0]["log_level"] == "error"
    assert "Hemmelig" not in repr(logs)


async def test_unknown_paths_answer_not_found_like_the_api(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    status, answer = await w.call("GET", "/api/v1/no-such-thing", worker)
    assert status == 404 and answer["error"]["code"] == "not_found"
    status, answer = await w.call("GET", "/api/v1/messages/999999", worker)
    assert status == 404 and answer["error"]["code"] == "not_found"
