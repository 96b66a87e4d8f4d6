"""A case's complete correspondence as the record to file in the journal system.

JSON (for machines) and printable HTML (for people) of the same document: both directions,
timestamps, channel, delivery status, classification labels with the rule that fired, and the
audit events (seq and hash) behind every message, so the record can be checked against the
hash-chained audit log. Only redacted text leaves the gateway here; each original is named by its
SHA-256. Every export is itself an audit event, carrying the digest of what was exported.
"""

from __future__ import annotations

import hashlib
import html
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.storage.db import Database, Tx, utcnow
from gateway.storage.models import (
    Attachment,
    AuditEvent,
    Case,
    Contact,
    Message,
    OutboxJob,
    QueueItem,
    SealedOriginal,
    User,
)

FORMAT = "case-gateway-export/1"


class ExportError(LookupError):
    pass


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def build_export(s: AsyncSession, case: Case, *, actor: str) -> dict[str, Any]:
    """The export document of ``case`` (without writing anything)."""
    users = {u.id: u for u in (await s.execute(select(User))).scalars().all()}
    contacts = (
        (await s.execute(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)))
        .scalars()
        .all()
    )
    by_contact = {c.id: c for c in contacts}
    msgs = (
        (
            await s.execute(
                select(Message)
                .where(Message.case_id == case.id)
                .order_by(Message.created_at, Message.id)
            )
        )
        .scalars()
        .all()
    )
    ids = [m.id for m in msgs]
    atts: dict[int, list[Attachment]] = {i: [] for i in ids}
    jobs: dict[int, OutboxJob] = {}
    sealed: dict[int, str] = {}
    items: list[QueueItem] = []
    if ids:
        for a in (
            await s.execute(select(Attachment).where(Attachment.message_id.in_(ids)))
        ).scalars():
            atts[a.message_id].append(a)
        for j in (
            await s.execute(select(OutboxJob).where(OutboxJob.message_id.in_(ids)))
        ).scalars():
            jobs[j.message_id] = j
        sealed_ids = [m.sealed_id for m in msgs if m.sealed_id is not None]
        for sid, digest in (
            await s.execute(
                select(SealedOriginal.id, SealedOriginal.sha256).where(
                    SealedOriginal.id.in_(sealed_ids)
                )
            )
        ).all():
            sealed[sid] = digest
        items = list(
            (
                await s.execute(
                    select(QueueItem).where(QueueItem.message_id.in_(ids)).order_by(QueueItem.id)
                )
            )
            .scalars()
            .all()
        )
    subjects = (
        [f"case:{case.id}"]
        + [f"message:{i}" for i in ids]
        + [f"queue_item:{q.id}" for q in items]
        + [f"contact:{c.id}" for c in contacts]
    )
    events = (
        (
            await s.execute(
                select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.seq)
            )
        )
        .scalars()
        .all()
    )
    audit_by_subject: dict[str, list[dict[str, Any]]] = {}
    audit = []
    for e in events:
        ref = {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "hash": e.hash,
        }
        audit.append(ref)
        audit_by_subject.setdefault(e.subject, []).append(ref)

    def person(user_id: int | None) -> str | None:
        u = users.get(user_id) if user_id is not None else None
        return f"{u.name} <{u.email}>" if u else None

    messages = []
    for m in msgs:
        contact = by_contact.get(m.contact_id) if m.contact_id is not None else None
        job = jobs.get(m.id)
        cls = m.classification or {}
        messages.append(
            {
                "id": m.id,
                "direction": m.direction,
                "channel": m.channel,
                "at": _iso(m.created_at),
                "from": m.sender,
                "to": m.recipient,
                "contact": f"{contact.name} ({contact.role})" if contact else None,
                "author": person(m.author_id),
                "subject": m.subject,
                "text": m.redacted_text,
                "stripped": m.stripped,
                "attachments": [
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "size": a.size,
                        "sha256": a.sha256,
                        "verdict": a.verdict,
                        "reason": a.reason,
                    }
                    for a in atts[m.id]
                ],
                "status": m.status,
                "delivery": (
                    {
                        "state": job.state,
                        "attempts": job.attempts,
                        "last_error": job.last_error,
                        "error_code": m.error_code,
                    }
                    if job is not None
                    else None
                ),
                "priority": m.priority,
                "classification": {
                    "labels": cls.get("labels", []),
                    "entities": cls.get("entities", []),
                    "risks": cls.get("risks", []),
                    "match_rule": cls.get("match_rule"),
                },
                "flags": m.flags,
                "original_sha256": sealed.get(m.sealed_id) if m.sealed_id is not None else None,
                "audit": audit_by_subject.get(f"message:{m.id}", []),
            }
        )
    doc: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "exported_by": actor,
        "case": {
            "ref": case.ref,
            "title": case.title,
            "team": case.team,
            "status": case.status,
            "caseworker": person(case.caseworker_id),
            "created_at": _iso(case.created_at),
        },
        "contacts": [
            {
                "name": c.name,
                "role": c.role,
                "phone": c.phone,
                "email": c.email,
                "language": c.language,
                "consent": {"sms": c.consent_sms, "email": c.consent_email},
                "opted_out": {"sms": c.opted_out_sms, "email": c.opted_out_email},
                "verified": c.verified,
            }
            for c in contacts
        ],
        "messages": messages,
        "queue": [
            {
                "id": q.id,
                "message_id": q.message_id,
                "queue": q.owner_kind,
                "state": q.state,
                "journal_ref": q.journal_ref,
                "handled_by": person(q.claimed_by),
            }
            for q in items
        ],
        "audit": audit,
    }
    doc["digest"] = digest_of(doc)
    return doc


