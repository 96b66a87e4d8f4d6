"""Operator-editable message templates: loading, rendering and validation.

Templates are plain files ``<language>/<kind>.txt``. A first line ``Subject: ...`` gives the
e-mail subject; the rest is the body (the SMS text). Placeholders are ``{name}``; a literal
brace is written ``{{`` or ``}}``. Rendering substitutes plain names only, never attribute or
index lookups, so an edited template cannot reach into the values it is given.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Final

from gateway.core.sms import count_segments

LANGUAGES: Final = ("nb", "nn", "da", "sv", "en")
DEFAULT_LANGUAGE: Final = "nb"
# Kinds sent to families; these are also SMS, so their length and encoding matter.
FAMILY_KINDS: Final = ("receipt", "out_of_hours", "unknown_sender")
STAFF_KINDS: Final = ("staff_notification", "staff_notification_triage", "staff_digest")
KINDS: Final = FAMILY_KINDS + STAFF_KINDS

_FAMILY_PLACEHOLDERS: Final = frozenset(
    {"service_name", "opening_hours", "emergency_numbers", "case_ref", "channel", "signature"}
)
# Staff notifications get no content, names or numbers, so none can be asked for.
_STAFF_PLACEHOLDERS: Final = frozenset({"service_name", "case_ref", "channel", "urgency", "link"})
PLACEHOLDERS_BY_KIND: Final[Mapping[str, frozenset[str]]] = {
    "receipt": _FAMILY_PLACEHOLDERS,
    "out_of_hours": _FAMILY_PLACEHOLDERS,
    "unknown_sender": _FAMILY_PLACEHOLDERS - {"case_ref"},
    "staff_notification": _STAFF_PLACEHOLDERS,
    "staff_notification_triage": _STAFF_PLACEHOLDERS - {"case_ref"},
    "staff_digest": frozenset({"service_name", "count", "items", "link"}),
}
# Realistic values used to estimate what a rendered SMS costs.
TYPICAL_VALUES: Final[Mapping[str, str]] = {
    "service_name": "Barneverntjenesten i Eksempel kommune",
    "opening_hours": "man-fre 08.00-15.30",
    "emergency_numbers": "112 eller barnevernvakten 22 34 90 90",
    "case_ref": "2024-0412",
    "channel": "SMS",
    "signature": "Barneverntjenesten",
    "urgency": ", haster",
    "link": "https://gateway.example.no/cases/2024-0412",
    "count": "3",
    "items": "- 2024-0412 (SMS)",
}


class TemplateError(ValueError):
    """A template that is missing or cannot be rendered; the message names it."""


@dataclass(frozen=True)
class Template:
    """One template as the operator wrote it (unparsed, so validation can report problems)."""

    language: str
    kind: str
    subject: str | None
    body: str


@dataclass(frozen=True)
class TemplateSet:
    """All loaded templates keyed by (language, kind)."""

    templates: Mapping[tuple[str, str], Template] = field(default_factory=dict)

    def get(self, kind: str, language: str) -> Template | None:
        """The template for ``kind`` in ``language``, or None."""
        return self.templates.get((language, kind))


@dataclass(frozen=True)
class TemplateIssue:
    """A problem found by validate_templates; errors block startup, warnings inform."""

    severity: str  # "error" | "warning"
    language: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.language}/{self.kind}.txt: {self.message}"


def _split_subject(text: str) -> tuple[str | None, str]:
    text = text.replace("\r\n", "\n").strip("\n")
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return first[len("subject:") :].strip(), rest.strip("\n")
    return None, text


def load_templates(files: Mapping[str, str]) -> TemplateSet:
    """Build a TemplateSet from {"nb/receipt.txt": text, ...} read by the caller."""
    loaded: dict[tuple[str, str], Template] = {}
    for name, text in files.items():
        language, slash, filename = name.replace("\\", "/").partition("/")
        if not slash or "/" in filename or not filename.endswith(".txt") or not language:
            raise TemplateError(f"{name}: expected a name like 'nb/receipt.txt'")
        kind = filename.removesuffix(".txt")
        subject, body = _split_subject(text)
        loaded[(language, kind)] = Template(language, kind, subject, body)
    return TemplateSet(loaded)


def placeholders(text: str) -> list[str]:
    """The placeholder names in ``text``; raises TemplateError on unbalanced or odd braces."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            f"unbalanced braces ({exc}); write {{{{ or }}}} for a literal brace"
        ) from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise TemplateError(
                f"placeholder {{{name}}} must be a plain name like {{service_name}}"
            )
        if spec or conversion:
            raise TemplateError(f"placeholder {{{name}}} takes no format spec or conversion")
        names.append(name)
    return names


