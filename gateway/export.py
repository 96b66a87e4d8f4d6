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
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.casework import case_contacts, case_messages
from gateway.command_errors import CommandError, cli_actor, open_database
from gateway.settings import Settings
from gateway.storage.db import Tx, utcnow
from gateway.storage.models import (
    Attachment,
    AuditEvent,
    Case,
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
    contacts = await case_contacts(s, case.id)
    by_contact = {c.id: c for c in contacts}
    msgs = await case_messages(s, case.id)
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


async def export_case(
    tx: Tx, case: Case, *, actor: str, fmt: str, lang: str = "nb"
) -> tuple[dict[str, Any], str]:
    """Build the export and record it in the audit log (same transaction); returns (doc, text)."""
    doc = await build_export(tx.session, case, actor=actor)
    tx.audit(
        actor, "case.exported", f"case:{case.id}", ref=case.ref, format=fmt, digest=doc["digest"]
    )
    text = (
        render_html(doc, lang) if fmt == "html" else json.dumps(doc, ensure_ascii=False, indent=2)
    )
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


# The printable page in the service's language (nb unless the service speaks en); JSON keys
# stay English for machines.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "case": "Case",
        "correspondence": "correspondence",
        "team": "Team",
        "caseworker": "caseworker",
        "status": "status",
        "exported": "Exported",
        "by": "by",
        "digest": "digest",
        "contacts": "Contacts",
        "name": "Name",
        "role": "Role",
        "phone": "Phone",
        "email": "E-mail",
        "consent": "Consent",
        "opted_out": "Opted out",
        "none": "none",
        "messages": "Correspondence ({n} messages)",
        "from": "From",
        "to": "To",
        "the_service": "the service",
        "received": "received",
        "sent": "sent",
        "status_label": "Status",
        "delivery": "delivery",
        "attempts": "attempt(s)",
        "error": "error",
        "priority": "priority",
        "labels": "labels",
        "subject": "Subject",
        "attachment": "Attachment",
        "bytes": "bytes",
        "original": "Original SHA-256",
        "audit": "Audit",
        "handling": "Handling",
        "message": "Message",
        "queue": "Queue",
        "state": "State",
        "journal_ref": "Journal reference",
        "handled_by": "Handled by",
        "audit_events": "Audit events",
        "seq": "Seq",
        "at": "At",
        "actor": "Actor",
        "action": "Action",
        "subject_col": "Subject",
        "hash": "Hash",
    },
    "nb": {
        "case": "Sak",
        "correspondence": "korrespondanse",
        "team": "Team",
        "caseworker": "saksbehandler",
        "status": "status",
        "exported": "Eksportert",
        "by": "av",
        "digest": "sjekksum",
        "contacts": "Kontakter",
        "name": "Navn",
        "role": "Rolle",
        "phone": "Telefon",
        "email": "E-post",
        "consent": "Samtykke",
        "opted_out": "Reservert",
        "none": "ingen",
        "messages": "Korrespondanse ({n} meldinger)",
        "from": "Fra",
        "to": "Til",
        "the_service": "tjenesten",
        "received": "mottatt",
        "sent": "sendt",
        "status_label": "Status",
        "delivery": "levering",
        "attempts": "forsøk",
        "error": "feil",
        "priority": "prioritet",
        "labels": "merking",
        "subject": "Emne",
        "attachment": "Vedlegg",
        "bytes": "byte",
        "original": "Original SHA-256",
        "audit": "Revisjonslogg",
        "handling": "Behandling",
        "message": "Melding",
        "queue": "Kø",
        "state": "Tilstand",
        "journal_ref": "Journalreferanse",
        "handled_by": "Behandlet av",
        "audit_events": "Revisjonshendelser",
        "seq": "Nr.",
        "at": "Tidspunkt",
        "actor": "Utført av",
        "action": "Handling",
        "subject_col": "Gjelder",
        "hash": "Hash",
    },
}


def export_language(service_language: str) -> str:
    """The HTML export's language for a service: en when it speaks English, else nb."""
    return "en" if service_language == "en" else "nb"


