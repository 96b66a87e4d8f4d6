"""Concurrent actions on one queue item, on PostgreSQL, through real concurrent HTTP requests.

- Two claims of one item: exactly one wins (200), the other is told who has it (409).
- Two replies answering one item (queue_item_id): exactly one reply is written and queued for
  sending (202); the other is refused (409) and nothing of it is stored, so the family never
  gets two answers to one message.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, Message, OutboxJob, QueueItem
from tests.api.world import TEAM_A, make_world


@pytest.fixture
def db_url(pg_url: str) -> str:
    """These tests are about concurrency: PostgreSQL only."""
    return pg_url


async def test_of_two_concurrent_claims_exactly_one_wins(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    lead1 = w.person("team_lead", TEAM_A)
    lead2 = await w.add_person("team_lead", TEAM_A)
    case = await w.case(TEAM_A, w.person("caseworker", TEAM_A))
    for _ in range(10):
        _, item = await w.inbound(case, owner="team", team=TEAM_A)
        results = await asyncio.gather(
            w.call("POST", f"/api/v1/queue/{item}/claim", lead1),
            w.call("POST", f"/api/v1/queue/{item}/claim", lead2),
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], results
        winner = next(body for status, body in results if status == 200)
        loser = next(body for status, body in results if status == 409)
        assert loser["error"]["code"] == "claimed"
        async with runtime.db.read() as s:
            row = await s.get(QueueItem, item)
            claims = (
                await s.execute(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        AuditEvent.action == "queue.claimed",
                        AuditEvent.subject == f"queue_item:{item}",
                    )
                )
            ).scalar_one()
        assert row is not None and row.claimed_by == winner["claimed_by"]
        assert claims == 1


async def test_of_two_concurrent_replies_to_one_item_exactly_one_is_sent(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    lead1 = w.person("team_lead", TEAM_A)
    lead2 = await w.add_person("team_lead", TEAM_A)
    case = await w.case(TEAM_A, w.person("caseworker", TEAM_A))
    for i in range(5):
        _, item = await w.inbound(case, owner="team", team=TEAM_A)
        path = f"/api/v1/cases/{case.ref}/replies"
        results = await asyncio.gather(
            w.call("POST", path, lead1, {"body": f"Svar A {i}", "queue_item_id": item}),
            w.call("POST", path, lead2, {"body": f"Svar B {i}", "queue_item_id": item}),
        )
        assert sorted(status for status, _ in results) == [202, 409], results
        refused = next(body for status, body in results if status == 409)
        assert refused["error"]["code"] in {"already_answered", "claimed"}
        async with runtime.db.read() as s:
            row = await s.get(QueueItem, item)
            assert row is not None and row.state == "done"
    async with runtime.db.read() as s:
        replies = (
            await s.execute(
                select(func.count())
                .select_from(Message)
                .join(OutboxJob, OutboxJob.message_id == Message.id)
                .where(Message.case_id == case.case_id, Message.author_id.is_not(None))
            )
        ).scalar_one()
    assert replies == 5


async def test_a_reply_naming_a_done_item_is_refused_and_not_stored(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    _, item = await w.inbound(case, owner="user", owner_user=worker, team=TEAM_A)
    status, _ = await w.call("POST", f"/api/v1/queue/{item}/done", worker, {})
    assert status == 200
    status, body = await w.call(
        "POST", f"/api/v1/cases/{case.ref}/replies", worker, {"body": "Hei", "queue_item_id": item}
    )
    assert (status, body["error"]["code"]) == (409, "already_answered")
    async with runtime.db.read() as s:
        out = (
            await s.execute(
                select(func.count()).select_from(Message).where(Message.direction == "out")
            )
        ).scalar_one()
    assert out == 0