def _substitute(text: str, values: Mapping[str, str]) -> str:
    placeholders(text)  # validates before anything is produced
    out: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            if name not in values:
                raise TemplateError(f"no value for placeholder {{{name}}}")
            out.append(values[name])
    return "".join(out)


@dataclass(frozen=True)
class RenderedMessage:
    """A rendered template: the e-mail subject (None when the template has none) and body."""

    subject: str | None
    body: str


def render_message(
    templates: TemplateSet,
    kind: str,
    language: str,
    values: Mapping[str, str],
    default_language: str = DEFAULT_LANGUAGE,
) -> RenderedMessage:
    """Render subject and body of ``kind`` in ``language``, else in the default language."""
    template = templates.get(kind, language) or templates.get(kind, default_language)
    if template is None:
        raise TemplateError(f"no template {kind!r} in {language!r} or {default_language!r}")
    where = f"{template.language}/{template.kind}.txt"
    try:
        subject = None if template.subject is None else _substitute(template.subject, values)
        body = _substitute(template.body, values)
    except TemplateError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    return RenderedMessage(subject, body)


def render(
    templates: TemplateSet,
    kind: str,
    language: str,
    values: Mapping[str, str],
    default_language: str = DEFAULT_LANGUAGE,
) -> str:
    """Render the body of ``kind`` in ``language``, falling back to the default language."""
    return render_message(templates, kind, language, values, default_language).body


def validate_templates(
    templates: TemplateSet,
    *,
    allowed_placeholders: Mapping[str, Collection[str]] | Collection[str] = PLACEHOLDERS_BY_KIND,
    languages: Collection[str] = LANGUAGES,
    kinds: Collection[str] = KINDS,
    typical_values: Mapping[str, str] = TYPICAL_VALUES,
) -> list[TemplateIssue]:
    """Check templates as ``check-config`` does.

    Errors: a kind missing for a language, unbalanced braces, unknown placeholders.
    Warnings: a family template that renders (with typical values) to 2+ SMS or to UCS-2.
    """
    issues: list[TemplateIssue] = []
    for language in languages:
        for kind in kinds:
            template = templates.get(kind, language)
            if template is None:
                issues.append(TemplateIssue("error", language, kind, "missing"))
                continue
            issues.extend(_check_one(template, allowed_placeholders, typical_values))
    return issues


def _check_one(
    template: Template,
    allowed_placeholders: Mapping[str, Collection[str]] | Collection[str],
    typical_values: Mapping[str, str],
) -> list[TemplateIssue]:
    def issue(severity: str, message: str) -> TemplateIssue:
        return TemplateIssue(severity, template.language, template.kind, message)

    if isinstance(allowed_placeholders, Mapping):
        allowed: Collection[str] = allowed_placeholders.get(template.kind, ())
    else:
        allowed = allowed_placeholders
    parts = {"subject": template.subject or "", "body": template.body}
    found: list[str] = []
    issues = []
    for part, text in parts.items():
        try:
            found.extend(placeholders(text))
        except TemplateError as exc:
            issues.append(issue("error", f"{part}: {exc}"))
    for name in sorted(set(found) - set(allowed)):
        issues.append(
            issue("error", f"unknown placeholder {{{name}}}; allowed: {', '.join(sorted(allowed))}")
        )
    if not template.body.strip():
        issues.append(issue("error", "the body is empty"))
    if issues or template.kind not in FAMILY_KINDS:
        return issues
    values = {name: typical_values.get(name, name) for name in found}
    segments = count_segments(_substitute(template.body, values))
    if segments.encoding == "UCS-2":
        issues.append(
            issue(
                "warning",
                "uses characters outside GSM-7 (emoji, curly quotes, dashes): "
                f"sent as UCS-2, only 70 characters per SMS ({segments.count} SMS)",
            )
        )
    if segments.count >= 2:
        issues.append(
            issue(
                "warning",
                f"about {segments.count} SMS ({segments.units} {segments.encoding} "
                "units with typical values); each SMS is billed",
            )
        )
    return issues


# --- Shell-side helper: the only I/O in this module -------------------------------------


def read_template_dir(path: str) -> dict[str, str]:
    """Read every ``<language>/<kind>.txt`` under ``path`` for load_templates (UTF-8)."""
    from pathlib import Path

    root = Path(path)
    return {
        f"{file.parent.name}/{file.name}": file.read_text(encoding="utf-8")
        for file in sorted(root.glob("*/*.txt"))
    }