def render_html(doc: dict[str, Any], lang: str = "nb") -> str:
    """A printable page a person reads: the same content as the JSON export."""
    t = LABELS.get(lang, LABELS["nb"])
    case = doc["case"]
    out = [
        "<!doctype html>",
        f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
        f"<title>{t['case']} {_e(case['ref'])} — {t['correspondence']}</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{t['case']} {_e(case['ref'])}: {_e(case['title'])}</h1>",
        f"<p class=meta>{t['team']} {_e(case['team'])} · {t['caseworker']} "
        f"{_e(case['caseworker'] or '—')} · {t['status']} {_e(case['status'])}<br>"
        f"{t['exported']} {_e(doc['exported_at'])} {t['by']} "
        f"{_e(doc['exported_by'])} · {t['digest']} <span class=hash>{_e(doc['digest'])}</span></p>",
        f"<h2>{t['contacts']}</h2><table><tr><th>{t['name']}</th><th>{t['role']}</th>"
        f"<th>{t['phone']}</th><th>{t['email']}</th>"
        f"<th>{t['consent']}</th><th>{t['opted_out']}</th></tr>",
    ]
    for c in doc["contacts"]:
        consent = ", ".join(k for k, v in c["consent"].items() if v) or t["none"]
        opted = ", ".join(k for k, v in c["opted_out"].items() if v) or "—"
        out.append(
            f"<tr><td>{_e(c['name'])}</td><td>{_e(c['role'])}</td><td>{_e(c['phone'])}</td>"
            f"<td>{_e(c['email'])}</td><td>{_e(consent)}</td><td>{_e(opted)}</td></tr>"
        )
    out.append(f"</table><h2>{t['messages'].format(n=len(doc['messages']))}</h2>")
    for m in doc["messages"]:
        who = (
            f"{t['from']} {_e(m['contact'] or m['from'])}"
            if m["direction"] == "in"
            else f"{t['to']} {_e(m['contact'] or m['to'])}, {t['by']} "
            f"{_e(m['author'] or t['the_service'])}"
        )
        delivery = m["delivery"]
        status = _e(m["status"])
        if delivery:
            status += (
                f" ({t['delivery']} {_e(delivery['state'])}, {_e(delivery['attempts'])} "
                f"{t['attempts']}"
            )
            status += (
                f", {t['error']}: {_e(delivery['last_error'])})" if delivery["last_error"] else ")"
            )
        labels = ", ".join(m["classification"]["labels"]) or t["none"]
        out.append(
            f'<div class="msg {_e(m["direction"])}"><div class=meta>'
            f"#{_e(m['id'])} · {_e(m['at'])} · {_e(m['channel']).upper()} · "
            f"{t['received'] if m['direction'] == 'in' else t['sent']} · {who}<br>"
            f"{t['status_label']}: {status} · {t['priority']} {_e(m['priority'])} · "
            f"{t['labels']}: {_e(labels)}</div>"
        )
        if m["subject"]:
            out.append(f"<div><b>{t['subject']}:</b> {_e(m['subject'])}</div>")
        out.append(f"<div class=text>{_e(m['text'])}</div>")
        for key, value in (m["stripped"] or {}).items():
            out.append(
                f"<details><summary>{_e(key)}</summary><div class=text>{_e(value)}</div></details>"
            )
        for a in m["attachments"]:
            out.append(
                f"<div class=meta>{t['attachment']} {_e(a['filename'])} "
                f"({_e(a['content_type'])}, {_e(a['size'])} {t['bytes']}) — {_e(a['verdict'])} "
                f"{_e(a['reason'])} <span class=hash>{_e(a['sha256'])}</span></div>"
            )
        refs = "; ".join(f"#{r['seq']} {r['action']} {r['hash'][:16]}…" for r in m["audit"])
        out.append(
            f"<div class=meta>{t['original']} <span class=hash>{_e(m['original_sha256'])}</span>"
            f"<br>{t['audit']}: <span class=hash>{_e(refs)}</span></div></div>"
        )
    out.append(
        f"<h2>{t['handling']}</h2><table><tr><th>{t['message']}</th><th>{t['queue']}</th>"
        f"<th>{t['state']}</th><th>{t['journal_ref']}</th><th>{t['handled_by']}</th></tr>"
    )
    for q in doc["queue"]:
        out.append(
            f"<tr><td>#{_e(q['message_id'])}</td><td>{_e(q['queue'])}</td><td>{_e(q['state'])}</td>"
            f"<td>{_e(q['journal_ref'] or '—')}</td><td>{_e(q['handled_by'] or '—')}</td></tr>"
        )
    out.append("</table>")
    out.append(
        f"<h2>{t['audit_events']}</h2><table><tr><th>{t['seq']}</th><th>{t['at']}</th>"
        f"<th>{t['actor']}</th><th>{t['action']}</th><th>{t['subject_col']}</th>"
        f"<th>{t['hash']}</th></tr>"
    )
    for e in doc["audit"]:
        out.append(
            f"<tr><td>{_e(e['seq'])}</td><td>{_e(e['at'])}</td><td>{_e(e['actor'])}</td>"
            f"<td>{_e(e['action'])}</td><td>{_e(e['subject'])}</td>"
            f"<td class=hash>{_e(e['hash'])}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


async def export_cli(
    settings: Settings,
    ref: str,
    fmt: str,
    output: str | None,
    err: TextIO,
    *,
    lang: str | None = None,
) -> int:
    """`case-gateway export CASE_REF --format json|html [--output FILE]`.

    With --output the file is written (to a temporary name beside it) before the transaction
    that records ``case.exported`` commits, and renamed into place after: a path that cannot be
    written fails the command with no audit event, and an export is never recorded that was not
    delivered.
    """
    lang = lang or export_language(settings.service.language)
    target = Path(output) if output else None
    tmp: Path | None = None
    db = await open_database(settings)
    try:
        async with db.transaction() as tx:
            case = (
                await tx.session.execute(select(Case).where(Case.ref == ref))
            ).scalar_one_or_none()
            if case is None:
                raise CommandError(f"no case {ref}: check the case reference")
            doc, text = await export_case(tx, case, actor=cli_actor(), fmt=fmt, lang=lang)
            if target is not None:
                tmp = _write_beside(target, text)
        if target is not None and tmp is not None:
            os.replace(tmp, target)
            tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        await db.close()
    if target is not None:
        print(
            f"exported case {ref} ({len(doc['messages'])} messages) to {output}; "
            f"digest {doc['digest']}",
            file=err,
        )
    else:
        sys.stdout.write(text + "\n")
    return 0


def _write_beside(target: Path, text: str) -> Path:
    """Write ``text`` to a new temporary file next to ``target``; CommandError if impossible."""
    if target.is_dir():
        raise CommandError(f"--output {target} is a directory: name a file")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CommandError(
            f"cannot write --output {target} ({exc.strerror}): choose a writable path; "
            "nothing was exported"
        ) from exc
    return tmp
