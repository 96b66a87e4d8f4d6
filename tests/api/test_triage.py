"""Triage through the real webhook and API: link (adding the sender as a contact), spam and
abuse, and blocking a sender so their messages are never queued and never answered."""

from __future__ import annotations

from sqlalchemy import select

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import AuditEvent, Contact, Message, OutboxJob, QueueItem
from tests.api.world import TEAM_A, TEAM_B, make_world
from tests.helpers import post_twilio, processed, twilio_params

STRANGER = "+4740000001"


async def _triage_message(runtime: Runtime, port: int, sid: str, sender: str = STRANGER) -> int:
    status, _ = await post_twilio(
        port, twilio_params(sid=sid, sender=sender, body="Hei, det er meg")
    )
    await processed(runtime)
    assert status == 200
    async with runtime.db.read() as s:
        return int(
            (await s.execute(select(Message.id).where(Message.provider_id == sid))).scalar_one()
        )


async def test_link_adds_sender_as_contact_and_queues_for_caseworker(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, lead = w.person("caseworker", TEAM_A), w.person("team_lead", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid = await _triage_message(runtime, gateway.web_port, "SM" + "a" * 32)
    _, triage = await w.call("GET", "/api/v1/queue?queue=triage", lead)
    assert [it["message_id"] for it in triage["items"]] == [mid]
    assert triage["items"][0]["message"]["triage_reason"] == "unknown sender"
    status, body = await w.call(
        "POST", f"/api/v1/triage/{mid}/link", worker, {"case_ref": case.ref, "reason": "x"}
    )
    assert status == 403  # triage is for team leads
    status, body = await w.call(
        "POST",
        f"/api/v1/triage/{mid}/link",
        lead,
        {
            "case_ref": case.ref,
            "reason": "far ringte og bekreftet nummeret",
            "add_contact": {"name": "Per Nordmann", "role": "father"},
        },
    )
    assert status == 200, body
    contact_id = body["contact_id"]
    async with runtime.db.read() as s:
        contact = await s.get(Contact, contact_id)
        msg = await s.get(Message, mid)
        items = (
            (
                await s.execute(
                    select(QueueItem).where(QueueItem.message_id == mid).order_by(QueueItem.id)
                )
            )
            .scalars()
            .all()
        )
        events = (
            (
                await s.execute(
                    select(AuditEvent).where(
                        AuditEvent.action.in_(("contact.added_from_message", "triage.linked"))
                    )
                )
            )
            .scalars()
            .all()
        )
    assert contact is not None and contact.phone == STRANGER and contact.case_id == case.case_id
    assert (contact.verified, contact.consent_sms, contact.consent_email) == (False, False, False)
    assert msg is not None and (msg.case_id, msg.contact_id) == (case.case_id, contact_id)
    assert [(i.owner_kind, i.state) for i in items] == [("triage", "done"), ("user", "new")]
    assert items[1].owner_user_id == worker.id
    assert {(e.action, e.actor, e.details["reason"]) for e in events} == {
        ("contact.added_from_message", lead.email, "far ringte og bekreftet nummeret"),
        ("triage.linked", lead.email, "far ringte og bekreftet nummeret"),
    }
    _, mine = await w.call("GET", "/api/v1/queue", worker)
    assert mid in [it["message_id"] for it in mine["items"]]
    status, body = await w.call(
        "POST", f"/api/v1/triage/{mid}/link", lead, {"case_ref": case.ref, "reason": "igjen"}
    )
    assert (status, body["error"]["code"]) == (409, "not_in_triage")
    # The next message from that number is matched to the case by its sender.
    mid2 = await _triage_message(runtime, gateway.web_port, "SM" + "b" * 32)
    async with runtime.db.read() as s:
        again = await s.get(Message, mid2)
    assert again is not None and again.case_id == case.case_id and again.triage_reason is None


async def test_link_to_another_teams_case_is_404_and_changes_nothing(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    lead = w.person("team_lead", TEAM_A)
    other = await w.case(TEAM_B, w.person("caseworker", TEAM_B))
    mid = await _triage_message(runtime, gateway.web_port, "SM" + "c" * 32)
    status, body = await w.call(
        "POST",
        f"/api/v1/triage/{mid}/link",
        lead,
        {"case_ref": other.ref, "reason": "x", "add_contact": {"name": "X"}},
    )
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await w.call(
        "POST",
        f"/api/v1/triage/{mid}/link",
        lead,
        {"case_ref": other.ref, "reason": "x", "add_contact": {"name": "X", "shoe": 1}},
    )
    assert status == 400 and "shoe" in body["error"]["message"]
    async with runtime.db.read() as s:
        msg = await s.get(Message, mid)
        contacts = (
            (await s.execute(select(Contact).where(Contact.phone == STRANGER))).scalars().all()
        )
    assert msg is not None and msg.case_id is None and contacts == []


async def test_spam_and_abuse_leave_every_queue(runtime: Runtime, gateway: RunningGateway) -> None:
    w = await make_world(runtime, gateway.web_port)
    lead = w.person("team_lead", TEAM_A)
    mid = await _triage_message(runtime, gateway.web_port, "SM" + "d" * 32)
    status, body = await w.call(
        "POST", f"/api/v1/triage/{mid}/spam", lead, {"kind": "junk", "reason": "x"}
    )
    assert status == 400 and "kind" in body["error"]["message"]
    status, body = await w.call(
        "POST", f"/api/v1/triage/{mid}/spam", lead, {"kind": "abuse", "reason": "skjellsord"}
    )
    assert (status, body["status"]) == (200, "abuse")
    _, triage = await w.call("GET", "/api/v1/queue?queue=triage", lead)
    assert triage["items"] == []
    async with runtime.db.read() as s:
        ev = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "triage.marked_abuse"))
        ).scalar_one()
    assert (ev.actor, ev.subject, ev.details["reason"]) == (
        lead.email,
        f"message:{mid}",
        "skjellsord",
    )


