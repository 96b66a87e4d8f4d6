"""Splitting a message body into what the family wrote now, quoted history and signature.

Conservative by design: a line is only moved out of ``new_text`` when a client's own
history or signature marker is recognised; when unsure, the line stays. Markers covered:
Gmail, Outlook desktop and web, Apple Mail and iPhone, Android, Thunderbird, in Norwegian
(bokmål and nynorsk), Danish, Swedish and English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
# "... wrote:" / "... skrev Kari <kari@example.no>:" / "... skreiv ...:" / "skrev följande:"
_ATTRIBUTION_END = re.compile(
    r"\b(wrote|writes|skrev|skreiv|skriver|schrieb|a écrit|kirjoitti)\b[^:]{0,200}:\s*$", re.I
)
_ORIGINAL_MARKER = re.compile(
    r"^\s*-{2,}\s*(original message|original e-?mail|opprinnelig melding|opprinneleg melding|"
    r"oprindelig meddelelse|oprindelig besked|oprindelig e-?mail|ursprungligt meddelande|"
    r"originalmeddelande|opprinnelig e-?post|opphavleg melding)\s*-{2,}\s*$",
    re.I,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|videresendt melding|vidaresendt melding|"
    r"videresendt meddelelse|videresendt besked|vidarebefordrat meddelande|"
    r"vidarebefordrat brev|videresendt e-?post)\s*-{2,}|"
    r"(begin forwarded message|start på videresendt (melding|e-?post|besked|meddelelse)|"
    r"start på vidaresendt (melding|e-?post)|början på vidarebefordrat (brev|meddelande)|"
    r"videresendt (melding|e-?post)|vidarebefordrat brev)\s*:)\s*$",
    re.I,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_LINE = re.compile(r"^\s*\*?([A-Za-zÆØÅæøåÄÖäö-]{2,12})\*?\s*:\s*\*?", re.U)
_FROM_KEYS = {"from", "fra", "frå", "från", "von", "de", "afsender", "avsender", "avsändare"}
_DATE_KEYS = {"sent", "sendt", "skickat", "date", "dato", "datum", "gesendet", "sendte"}
_TO_KEYS = {"to", "til", "till", "an", "cc", "kopi", "kopia", "mottaker", "modtager"}
_SUBJECT_KEYS = {"subject", "emne", "ämne", "betreff", "tema", "titel"}
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|vs|vb|wg|tr|videresend)\s*:", re.I)
# Only lines naming a device or mail app: "Sendt med posten i går." is the family's words.
_MOBILE_SIGNATURE = re.compile(
    r"^\s*((sent|sendt|skickat|skickad)\s+(from|fra|frå|från|via|with|med)\s+"
    r"(my\s+|min\s+|mi\s+|mitt\s+)?(an?\s+)?(iphone|ipad|ipod|mobil|mobile|mobilen|android|"
    r"samsung|galaxy|huawei|xiaomi|oneplus|pixel|smart|telefon|phone|outlook|mail|yahoo|"
    r"gmail|aol|proton|windows|blackberry|nokia|motorola|sony)\S*\b.{0,60}|"
    r"(get|hent|skaff|skaffa|få|last ned)\s+outlook\s+(for|för|til|på)\s+(ios|android)\b.{0,60})$",
    re.I,
)
# Bodies longer than this are not searched for history or signatures.
MAX_SPLIT_CHARS = 1_000_000
# A "-- " block longer than this is more likely the family's own text than a signature.
_MAX_SIGNATURE_LINES = 12


@dataclass(frozen=True)
class BodySplit:
    """A body cut into the parts a caseworker sees and the parts kept aside."""

    new_text: str
    quoted_text: str
    signature: str
    forwarded: bool


def split_body(text: str, subject: str = "") -> BodySplit:
    """Cut ``text`` into new text, quoted history and signature (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(text) > MAX_SPLIT_CHARS:
        # Far longer than anything a family types: keep it whole rather than spend seconds.
        return BodySplit(_join(lines), "", "", False)
    start, kind = _history_start(lines)
    if kind == "forward" or (kind == "headers" and _FORWARD_SUBJECT.match(subject)):
        # A forwarded message is the point of the mail: keep all of it.
        return BodySplit(_join(lines), "", "", True)
    quoted_lines: list[str]
    if start is None:
        new_lines, quoted_lines = lines, []
    elif kind == "attribution":
        new_lines, quoted_lines = _split_quoted_region(lines, start)
    else:
        new_lines, quoted_lines = lines[:start], lines[start:]
    body_lines, signature_lines = _split_signature(new_lines)
    if not any(line.strip() for line in body_lines):
        # Nothing recognisable as new words: rather show everything than nothing.
        return BodySplit(_join(lines), "", "", False)
    return BodySplit(_join(body_lines), _join(quoted_lines), _join(signature_lines), False)


def _join(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _is_quoted(line: str) -> bool:
    return line.lstrip(" ").startswith(">")


def _history_start(lines: list[str]) -> tuple[int | None, str]:
    """Index of the first line of quoted history and which kind of marker began it."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue  # no marker is blank; skipping them keeps long bodies cheap
        if _FORWARD_MARKER.match(line):
            return i, "forward"
        if _ORIGINAL_MARKER.match(line):
            return i, "headers"
        if _UNDERSCORES.match(line) and _header_block_at(lines, _next_nonblank(lines, i + 1)):
            return i, "headers"
        if _header_block_at(lines, i):
            return i, "headers"
        attribution = _attribution_start(lines, i)
        if attribution is not None:
            return attribution, "attribution"
        if _is_quoted(line):
            return i, "attribution"
    return None, ""


def _next_nonblank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _header_key(line: str) -> str | None:
    match = _HEADER_LINE.match(line)
    return match.group(1).lower() if match else None


def _header_group(key: str | None) -> str | None:
    if key in _FROM_KEYS:
        return "from"
    if key in _DATE_KEYS:
        return "date"
    if key in _TO_KEYS:
        return "to"
    if key in _SUBJECT_KEYS:
        return "subject"
    return None


def _header_block_at(lines: list[str], i: int) -> bool:
    """A quoted header block ("From:/Sent:/To:/Subject:", any of our languages) starts at i.

    Outlook starts it with From; Hotmail and Outlook.com start it with Date ("Date: …",
    "Subject: …", "From: …", "To: …"). Either way it needs From plus two of date/to/subject.
    """
    if i >= len(lines):
        return False
    first = _header_group(_header_key(lines[i]))
    if first not in ("from", "date"):
        return False
    groups: set[str] = {first}
    j, seen = i + 1, 0
    while j < len(lines) and seen < 6:
        if lines[j].strip():
            seen += 1
            key = _header_key(lines[j])
            if key is None:
                break
            group = _header_group(key)
            if group is not None:
                groups.add(group)
        j += 1
    # From plus two of date/to/subject: a family's own "Fra: mamma" line is not enough.
    return "from" in groups and len(groups) >= 3


def _attribution_start(lines: list[str], j: int) -> int | None:
    """First line of an "On … wrote:" attribution ending at line j, if it heads a quote."""
    line = lines[j]
    if not line.rstrip().endswith(":") or _is_quoted(line):
        return None
    following = _next_nonblank(lines, j + 1)
    if following >= len(lines) or not _is_quoted(lines[following]):
        return None
    # Gmail wraps long attributions (often right after "<"); look back up to two lines.
    for back in range(3):
        first = j - back
        if first < 0 or (back and not lines[first].strip()):
            break
        joined = " ".join(part.strip() for part in lines[first : j + 1])
        if len(joined) > 400:
            break
        if _ATTRIBUTION_END.search(joined) and _TIME.search(joined):
            return first
    # Without a date, only a short "Kari <kari@example.no> skrev:" line counts.
    if _ATTRIBUTION_END.search(line) and ("@" in line or len(line) < 100):
        return j
    return None


def _split_quoted_region(lines: list[str], start: int) -> tuple[list[str], list[str]]:
    """Top-posted history is cut; interleaved answers keep their lines and the context."""
    attribution_lines: set[int] = set()
    for k in range(start, len(lines)):
        first = _attribution_start(lines, k)
        if first is not None:
            attribution_lines.update(range(first, k + 1))
    last_new = None
    for k in range(start, len(lines)):
        line = lines[k]
        if not line.strip() or _is_quoted(line) or _MOBILE_SIGNATURE.match(line):
            continue
        if k not in attribution_lines:
            last_new = k
    if last_new is None:
        return lines[:start], lines[start:]
    # The family answered between or below quoted lines: keep all of it, quotes included,
    # so each answer keeps its question; only a trailing run of quotes is history.
    end = last_new + 1
    while end < len(lines) and not _is_quoted(lines[end]) and end not in attribution_lines:
        end += 1
    return lines[:end], lines[end:]


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Cut a trailing mobile-client signature and a "-- " signature block."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    cut = end
    while cut and (_MOBILE_SIGNATURE.match(lines[cut - 1]) or not lines[cut - 1].strip()):
        cut -= 1
    for k in range(cut - 1, -1, -1):
        if lines[k].rstrip() == "--":
            if sum(1 for line in lines[k + 1 : cut] if line.strip()) <= _MAX_SIGNATURE_LINES:
                cut = k
            break
    return lines[:cut], lines[cut:end]