def digest_of(doc: dict[str, Any]) -> str:
    """SHA-256 of the document without its digest, canonical JSON."""
    body = {k: v for k, v in doc.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def export_case(tx: Tx, case: Case, *, actor: str, fmt: str) -> tuple[dict[str, Any], str]:
    """Build the export and record it in the audit log (same transaction); returns (doc, text)."""
    doc = await build_export(tx.session, case, actor=actor)
    tx.audit(
        actor, "case.exported", f"case:{case.id}", ref=case.ref, format=fmt, digest=doc["digest"]
    )
    text = render_html(doc) if fmt == "html" else json.dumps(doc, ensure_ascii=False, indent=2)
    return doc, text


_CSS = """
body{font:11pt/1.45 system-ui,sans-serif;margin:2em;color:#111;max-width:60em}
h1{font-size:16pt;margin-bottom:0}h2{font-size:13pt;border-bottom:1px solid #999;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:3px 6px;
text-align:left;vertical-align:top;font-size:10pt}
.msg{border:1px solid #bbb;border-radius:4px;padding:.6em 1em;margin:1em 0;break-inside:avoid}
.in{border-left:5px solid #2b6cb0}.out{border-left:5px solid #2f855a}
.meta{color:#444;font-size:9.5pt}.text{white-space:pre-wrap;margin:.5em 0}
.hash{font-family:monospace;font-size:8.5pt;word-break:break-all}
@media print{body{margin:0}a{color:#000}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_html(doc: dict[str, Any]) -> str:
    """A printable page a person reads: the same content as the JSON export."""
    case = doc["case"]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Case {_e(case['ref'])} — correspondence</title><style>{_CSS}</style></head><body>",
        f"<h1>Case {_e(case['ref'])}: {_e(case['title'])}</h1>",
        f"<p class=meta>Team {_e(case['team'])} · caseworker {_e(case['caseworker'] or '—')} · "
        f"status {_e(case['status'])}<br>Exported {_e(doc['exported_at'])} by "
        f"{_e(doc['exported_by'])} · digest <span class=hash>{_e(doc['digest'])}</span></p>",
        "<h2>Contacts</h2><table><tr><th>Name</th><th>Role</th><th>Phone</th><th>E-mail</th>"
        "<th>Consent</th><th>Opted out</th></tr>",
    ]
    for c in doc["contacts"]:
        consent = ", ".join(k for k, v in c["consent"].items() if v) or "none"
        opted = ", ".join(k for k, v in c["opted_out"].items() if v) or "—"
        out.append(
            f"<tr><td>{_e(c['name'])}</td><td>{_e(c['role'])}</td><td>{_e(c['phone'])}</td>"
            f"<td>{_e(c['email'])}</td><td>{_e(consent)}</td><td>{_e(opted)}</td></tr>"
        )
    out.append(f"</table><h2>Correspondence ({len(doc['messages'])} messages)</h2>")
    for m in doc["messages"]:
        who = (
            f"From {_e(m['contact'] or m['from'])}"
            if m["direction"] == "in"
            else f"To {_e(m['contact'] or m['to'])}, by {_e(m['author'] or 'the service')}"
        )
        delivery = m["delivery"]
        status = _e(m["status"])
        if delivery:
            status += f" (delivery {_e(delivery['state'])}, {_e(delivery['attempts'])} attempt(s)"
            status += f", error: {_e(delivery['last_error'])})" if delivery["last_error"] else ")"
        labels = ", ".join(m["classification"]["labels"]) or "none"
        out.append(
            f'<div class="msg {_e(m["direction"])}"><div class=meta>'
            f"#{_e(m['id'])} · {_e(m['at'])} · {_e(m['channel']).upper()} · "
            f"{'received' if m['direction'] == 'in' else 'sent'} · {who}<br>"
            f"Status: {status} · priority {_e(m['priority'])} · labels: {_e(labels)}</div>"
        )
        if m["subject"]:
            out.append(f"<div><b>Subject:</b> {_e(m['subject'])}</div>")
        out.append(f"<div class=text>{_e(m['text'])}</div>")
        for key, value in (m["stripped"] or {}).items():
            out.append(
                f"<details><summary>{_e(key)}</summary><div class=text>{_e(value)}</div></details>"
            )
        for a in m["attachments"]:
            out.append(
                f"<div class=meta>Attachment {_e(a['filename'])} ({_e(a['content_type'])}, "
                f"{_e(a['size'])} bytes) — {_e(a['verdict'])} {_e(a['reason'])} "
                f"<span class=hash>{_e(a['sha256'])}</span></div>"
            )
        refs = "; ".join(f"#{r['seq']} {r['action']} {r['hash'][:16]}…" for r in m["audit"])
        out.append(
            f"<div class=meta>Original SHA-256 <span class=hash>{_e(m['original_sha256'])}</span>"
            f"<br>Audit: <span class=hash>{_e(refs)}</span></div></div>"
        )
    out.append(
        "<h2>Handling</h2><table><tr><th>Message</th><th>Queue</th><th>State</th>"
        "<th>Journal reference</th><th>Handled by</th></tr>"
    )
    for q in doc["queue"]:
        out.append(
            f"<tr><td>#{_e(q['message_id'])}</td><td>{_e(q['queue'])}</td><td>{_e(q['state'])}</td>"
            f"<td>{_e(q['journal_ref'] or '—')}</td><td>{_e(q['handled_by'] or '—')}</td></tr>"
        )
    out.append("</table>")
    out.append(
        "<h2>Audit events</h2><table><tr><th>Seq</th><th>At</th><th>Actor</th><th>Action</th>"
        "<th>Subject</th><th>Hash</th></tr>"
    )
    for e in doc["audit"]:
        out.append(
            f"<tr><td>{_e(e['seq'])}</td><td>{_e(e['at'])}</td><td>{_e(e['actor'])}</td>"
            f"<td>{_e(e['action'])}</td><td>{_e(e['subject'])}</td>"
            f"<td class=hash>{_e(e['hash'])}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


async def export_cli(url: str, ref: str, fmt: str, output: str | None, err: TextIO) -> int:
    """`case-gateway export CASE_REF --format json|html [--output FILE]`."""
    db = Database(url)
    try:
        async with db.transaction() as tx:
            case = (
                await tx.session.execute(select(Case).where(Case.ref == ref))
            ).scalar_one_or_none()
            if case is None:
                print(f"case-gateway: no case {ref}", file=err)
                return 2
            doc, text = await export_case(tx, case, actor="cli", fmt=fmt)
    finally:
        await db.close()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(
            f"exported case {ref} ({len(doc['messages'])} messages) to {output}; "
            f"digest {doc['digest']}",
            file=err,
        )
    else:
        sys.stdout.write(text + "\n")
    return 0
