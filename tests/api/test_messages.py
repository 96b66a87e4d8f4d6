"""Case thread, one message, reply validation and default channel, and the audited reveal."""

from __future__ import annotations

import base64
import io

import aiohttp
from PIL import Image
from sqlalchemy import select

from connectors.base import SendOutcome
from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.storage.models import Attachment, AuditEvent
from tests.api.world import TEAM_A, TEAM_B, make_world
from tests.conftest import RecordingSender
from tests.helpers import processed

FNR_TEXT = "Fødselsnummeret til Emil er 01010750160"


async def test_thread_has_both_directions_attachments_and_delivery_status(
    runtime: Runtime, gateway: RunningGateway, sms_sender: RecordingSender
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, _ = await w.inbound(case, owner="none", text="Se vedlegg", attachment=b"%PDF-1.4 brev")
    sms_sender.script = [
        SendOutcome(False, permanent=True, error_code="21211", error_text="invalid number")
    ]
    status, reply = await w.call(
        "POST", f"/api/v1/cases/{case.ref}/replies", worker, {"body": "Takk!"}
    )
    assert status == 202 and reply["channel"] == "sms"
    while await runtime.relay.run_once():
        pass
    status, thread = await w.call("GET", f"/api/v1/cases/{case.ref}/messages", worker)
    assert status == 200
    inbound = next(m for m in thread["messages"] if m["id"] == mid)
    out = next(m for m in thread["messages"] if m["id"] == reply["message_id"])
    assert [m["direction"] for m in thread["messages"]][:2] == ["in", "out"]
    [att] = inbound["attachments"]
    assert (att["filename"], att["verdict"], att["stored"]) == ("brev.pdf", "kept", True)
    assert out["delivery"]["state"] == "dead" and out["status"] == "failed"
    assert out["error"] == "invalid number" and out["author_id"] == worker.id
    status, one = await w.call("GET", f"/api/v1/messages/{mid}", worker)
    assert status == 200 and one["attachments"] == inbound["attachments"]
    status, _ = await w.call("GET", "/api/v1/messages/999999", worker)
    assert status == 404
    status, _ = await w.call("GET", "/api/v1/messages/not-a-number", worker)
    assert status == 404


async def test_reply_defaults_to_the_channel_of_the_latest_inbound(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    await w.inbound(case, owner="none", channel="sms")
    await w.inbound(case, owner="none", channel="email", sender=f"x{case.contact_id}@example.org")
    status, body = await w.call(
        "POST", f"/api/v1/cases/{case.ref}/replies", worker, {"body": "Hei", "dry_run": True}
    )
    assert (status, body["channel"], body["message_id"]) == (200, "email", None)
    status, body = await w.call(
        "POST",
        f"/api/v1/cases/{case.ref}/replies",
        worker,
        {"body": "Hei", "channel": "sms", "dry_run": True},
    )
    assert (status, body["channel"], body["segments"]) == (200, "sms", 1)
    for bad, word in (
        ({"body": ""}, "body"),
        ({"body": 5}, "body"),
        ({"body": "Hei", "channel": "fax"}, "channel"),
        ({"body": "Hei", "contact_id": "1"}, "contact_id"),
        ({"body": "Hei", "dry_run": "yes"}, "dry_run"),
        ({"text": "Hei"}, "text"),
    ):
        status, answer = await w.call("POST", f"/api/v1/cases/{case.ref}/replies", worker, bad)
        assert status == 400 and word in answer["error"]["message"], (bad, answer)
    status, answer = await w.call(
        "POST", f"/api/v1/cases/{case.ref}/replies", worker, {"body": "x" * 1700, "channel": "sms"}
    )
    assert (status, answer["error"]["code"]) == (422, "sms_too_long")


async def test_reveal_returns_the_original_and_audits_who_what_when_why(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, _ = await w.inbound(
        case,
        owner="none",
        text="Fødselsnummeret til Emil er [FØDSELSNUMMER]",
        raw=f"Body={FNR_TEXT}&From={case.phone}".encode(),
        attachment=b"%PDF-1.4 vedtak",
    )
    _, one = await w.call("GET", f"/api/v1/messages/{mid}", worker)
    assert "01010750160" not in one["text"]
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "ok"}):
        status, answer = await w.call("POST", f"/api/v1/messages/{mid}/reveal", worker, body)
        assert status == 400 and "reason" in answer["error"]["message"]
    status, answer = await w.call(
        "POST", f"/api/v1/messages/{mid}/reveal", worker, {"reason": "må journalføre fødselsnummer"}
    )
    assert status == 200 and answer["text"] == FNR_TEXT and answer["what"] == "text"
    att_id = one["attachments"][0]["id"]
    status, answer = await w.call(
        "POST",
        f"/api/v1/messages/{mid}/reveal",
        worker,
        {"reason": "lese vedtaket", "attachment_id": att_id},
    )
    assert status == 200 and base64.b64decode(answer["content_base64"]) == b"%PDF-1.4 vedtak"
    assert answer["filename"] == "brev.pdf"
    status, _ = await w.call(
        "POST",
        f"/api/v1/messages/{mid}/reveal",
        worker,
        {"reason": "lese vedtaket", "attachment_id": 99999},
    )
    assert status == 404
    stranger = w.person("caseworker", TEAM_B)
    status, _ = await w.call(
        "POST", f"/api/v1/messages/{mid}/reveal", stranger, {"reason": "nysgjerrig"}
    )
    assert status == 404
    async with runtime.db.read() as s:
        events = (
            (
                await s.execute(
                    select(AuditEvent)
                    .where(AuditEvent.action == "original.revealed")
                    .order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )
    assert [(e.actor, e.subject, e.details["what"], e.details["reason"]) for e in events] == [
        (worker.email, f"message:{mid}", "text", "må journalføre fødselsnummer"),
        (worker.email, f"message:{mid}", f"attachment:{att_id}", "lese vedtaket"),
    ]
    assert all(e.at and len(e.details["sha256"]) == 64 for e in events)


async def test_attachment_is_shown_without_gps_while_the_original_keeps_it(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    from tests.email.test_attachment_display import GPS, jpeg_with_gps

    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    photo = jpeg_with_gps()
    mid, _ = await w.inbound(case, owner="none", attachment=photo)
    async with runtime.db.transaction() as tx:
        att = (
            await tx.session.execute(select(Attachment).where(Attachment.message_id == mid))
        ).scalar_one()
        att.content_type, att.filename = "image/jpeg", "bilde.jpg"
        att_id = att.id
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"http://127.0.0.1:{gateway.web_port}/api/v1/attachments/{att_id}",
            headers={"Authorization": f"Bearer {worker.token}"},
        ) as resp,
    ):
        assert resp.status == 200
        assert resp.content_type == "image/jpeg"
        shown = await resp.read()
    assert Image.open(io.BytesIO(shown)).getexif().get_ifd(GPS) == {}
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS) != {}
    status, answer = await w.call(
        "POST",
        f"/api/v1/messages/{mid}/reveal",
        worker,
        {"reason": "politiet ber om originalen", "attachment_id": att_id},
    )
    assert status == 200 and base64.b64decode(answer["content_base64"]) == photo


async def test_html_mail_keeps_a_sanitized_copy_revealed_only_with_a_reason(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    import asyncio
    from pathlib import Path

    from tests.foundation.test_email_intake import SERVICE, smtp_session

    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    raw = (
        Path(__file__).parents[1] / "fixtures" / "email" / "html_only_nb_tracking.eml"
    ).read_bytes()
    # the family is a known contact of the case, so the mail lands there
    async with runtime.db.transaction() as tx:
        from gateway.storage.models import Contact

        contact = await tx.session.get(Contact, case.contact_id)
        assert contact is not None
        contact.email = "lise.dahl@online.no"
    out = await asyncio.to_thread(smtp_session, gateway.smtp_port, [SERVICE], raw)
    assert out["data"][0] == 250  # type: ignore[index]
    await processed(gateway)
    _, thread = await w.call("GET", f"/api/v1/cases/{case.ref}/messages", worker)
    [mail] = [m for m in thread["messages"] if m["channel"] == "email"]
    assert "<" not in mail["text"]  # the queue shows text, never markup
    status, answer = await w.call(
        "POST",
        f"/api/v1/messages/{mail['id']}/reveal",
        worker,
        {"reason": "se formateringen", "html": True},
    )
    assert status == 200 and answer["what"] == "html"
    assert "<script" not in answer["html"].lower() and "<p" in answer["html"].lower()
    status, answer = await w.call(
        "POST", f"/api/v1/messages/{mail['id']}/reveal", worker, {"reason": "se formateringen"}
    )
    assert status == 200 and answer["what"] == "text"


async def test_every_read_of_case_content_is_in_the_access_log(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker, auditor = w.person("caseworker", TEAM_A), w.person("auditor", TEAM_A)
    case = await w.case(TEAM_A, worker)
    mid, _ = await w.inbound(case, owner="none", attachment=b"%PDF-1.4 brev")
    assert (await w.call("GET", f"/api/v1/cases/{case.ref}/messages", worker))[0] == 200
    _, one = await w.call("GET", f"/api/v1/messages/{mid}", worker)
    att_id = one["attachments"][0]["id"]
    assert (await w.call("GET", f"/api/v1/attachments/{att_id}", worker))[0] == 200
    # a read outside one's scope is refused and shows nothing, so it is not "access"
    assert (await w.call("GET", f"/api/v1/messages/{mid}", w.person("caseworker", TEAM_B)))[
        0
    ] == 404
    status, log = await w.call("GET", f"/api/v1/access-log?case={case.ref}", auditor)
    assert status == 200
    assert [(e["actor"], e["action"], e["subject"]) for e in log["items"]] == [
        (worker.email, "case.thread", f"case:{case.case_id}"),
        (worker.email, "message.read", f"message:{mid}"),
        (worker.email, "attachment.read", f"attachment:{att_id}"),
    ]
    assert (await w.call("GET", "/api/v1/access-log", worker))[0] == 403