async def test_blocked_sender_is_stored_flagged_never_queued_never_answered(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, lead = w.person("caseworker", TEAM_A), w.person("team_lead", TEAM_A)
    case = await w.case(TEAM_A, worker)
    status, _ = await post_twilio(
        gateway.web_port, twilio_params(sid="SM" + "e" * 32, sender=case.phone, body="Hei")
    )
    await processed(runtime)
    async with runtime.db.read() as s:
        first = (
            await s.execute(select(Message.id).where(Message.provider_id == "SM" + "e" * 32))
        ).scalar_one()
    status, body = await w.call(
        "POST", f"/api/v1/triage/{first}/block", lead, {"reason": "trusler mot ansatte"}
    )
    assert status == 201 and body["address"] == case.phone
    _, mine = await w.call("GET", "/api/v1/queue", worker)
    assert mine["items"] == []  # the open item of the blocked sender is closed
    async with runtime.db.read() as s:
        outbound_before = len((await s.execute(select(OutboxJob.id))).all())
    status, _ = await post_twilio(
        gateway.web_port, twilio_params(sid="SM" + "f" * 32, sender=case.phone, body="Svar meg!")
    )
    await processed(runtime)
    assert status == 200
    async with runtime.db.read() as s:
        later = (
            await s.execute(select(Message).where(Message.provider_id == "SM" + "f" * 32))
        ).scalar_one()
        items = (await s.execute(select(QueueItem).where(QueueItem.message_id == later.id))).all()
        outbound_after = len((await s.execute(select(OutboxJob.id))).all())
    assert later.flags.get("blocked_sender") is True and items == []
    assert outbound_after == outbound_before  # no automatic answer either
    status, body = await w.call(
        "POST", f"/api/v1/cases/{case.ref}/replies", worker, {"body": "Hei", "channel": "sms"}
    )
    assert (status, body["error"]["code"]) == (409, "blocked_sender")
    _, blocked = await w.call("GET", "/api/v1/blocked-senders", lead)
    [row] = blocked["items"]
    assert (row["blocked_by"], row["reason"]) == (lead.email, "trusler mot ansatte")
    status, _ = await w.call(
        "POST", f"/api/v1/blocked-senders/{row['id']}/unblock", lead, {"reason": "avklart"}
    )
    assert status == 200
    status, body = await w.call(
        "POST", f"/api/v1/cases/{case.ref}/replies", worker, {"body": "Hei", "channel": "sms"}
    )
    assert status == 202, body
    async with runtime.db.read() as s:
        actions = (
            (
                await s.execute(
                    select(AuditEvent.action)
                    .where(AuditEvent.action.like("sender.%"))
                    .order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["sender.blocked", "sender.unblocked"]
