"""Classification and redaction of family messages (pure core).

``classify`` finds the sensitive spans in a message (validated identifiers, contact
details, health information, names known from the case record), replaces them with typed
placeholders in the service's language, and raises risk signals that route the message
to the duty desk. Every label says which rule fired and how sure it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .contacts import EMAIL, find_addresses, find_emails, find_names
from .hard_negatives import BLANK, blank_hard_negatives
from .health import find_health
from .identifiers import find_domestic_accounts, find_ibans, find_lettered_ids, find_numbers
from .model import Classification, Entity, Risk
from .placeholders import placeholder
from .risk import find_risks

__all__ = [
    "Classification",
    "Entity",
    "Risk",
    "classify",
    "find_entities",
    "mask_for_log",
    "preview",
    "redact",
]


def _blank_spans(blanked: str, spans: Iterable[Entity]) -> str:
    chars = list(blanked)
    for e in spans:
        chars[e.start : e.end] = BLANK * (e.end - e.start)
    return "".join(chars)


def resolve_overlaps(candidates: Iterable[Entity]) -> list[Entity]:
    """One entity per group of overlapping candidates, covering all of them.

    The most confident candidate names the type and rule; the span is the union, so a
    number that two schemes both claim is hidden whole whichever type wins.
    """
    ordered = sorted(candidates, key=lambda e: (e.start, -e.end))
    resolved: list[Entity] = []
    group: list[Entity] = []
    group_end = -1
    for candidate in [*ordered, None]:
        if candidate is not None and candidate.start < group_end:
            group.append(candidate)
            group_end = max(group_end, candidate.end)
            continue
        if group:
            best = max(group, key=lambda e: (e.confidence, e.end - e.start))
            start = min(e.start for e in group)
            resolved.append(Entity(start, group_end, best.type, best.rule, best.confidence))
        if candidate is not None:
            group, group_end = [candidate], candidate.end
    return resolved


def find_entities(text: str, known_names: Sequence[str] = ()) -> list[Entity]:
    """Sensitive spans of ``text``, overlaps resolved, in text order."""
    emails = list(find_emails(text)) if "@" in text else []
    candidates = [*emails, *find_health(text), *find_names(text, known_names)]
    # Identifiers, phone numbers and addresses all contain digits; most messages none.
    digits = len(_DIGIT.findall(text))
    if not digits:
        return resolve_overlaps(candidates)
    if digits < 6:
        # Every number, account and national identifier but an IBAN holds six digits or
        # more; with fewer ("kl 14", "2 barn") the numbers need no closer look.
        candidates += [*find_ibans(text), *find_addresses(text)]
    else:
        blanked = blank_hard_negatives(text)
        lettered = list(find_lettered_ids(text, _blank_spans(blanked, emails)))
        # An ambiguous HETU ("250316-4130") stays visible so CPR and personnummer can claim it.
        certain = [e for e in lettered if e.confidence >= 0.95]
        numbers_view = _blank_spans(blanked, [*emails, *certain])
        candidates += [
            *lettered,
            *find_numbers(text, numbers_view),
            *find_domestic_accounts(text, numbers_view),
            *find_addresses(text),
        ]
    return resolve_overlaps(candidates)


def redact(text: str, entities: Sequence[Entity], language: str = "nb") -> str:
    """``text`` with each entity replaced by its typed placeholder."""
    pieces: list[str] = []
    position = 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < position:
            continue
        pieces.append(text[position : e.start])
        pieces.append(placeholder(e.type, language))
        position = e.end
    pieces.append(text[position:])
    return "".join(pieces)


def classify(text: str, *, known_names: Sequence[str] = (), language: str = "nb") -> Classification:
    """Classify one message: sensitive spans, risk signals and the redacted text.

    ``known_names`` are the names on the case record (child, siblings, parents);
    ``language`` is the service language used for placeholders ("nb", "nn", "da", "sv",
    "en"). Offsets are Python ``str`` indices into ``text``.
    """
    entities = find_entities(text, known_names)
    return Classification(
        entities=tuple(entities),
        risks=tuple(find_risks(text)),
        redacted=redact(text, entities, language),
    )


_DIGIT = re.compile(r"\d")
_LOG_DIGITS = re.compile(r"\+?\d(?:[\d \-.()]{4,}\d)")


def _mask_digits(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group())
    return "***" + digits[-2:] if len(digits) >= 6 else m.group()


def _mask_email(m: re.Match[str]) -> str:
    local, _, domain = m.group().partition("@")
    return local[:1] + "***@" + domain


def mask_for_log(text: str) -> str:
    """Mask phone numbers, identifiers and e-mail addresses for a log line.

    Cheaper and blunter than ``classify``: every run of six or more digits keeps only its
    last two ("***67"), and an e-mail address keeps its first letter and domain
    ("k***@example.no") so operators can still tell senders apart.
    """
    return _LOG_DIGITS.sub(_mask_digits, EMAIL.sub(_mask_email, text))


def preview(
    text: str, *, known_names: Sequence[str] = (), language: str = "nb", limit: int = 140
) -> str:
    """A redacted one-line preview of at most ``limit`` characters for queues and notices."""
    flat = " ".join(classify(text, known_names=known_names, language=language).redacted.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: max(limit - 1, 0)]
    # Never end inside a placeholder or a word.
    open_bracket = cut.rfind("[")
    if open_bracket > cut.rfind("]"):
        cut = cut[:open_bracket]
    elif " " in cut and not flat[len(cut)].isspace():
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + "…"
