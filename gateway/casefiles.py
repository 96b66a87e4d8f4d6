"""`case-gateway cases import FILE`: cases and contacts exported from the journal system.

JSON ``{"cases": [{"ref", "title", "team", "caseworker", "status", "contacts": [...]}]}`` or CSV
with the same fields flattened, one row per contact (``contact_name``, ``contact_role``,
``contact_phone``, ``contact_email``, ``contact_language``, ``consent_sms``, ``consent_email``).
The whole file is checked first: a bad row is reported with its line number and nothing of that
file is imported. Importing again updates by case ref (idempotent).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from gateway.command_errors import CommandError, cli_actor, open_database
from gateway.core.addresses import normalise_email, normalise_phone
from gateway.settings import Settings
from gateway.storage.db import Tx, utcnow
from gateway.storage.models import Case, Contact, User

LANGUAGES = {"nb", "nn", "da", "sv", "en"}
TRUE = {"1", "true", "yes", "ja", "y"}


class ImportError_(ValueError):
    """A problem in the import file; ``line`` is where it is."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class ContactRow:
    name: str
    role: str
    phone: str | None
    email: str | None
    language: str
    consent_sms: bool
    consent_email: bool


@dataclass
class CaseRow:
    line: int
    ref: str
    title: str
    team: str
    caseworker: str | None
    status: str
    contacts: list[ContactRow] = field(default_factory=list)


def _contact(line: int, raw: dict[str, Any], region: str) -> ContactRow:
    name = str(raw.get("name") or "").strip()
    if not name:
        raise ImportError_(line, "contact without a name")
    phone_raw = str(raw.get("phone") or "").strip()
    phone = normalise_phone(phone_raw, region) if phone_raw else None
    if phone_raw and phone is None:
        raise ImportError_(line, f"contact {name!r}: {phone_raw!r} is not a valid phone number")
    email_raw = str(raw.get("email") or "").strip()
    if email_raw and "@" not in email_raw:
        raise ImportError_(line, f"contact {name!r}: {email_raw!r} is not an e-mail address")
    language = str(raw.get("language") or "nb").strip()
    if language not in LANGUAGES:
        raise ImportError_(
            line, f"contact {name!r}: language must be one of {', '.join(sorted(LANGUAGES))}"
        )
    consent = raw.get("consent") or {}
    if not isinstance(consent, dict):
        raise ImportError_(line, 'consent must be an object {"sms": bool, "email": bool}')
    return ContactRow(
        name,
        str(raw.get("role") or "parent").strip(),
        phone,
        normalise_email(email_raw) if email_raw else None,
        language,
        _bool(consent.get("sms")),
        _bool(consent.get("email")),
    )


def _bool(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() in TRUE)


def _case(line: int, raw: dict[str, Any]) -> CaseRow:
    for key in ("ref", "title", "team"):
        if not str(raw.get(key) or "").strip():
            raise ImportError_(line, f"case is missing {key!r}")
    status = str(raw.get("status") or "open").strip()
    if status not in {"open", "closed"}:
        raise ImportError_(
            line, f"case {raw['ref']}: status must be open or closed, got {status!r}"
        )
    worker = str(raw.get("caseworker") or "").strip().lower() or None
    return CaseRow(
        line,
        str(raw["ref"]).strip(),
        str(raw["title"]).strip(),
        str(raw["team"]).strip(),
        worker,
        status,
    )


