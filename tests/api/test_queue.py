"""The queue: filters, cursor pagination, claim -> done -> journalled, reassignment, absence."""

from __future__ import annotations

from sqlalchemy import select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, QueueItem
from tests.api.world import TEAM_A, TEAM_B, make_world
from tests.helpers import post_twilio, processed, twilio_params


async def test_filters_and_cursor_pagination_urgent_first(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    ids = []
    for i in range(7):
        _, item = await w.inbound(
            case,
            owner="user",
            owner_user=worker,
            team=TEAM_A,
            urgent=i in (2, 5),
            channel="email" if i % 2 else "sms",
        )
        ids.append(item)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        q = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page = await w.call("GET", f"/api/v1/queue{q}", worker)
        assert status == 200
        seen += [it["id"] for it in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [ids[2], ids[5], ids[0], ids[1], ids[3], ids[4], ids[6]]
    _, urgent = await w.call("GET", "/api/v1/queue?urgent=true", worker)
    assert [it["id"] for it in urgent["items"]] == [ids[2], ids[5]]
    _, mail = await w.call("GET", "/api/v1/queue?channel=email", worker)
    assert [it["id"] for it in mail["items"]] == [ids[5], ids[1], ids[3]]
    assert all(it["message"]["channel"] == "email" for it in mail["items"])
    status, body = await w.call("GET", "/api/v1/queue?state=lost", worker)
    assert status == 400 and "state" in body["error"]["message"]
    status, body = await w.call("GET", "/api/v1/queue?cursor=%%%", worker)
    assert status == 400 and body["error"]["code"] == "bad_cursor"


async def test_caseworker_sees_own_items_team_lead_also_team_duty_and_triage(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, lead = w.person("caseworker", TEAM_A), w.person("team_lead", TEAM_A)
    case = await w.case(TEAM_A, worker)
    other = await w.case(TEAM_B, w.person("caseworker", TEAM_B))
    _, own = await w.inbound(case, owner="user", owner_user=worker, team=TEAM_A)
    _, team = await w.inbound(case, owner="team", team=TEAM_A)
    _, duty = await w.inbound(case, owner="duty", team=TEAM_A, urgent=True)
    _, triage = await w.inbound(None, owner="triage")
    _, foreign = await w.inbound(other, owner="team", team=TEAM_B)
    _, items = await w.call("GET", "/api/v1/queue", worker)
    assert {it["id"] for it in items["items"]} == {own}
    _, items = await w.call("GET", "/api/v1/queue", lead)
    assert {it["id"] for it in items["items"]} == {team, duty, triage}
    _, items = await w.call("GET", "/api/v1/queue?queue=triage", lead)
    assert [it["id"] for it in items["items"]] == [triage]
    assert foreign not in {it["id"] for it in items["items"]}


async def test_claim_done_journalled_are_audited(runtime: Runtime, gateway: RunningGateway) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    _, item = await w.inbound(case, owner="user", owner_user=worker, team=TEAM_A)
    status, body = await w.call("POST", f"/api/v1/queue/{item}/claim", worker)
    assert (status, body["state"], body["claimed_by"]) == (200, "claimed", worker.id)
    status, body = await w.call("POST", f"/api/v1/queue/{item}/journalled", worker, {})
    assert status == 400 and "journal_ref" in body["error"]["message"]
    status, body = await w.call("POST", f"/api/v1/queue/{item}/done", worker, {"note": "ringte"})
    assert (status, body["state"]) == (200, "done")
    status, body = await w.call("POST", f"/api/v1/queue/{item}/claim", worker)
    assert (status, body["error"]["code"]) == (409, "wrong_state")
    status, body = await w.call(
        "POST", f"/api/v1/queue/{item}/journalled", worker, {"journal_ref": "2026/1234-7"}
    )
    assert (status, body["state"], body["journal_ref"]) == (200, "journalled", "2026/1234-7")
    status, _ = await w.call(
        "POST", f"/api/v1/queue/{item}/journalled", worker, {"journal_ref": "again"}
    )
    assert status == 409
    _, listed = await w.call("GET", "/api/v1/queue?state=journalled", worker)
    assert [it["id"] for it in listed["items"]] == [item]
    async with runtime.db.read() as s:
        events = (
            await s.execute(
                select(AuditEvent.action, AuditEvent.actor, AuditEvent.details)
                .where(AuditEvent.subject == f"queue_item:{item}")
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert [(a, actor) for a, actor, _ in events] == [
        ("queue.claimed", worker.email),
        ("queue.done", worker.email),
        ("queue.journalled", worker.email),
    ]
    assert events[2][2]["journal_ref"] == "2026/1234-7"


async def test_reassign_to_colleague_or_team_queue(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, lead = w.person("caseworker", TEAM_A), w.person("team_lead", TEAM_A)
    colleague = await w.add_person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    _, item = await w.inbound(case, owner="user", owner_user=worker, team=TEAM_A)
    path = f"/api/v1/queue/{item}/reassign"
    status, body = await w.call(
        "POST", path, worker, {"user_id": colleague.id, "team": TEAM_A, "reason": "x"}
    )
    assert status == 400 and "exactly one" in body["error"]["message"]
    outsider = w.person("caseworker", TEAM_B)
    status, body = await w.call("POST", path, worker, {"user_id": outsider.id, "reason": "x"})
    assert (status, body["error"]["code"]) == (422, "bad_target")
    status, body = await w.call("POST", path, worker, {"team": TEAM_B, "reason": "x"})
    assert status == 422 and "administrator" in body["error"]["message"]
    status, body = await w.call("POST", path, worker, {"user_id": colleague.id, "reason": "ferie"})
    assert (status, body["owner_user_id"], body["state"]) == (200, colleague.id, "new")
    _, mine = await w.call("GET", "/api/v1/queue", worker)
    _, theirs = await w.call("GET", "/api/v1/queue", colleague)
    assert mine["items"] == [] and [it["id"] for it in theirs["items"]] == [item]
    # The colleague hands it to the team queue, where the team lead picks it up.
    status, body = await w.call("POST", path, colleague, {"team": TEAM_A, "reason": "kapasitet"})
    assert (status, body["queue"]) == (200, "team")
    _, leads = await w.call("GET", "/api/v1/queue", lead)
    assert item in [it["id"] for it in leads["items"]]
    status, body = await w.call("POST", path, colleague, {"team": TEAM_A, "reason": "igjen"})
    assert status == 404  # no longer in the colleague's queue


async def test_absent_caseworker_new_items_and_new_messages_go_to_team_queue(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, lead = w.person("caseworker", TEAM_A), w.person("team_lead", TEAM_A)
    case = await w.case(TEAM_A, worker)
    _, waiting = await w.inbound(case, owner="user", owner_user=worker, team=TEAM_A)
    status, body = await w.call(
        "POST", f"/api/v1/users/{worker.id}/absence", lead, {"absent": True, "reason": "sykmeldt"}
    )
    assert (status, body["absent"], body["items_moved"]) == (200, True, 1)
    status, body = await w.call(
        "POST", f"/api/v1/queue/{waiting}/reassign", lead, {"user_id": worker.id, "reason": "x"}
    )
    assert (status, body["error"]["code"]) == (409, "absent")
    status, _ = await post_twilio(
        gateway.web_port, twilio_params(sid="SM" + "7" * 32, sender=case.phone, body="Hei igjen")
    )
    await processed(runtime)
    assert status == 200
    async with runtime.db.read() as s:
        kinds = (
            await s.execute(
                select(QueueItem.owner_kind, QueueItem.reason)
                .where(QueueItem.case_id == case.case_id)
                .order_by(QueueItem.id)
            )
        ).all()
    assert [k for k, _ in kinds] == ["team", "team"]
    assert kinds[1][1] == "caseworker absent"
    status, body = await w.call(
        "POST", f"/api/v1/users/{worker.id}/absence", lead, {"absent": False, "reason": "tilbake"}
    )
    assert (status, body["absent"]) == (200, False)
    other_lead = w.person("team_lead", TEAM_B)
    status, _ = await w.call(
        "POST", f"/api/v1/users/{worker.id}/absence", other_lead, {"absent": True, "reason": "x"}
    )
    assert status == 404
