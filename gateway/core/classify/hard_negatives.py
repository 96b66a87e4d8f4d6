"""Numbers that look like identifiers but are not: dates, times, amounts and references.

Rather than teach every detector about them, the classifier blanks them out of a working
copy of the text (same length, so offsets still line up) before it looks for numbers.
"""

from __future__ import annotations

import re

from .checksums import fnr_valid, valid_date
from .folding import lower_in_place
from .prefilter import Gate

BLANK = "#"

_DATE = re.compile(
    r"(?<![\d.\-/])(?:"
    r"(?P<iso>(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?)"
    r"|(?P<dmy>(?P<d2>\d{1,2})(?P<sep>[./-])(?P<m2>\d{1,2})(?P=sep)(?P<y2>\d{4}|\d{2}))"
    r")(?![./\-]?\d)"
)
_TIME = re.compile(
    r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)|\b(?:kl|klokka|klockan)\.?\s?\d{1,2}(?:[.:]\d{2})?\b"
)
# Opening hours as services and families write them: "08.00-15.30", "8:00 – 15:30".
_TIME_RANGE = re.compile(
    r"(?<![\d.])(?:[01]?\d|2[0-3])[.:][0-5]\d\s?[-–]\s?(?:[01]?\d|2[0-3])[.:][0-5]\d(?![\d.])"
)
_AMOUNT_NUM = r"\d{1,3}(?:[ .,\u00a0']\d{3})+(?:[.,]\d{1,2}|,-)?|\d+(?:[.,]\d{1,2}|,-)?"
_AMOUNT = re.compile(
    rf"(?:\b(?:kr|nok|sek|dkk|eur|usd|gbp)\.?|[€$£])\s?(?:{_AMOUNT_NUM})"
    rf"|(?<![\d.,])(?:{_AMOUNT_NUM})\s?(?:kr\b|kroner|kronor|nok\b|sek\b|dkk\b|euro|eur\b|pounds?|dollars?|usd\b|gbp\b|,-)",
)
# Every amount names its currency; most messages have none, so skip the pattern then.
_CURRENCY_HINT = re.compile(r"kr|nok|sek|dkk|eur|usd|gbp|[€$£]|pound|dollar|,-")
# Case, order, invoice and parcel references that families quote back to us.
_REFERENCE = re.compile(
    r"\b(?:saks?(?:nummer|nr)?|sags?(?:nummer|nr)?|sag|ärende(?:nummer|nr|t)?|ref(?:eranse|erence|erens|\.)?"
    r"|ordre(?:nummer|nr)?|order(?:nummer|nr|\s?number|\s?no)?|bestilling(?:snummer|snr)?"
    r"|faktura(?:nummer|nr)?|invoice(?:\s?number|\s?no)?|kunde(?:nummer|nr)|kundnummer"
    r"|customer(?:\s?number|\s?no)?|case(?:\s?number|\s?no|\s?ref)?|ticket|journal(?:nummer|nr|post)?"
    r"|j\.?nr|sporings(?:nummer|nr)|tracking(?:\s?number|\s?no)?|kolli(?:nummer|nr)?|pakke(?:nummer|nr)?"
    r"|medlems(?:nummer|nr)|member(?:ship)?(?:\s?number|\s?no)?|booking(?:nummer|nr|\s?number|\s?ref)?"
    r"|dokument(?:nummer|nr)?|arkiv(?:nummer|nr)?|kvittering(?:snummer|snr)?|kvitto(?:nummer)?"
    r"|receipt(?:\s?number|\s?no)?|forsendelse(?:snummer)?|vedtak(?:snummer)?|policy(?:\s?number|\s?no)?"
    r"|polise(?:nummer|nr)?|skadenummer|claim(?:\s?number|\s?no)?"
    # Agreements, organisations and payment references: "avtalenummer 41-22-8731",
    # "BG 5050-1055", "KID 2026 4471", "org.nr. 974 760 673", "routing 044201000".
    r"|avtale(?:nummer|nr)|aftale(?:nummer|nr)|avtals(?:nummer|nr)|cvr(?:-nr|-nummer)?"
    r"|org(?:anisasjons|anisations)?\.?\s?(?:nummer|nr)|y-tunnus|bankgiro|plusgiro|bg|pg"
    r"|ocr(?:-nummer|-numret|-nr|nummer|numret)?|kid(?:-nummer|nummer|nr)?|bankreferanse"
    r"|routing(?:\s?number|\s?no)?|aba)(?:et|en|a|t)?"
    r"\.?\s?(?:nr\.?|no\.?|number|nummer|id)?\s?[:#]?\s?(?:er|is|är|var|was|blir)?\s?"
    r"(?P<ref>[a-z]{0,4}[-/]?\d[\d\-/.]*\d|\d)"
)


# References follow a word that names them ("saksnummer", "order no"); most messages lack one.
_REFERENCE_GATE = Gate([_REFERENCE])


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] != " ":
            chars[i] = BLANK


_INDIVIDUAL_NUMBER = re.compile(r"[ \u00a0]\d{5}(?![\d\-])")


def _fnr_after_date(text: str, m: re.Match[str]) -> bool:
    """ "12.08.72 44405": a fødselsnummer written with its date part dotted."""
    if not m.group("dmy") or len(m.group("y2")) != 2:
        return False
    after = _INDIVIDUAL_NUMBER.match(text, m.end())
    if after is None:
        return False
    digits = m.group("d2").zfill(2) + m.group("m2").zfill(2) + m.group("y2") + after.group()[1:]
    return fnr_valid(digits)


def blank_hard_negatives(text: str) -> str:
    """A copy of ``text`` with dates, times, amounts and reference numbers blanked out.

    Blanked characters become ``#`` (spaces stay), so detectors that read the copy see
    no digits there and every offset still points at the same place in ``text``.
    """
    chars = list(text)
    for m in _DATE.finditer(text):
        if m.group("iso"):
            y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        else:
            y2 = m.group("y2")
            y = int(y2) if len(y2) == 4 else 2000 + int(y2)
            mo, d = int(m.group("m2")), int(m.group("d2"))
        if valid_date(y, mo, d) and not _fnr_after_date(text, m):
            _blank(chars, m.start(), m.end())
    # Amount and reference patterns are written in lower case and matched against the
    # lower-cased text (faster than ignoring case); offsets agree when lengths do.
    lower = lower_in_place(text)
    patterns = [_AMOUNT] if _CURRENCY_HINT.search(lower) else []
    if ":" in lower or "kl" in lower:
        patterns.append(_TIME)
    if "-" in lower or "–" in lower:
        patterns.append(_TIME_RANGE)
    for pattern in patterns:
        for m in pattern.finditer(lower):
            _blank(chars, m.start(), m.end())
    if _REFERENCE_GATE.open(lower):
        for m in _REFERENCE.finditer(lower):
            _blank(chars, m.start("ref"), m.end("ref"))
    return "".join(chars)
