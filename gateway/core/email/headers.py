"""Reading header fields defensively: every value decoded, cleaned and never trusted."""

from __future__ import annotations

import re
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from gateway.core.email.text_decoding import clean_header_text, decode_text_bytes

_MSG_ID = re.compile(r"<([^<>\s]{1,900})>")
# More references than this add nothing to threading and only cost space.
MAX_REFERENCES = 100


def header_text(msg: Message, name: str, defects: list[str]) -> str | None:
    """The first ``name`` header as one clean line, or None when absent or unreadable."""
    values = header_texts(msg, name, defects)
    return values[0] if values else None


def header_texts(msg: Message, name: str, defects: list[str]) -> list[str]:
    """Every ``name`` header, in order, each as one clean line.

    The library's header registry decodes and parses each value; when it refuses a hostile
    one (it raises on some encoded-word tricks), the raw value is decoded more simply
    rather than lost.
    """
    wanted = name.lower()
    texts: list[str] = []
    for raw_name, raw_value in msg.raw_items():
        if raw_name.lower() != wanted:
            continue
        try:
            value = str(msg.policy.header_fetch_parse(raw_name, raw_value))
        except Exception as exc:
            defects.append(f"header-unparseable: {name}: {type(exc).__name__}")
            value = _decode_words(raw_value)
        texts.append(clean_header_text(value))
    return texts


def _decode_words(raw_value: str) -> str:
    """RFC 2047 encoded words decoded leniently, each with charset fallbacks."""
    try:
        chunks = decode_header(raw_value)
    except Exception:
        return raw_value
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_text_bytes(chunk, charset)[0])
    return "".join(out)


def normalise_address(addr: str) -> str:
    """An e-mail address in the form we compare and store: trimmed, no brackets, lower-case.

    Lower-casing the local part is technically lossy, but every mailbox provider our
    families use treats it case-insensitively, and matching a sender to a contact must not
    fail on "Kari.Nordmann@Example.no". Sub-addresses (``+tag``) are kept: they may be a
    different person's mailbox. Returns "" when the text is not an address.
    """
    text = clean_header_text(addr).strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if text.count("@") != 1 or any(c.isspace() for c in text):
        return ""
    local, domain = text.rsplit("@", 1)
    domain = domain.rstrip(".")
    if not local or not domain:
        return ""
    try:
        # IDNA-encoded domains compare equal to their Unicode spelling.
        domain = domain.encode("ascii").decode("idna") if "xn--" in domain.lower() else domain
    except UnicodeError:
        pass
    return f"{local}@{domain}".lower()


def addresses(msg: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, normalised address) pairs from every ``name`` header; bad ones skipped."""
    pairs: list[tuple[str, str]] = []
    for value in header_texts(msg, name, defects):
        try:
            parsed = getaddresses([value])
        except Exception as exc:
            defects.append(f"address-unparseable: {name}: {type(exc).__name__}")
            continue
        for display, addr in parsed:
            normalised = normalise_address(addr)
            if normalised:
                pairs.append((clean_header_text(display), normalised))
    return pairs


def message_ids(value: str | None) -> list[str]:
    """Message-IDs named in a header value, in header form (``<id@host>``), deduplicated."""
    if not value:
        return []
    found = [f"<{m}>" for m in _MSG_ID.findall(value)]
    if not found:
        # Some clients drop the brackets; accept one bare id that still looks like one.
        bare = value.strip()
        if "@" in bare and not any(c.isspace() or c in "<>" for c in bare) and len(bare) < 900:
            found = [f"<{bare}>"]
    seen: dict[str, None] = {}
    for mid in found:
        seen.setdefault(mid, None)
    return list(seen)


def iso_date(value: str | None, defects: list[str]) -> str | None:
    """The Date header as ISO 8601, or None (with a defect) when it cannot be read."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("date-unparseable")
        return None