def parse_json(text: str, region: str) -> list[CaseRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportError_(exc.lineno, f"not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ImportError_(1, 'expected {"cases": [...]}')
    lines = text.splitlines()
    out = []
    for i, raw in enumerate(data["cases"]):
        line = _line_of(lines, raw.get("ref") if isinstance(raw, dict) else None, i)
        if not isinstance(raw, dict):
            raise ImportError_(line, "each case must be an object")
        row = _case(line, raw)
        contacts = raw.get("contacts")
        if contacts is not None and not isinstance(contacts, list):
            raise ImportError_(
                line, f"case {row.ref}: contacts must be a list of objects, got {contacts!r}"[:200]
            )
        for c in contacts or []:
            if not isinstance(c, dict):
                raise ImportError_(line, "each contact must be an object")
            row.contacts.append(_contact(line, c, region))
        out.append(row)
    return out


def _line_of(lines: list[str], ref: Any, index: int) -> int:
    """Best effort: the line where this case's ref appears (JSON has no row numbers)."""
    if ref is not None:
        needle = json.dumps(str(ref))
        for n, text in enumerate(lines, 1):
            if needle in text:
                return n
    return index + 1


def parse_csv(text: str, region: str) -> list[CaseRow]:
    reader = csv.DictReader(io.StringIO(text))
    required = {"ref", "title", "team"}
    if reader.fieldnames is None or not required <= set(reader.fieldnames):
        raise ImportError_(1, f"the header must name at least {', '.join(sorted(required))}")
    cases: dict[str, CaseRow] = {}
    for raw in reader:
        line = reader.line_num
        row = _case(line, raw)
        existing = cases.setdefault(row.ref, row)
        if raw.get("contact_name"):
            contact = {
                "name": raw.get("contact_name"),
                "role": raw.get("contact_role"),
                "phone": raw.get("contact_phone"),
                "email": raw.get("contact_email"),
                "language": raw.get("contact_language"),
                "consent": {"sms": raw.get("consent_sms"), "email": raw.get("consent_email")},
            }
            existing.contacts.append(_contact(line, contact, region))
    return list(cases.values())


async def apply_import(tx: Tx, rows: list[CaseRow], actor: str) -> tuple[int, int]:
    """Create or update cases by ref and their contacts; returns (cases created, updated)."""
    created = updated = 0
    s = tx.session
    for row in rows:
        worker_id = None
        if row.caseworker:
            worker = (
                await s.execute(select(User).where(User.email == row.caseworker))
            ).scalar_one_or_none()
            if worker is None:
                raise ImportError_(
                    row.line, f"case {row.ref}: no user {row.caseworker}; add them with `users add`"
                )
            if worker.role not in ("caseworker", "team_lead"):
                raise ImportError_(
                    row.line,
                    f"case {row.ref}: {row.caseworker} has the {worker.role} role; a case's caseworker is a caseworker or team_lead",
                )
            worker_id = worker.id
        case = (await s.execute(select(Case).where(Case.ref == row.ref))).scalar_one_or_none()
        if case is None:
            case = Case(
                ref=row.ref,
                title=row.title,
                team=row.team,
                caseworker_id=worker_id,
                status=row.status,
                created_at=utcnow(),
            )
            s.add(case)
            await s.flush()
            created += 1
            tx.audit(actor, "case.imported", f"case:{case.id}", ref=row.ref, team=row.team)
        else:
            case.title, case.team, case.caseworker_id, case.status = (
                row.title,
                row.team,
                worker_id,
                row.status,
            )
            updated += 1
            tx.audit(actor, "case.updated_by_import", f"case:{case.id}", ref=row.ref, team=row.team)
        existing = (
            (await s.execute(select(Contact).where(Contact.case_id == case.id))).scalars().all()
        )
        for c in row.contacts:
            match = next((e for e in existing if e.name == c.name and e.role == c.role), None)
            if match is None:
                match = Contact(case_id=case.id, name=c.name, role=c.role, verified=True)
                s.add(match)
            consent_changed = (match.consent_sms, match.consent_email) != (
                c.consent_sms,
                c.consent_email,
            )
            match.phone, match.email, match.language = c.phone, c.email, c.language
            match.consent_sms, match.consent_email = c.consent_sms, c.consent_email
            if consent_changed:
                match.consent_by, match.consent_at = actor, utcnow()
            await s.flush()
            tx.audit(
                actor,
                "contact.imported",
                f"contact:{match.id}",
                case=row.ref,
                role=c.role,
                consent_sms=c.consent_sms,
                consent_email=c.consent_email,
            )
    return created, updated


async def import_cases_file(settings: Settings, path: str, out: TextIO, err: TextIO) -> int:
    """Check the whole file, then import it in one transaction; problems are one line each."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"cannot read {path}: not UTF-8 text (at byte {exc.start}); export it as UTF-8 JSON or CSV"
        ) from exc
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
    region = settings.sms.default_region
    try:
        rows = (
            parse_json(text, region) if text.lstrip().startswith("{") else parse_csv(text, region)
        )
    except ImportError_ as exc:
        raise CommandError(f"{path}: {exc}; nothing was imported") from exc
    db = await open_database(settings)
    try:
        async with db.transaction() as tx:
            created, updated = await apply_import(tx, rows, cli_actor())
    except ImportError_ as exc:
        raise CommandError(f"{path}: {exc}; nothing was imported") from exc
    finally:
        await db.close()
    print(
        f"imported {path}: {created} case(s) created, {updated} updated, "
        f"{sum(len(r.contacts) for r in rows)} contact(s)",
        file=out,
    )
    return 0
