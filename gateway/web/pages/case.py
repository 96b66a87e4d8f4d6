"""The case page: contacts with consent and opt-out, the thread of both channels in order with
delivery status and failures, attachments, labels and risks with the rule that fired, the
audited reveal of an original, and the reply composer (checked by the same use case as the
API's reply; the SMS count comes from ``gateway.core.sms``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import casework, risk_feedback
from gateway.core.sms import count_segments
from gateway.logs import mask_address
from gateway.outbound import ReplyError
from gateway.permissions import CONTENT
from gateway.storage.models import Contact
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, int_field, page
from gateway.workqueue import Refused

CHANNELS = ("sms", "email")


def reply_channels(contact: Contact) -> list[dict[str, Any]]:
    """Each channel to ``contact``: open or not, and why not (consent, opt-out, no address)."""
    out = []
    for channel in CHANNELS:
        address = contact.phone if channel == "sms" else contact.email
        opted_out = contact.opted_out_sms if channel == "sms" else contact.opted_out_email
        consent = contact.consent_sms if channel == "sms" else contact.consent_email
        why = (
            "cannot_no_address"
            if not address
            else "cannot_opted_out"
            if opted_out
            else "cannot_no_consent"
            if not consent
            else None
        )
        out.append({"channel": channel, "open": why is None, "why": why})
    return out


def _labels(m: Any) -> dict[str, Any]:
    cls = m.classification or {}
    risks = cls.get("risks", [])
    return {
        "labels": cls.get("labels", []),
        "risks": [
            {"type": r.get("type"), "rule": r.get("rule") or r.get("rule_id") or ""} for r in risks
        ],
        "match_rule": cls.get("match_rule", ""),
    }


async def render_case(
    p: Page,
    ref: str,
    *,
    form: dict[str, Any] | None = None,
    errors: list[tuple[str, str]] | None = None,
    preview: dict[str, Any] | None = None,
    notice: str = "",
    status: int = 200,
) -> web.Response:
    thread = await casework.case_thread(p.request.app[RUNTIME].db, p.staff, ref)
    contacts = [
        {"contact": c, "channels": reply_channels(c), "masked_phone": mask_address(c.phone or "")}
        for c in thread.contacts
    ]
    latest_in = next((m for m in reversed(thread.messages) if m.direction == "in"), None)
    form = form or {}
    default_contact = form.get("contact_id") or (
        latest_in.contact_id if latest_in is not None else None
    )
    if default_contact is None and thread.contacts:
        default_contact = thread.contacts[0].id
    default_channel = form.get("channel") or (latest_in.channel if latest_in else "sms")
    messages = [
        {
            "m": m,
            "attachments": thread.attachments.get(m.id, []),
            "delivery": thread.delivery.get(m.id),
            "author": thread.authors.get(m.author_id or 0),
            **_labels(m),
        }
        for m in thread.messages
    ]
    body = str(form.get("body", ""))
    return p.render(
        "case.html",
        {
            **_composer_templates(p, thread, default_contact),
            "case": thread.case,
            "contacts": contacts,
            "messages": messages,
            "form": form,
            "body": body,
            "counter": count_segments(body),
            "default_contact": default_contact,
            "default_channel": default_channel,
            "errors": errors or [],
            "preview": preview,
            "notice": notice,
            "sent_id": int_field(p.request.query, "sent"),
            "queue_item_id": form.get("queue_item_id") or p.request.query.get("item", ""),
            "risk_types": risk_feedback.RISK_TYPES,
        },
        status=status,
    )


def _composer_templates(p: Page, thread: Any, contact_id: Any) -> dict[str, Any]:
    rt = p.request.app[RUNTIME]
    contact = next((c for c in thread.contacts if c.id == contact_id), None)
    language = contact.language if contact is not None else rt.settings.service.language
    values = {
        "service_name": rt.settings.service.name,
        "case_ref": thread.case.ref,
        "emergency_numbers": rt.settings.practice.emergency_numbers,
    }
    templates = (
        casework.reply_templates(
            rt.practice.templates, language, values, rt.settings.service.language
        )
        if rt.practice is not None
        else []
    )
    return {"templates": templates}


@page(CONTENT)
async def case_page(p: Page) -> web.StreamResponse:
    notice = (
        p.t("reply_queued")
        if p.request.query.get("sent")
        else p.t("fb_thanks")
        if p.request.query.get("feedback")
        else ""
    )
    return await render_case(p, p.request.match_info["ref"], notice=notice)


@page(CONTENT)
async def reply(p: Page) -> web.StreamResponse:
    """Check (dry run) or send a reply; a sent reply goes back to the case page (so a reload
    never sends it twice) where its outbox state shows."""
    ref = p.request.match_info["ref"]
    form = await p.request.post()
    body = str(form.get("body", ""))
    channel = str(form.get("channel", "")) or None
    contact_id = int_field(form, "contact_id")
    item_id = int_field(form, "queue_item_id")
    dry_run = form.get("action") != "send"
    if form.get("action") == "template":
        chosen = str(form.get("template", ""))
        thread = await casework.case_thread(p.request.app[RUNTIME].db, p.staff, ref)
        offered = _composer_templates(p, thread, contact_id)["templates"]
        body = next((t.body for t in offered if t.kind == chosen), body)
        return await render_case(
            p,
            ref,
            form={
                "body": body,
                "channel": channel,
                "contact_id": contact_id,
                "queue_item_id": item_id or "",
            },
        )
    values = {
        "body": body,
        "channel": channel,
        "contact_id": contact_id,
        "queue_item_id": item_id or "",
    }
    if not body.strip():
        return await render_case(
            p, ref, form=values, errors=[("body", p.t("reply_missing"))], status=400
        )
    if channel is not None and channel not in CHANNELS:
        channel = None
    rt = p.request.app[RUNTIME]
    try:
        result = await casework.reply_to_case(
            rt.db,
            rt.replies,
            p.staff,
            ref,
            body=body,
            channel=channel,
            contact_id=contact_id,
            queue_item_id=item_id,
            dry_run=dry_run,
        )
    except (ReplyError, Refused) as exc:
        status = exc.http_status if isinstance(exc, ReplyError) else exc.status
        if status == 404 and not isinstance(exc, ReplyError):
            raise
        return await render_case(p, ref, form=values, errors=[("body", exc.message)], status=status)
    if dry_run:
        preview = {
            "channel": result.channel,
            "segments": result.segments,
            "encoding": result.encoding,
        }
        return await render_case(p, ref, form=values, preview=preview)
    raise web.HTTPSeeOther(f"/cases/{ref}?sent={result.message_id}#message-{result.message_id}")


@page(CONTENT)
async def sms_count(p: Page) -> web.StreamResponse:
    """The SMS count of a draft, for the composer's live counter (the same core function the
    reply uses)."""
    form = await p.request.post()
    seg = count_segments(str(form.get("body", ""))[:20000])
    return web.json_response(
        {
            "count": seg.count,
            "encoding": seg.encoding,
            "units": seg.units,
            "text": p.t("segments", count=seg.count, encoding=seg.encoding, units=seg.units),
        },
        headers={"Cache-Control": "no-store"},
    )


@page(CONTENT)
async def reveal(p: Page) -> web.StreamResponse:
    """Show a sealed original once: a reason is required and recorded before it is shown."""
    ref = p.request.match_info["ref"]
    form = await p.request.post()
    message_id = int_field(p.request.match_info, "message_id")
    if message_id is None:
        raise Refused(404, "not_found", "No such message.")
    reason = str(form.get("reason", "")).strip()
    if len(reason) < 5:
        return await render_case(
            p,
            ref,
            errors=[(f"reason-{message_id}", p.t("reveal_missing"))],
            form={"reveal": message_id},
            status=400,
        )
    rt = p.request.app[RUNTIME]
    async with rt.db.read() as s:
        _m, case = await casework.visible_message(s, p.staff, message_id)
    if case is None or case.ref != ref:
        raise Refused(404, "not_found", "No such message on this case.")
    revealed = await casework.reveal_original(
        rt.db, rt.keyring, p.staff, message_id, reason=reason[:500]
    )
    return p.render("revealed.html", {"ref": ref, "revealed": revealed})


@page(CONTENT)
async def mark_risk(p: Page) -> web.StreamResponse:
    """A caseworker's verdict on a message's risk flags ("missed risk" / "not a risk"): audited,
    kept for the next training round, and never a change of priority."""
    ref = p.request.match_info["ref"]
    form = await p.request.post()
    message_id = int_field(p.request.match_info, "message_id")
    if message_id is None:
        raise Refused(404, "not_found", "No such message.")
    rt = p.request.app[RUNTIME]
    async with rt.db.read() as s:
        _m, case = await casework.visible_message(s, p.staff, message_id)
    if case is None or case.ref != ref:
        raise Refused(404, "not_found", "No such message on this case.")
    verdict = str(form.get("verdict", ""))
    types = (
        [str(form["risk_type"])]
        if verdict == risk_feedback.MISSED_RISK and form.get("risk_type")
        else []
    )
    try:
        await risk_feedback.mark_risk_feedback(rt.db, p.staff, message_id, verdict, types)
    except risk_feedback.FeedbackRejected as exc:
        return await render_case(
            p,
            ref,
            errors=[(f"fb-type-{message_id}", str(exc))],
            form={"feedback": message_id},
            status=400,
        )
    except risk_feedback.MessageNotVisible as exc:
        raise Refused(404, "not_found", "No such message on this case.") from exc
    raise web.HTTPSeeOther(f"/cases/{ref}?feedback=1#message-{message_id}")
