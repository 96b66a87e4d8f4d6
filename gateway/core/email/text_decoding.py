"""Turning bytes and header values of unknown quality into clean text, never losing it."""

from __future__ import annotations

import codecs
import re
import unicodedata

# Tried in order when the declared charset is missing, unknown or wrong. iso-8859-1 maps
# every byte, so decoding always ends with text rather than an error.
FALLBACK_CHARSETS = ("utf-8", "windows-1252", "iso-8859-1")

# Charsets that clients declare while actually sending something else; a legacy label is
# treated as a hint, and utf-8 is tried first when the bytes would also be valid utf-8.
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "646"}

_LATIN_CODECS = {"iso8859-1", "cp1252", "iso8859-15"}

_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")
_HEADER_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def decode_text_bytes(data: bytes, declared_charset: str | None) -> tuple[str, str | None]:
    """Decode a text part; return the text and a defect note when a fallback was needed."""
    label = (declared_charset or "").strip().strip('"').lower()
    if label in _ASCII_LABELS:
        label = ""
    if label:
        try:
            codec = codecs.lookup(label).name
        except LookupError:
            codec = ""
        if codec in _LATIN_CODECS and not data.isascii():
            # Clients often label utf-8 text as latin-1; valid multi-byte utf-8 is almost
            # never genuine latin-1 prose, so prefer it and record the mislabel.
            try:
                return data.decode("utf-8"), f"charset-wrong: declared {label!r}, decoded as utf-8"
            except UnicodeDecodeError:
                pass
        if codec:
            try:
                return data.decode(codec), None
            except (UnicodeDecodeError, LookupError):
                pass
    for fallback in FALLBACK_CHARSETS:
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        if not label:
            # A missing or ascii label with pure ascii bytes is not worth a defect.
            if data.isascii():
                return text, None
            return text, f"charset-missing: decoded as {fallback}"
        return text, f"charset-wrong: declared {label!r}, decoded as {fallback}"
    return data.decode("iso-8859-1"), f"charset-wrong: declared {label!r}"  # pragma: no cover


def without_surrogates(text: str) -> str:
    """Replace lone surrogates (left by undecodable bytes) so the text is valid UTF-8."""
    return _LONE_SURROGATES.sub("\ufffd", text)


def clean_header_text(value: str) -> str:
    """A header value as one safe line: no CR, LF, NUL or other controls; bytes repaired.

    Encoded words can smuggle CR/LF into a decoded header ("=?utf-8?q?a=0D=0ABcc:?="), so
    every decoded value passes through here before it is used or shown.
    """
    repaired = _repair_raw_bytes(value)
    single_line = _HEADER_CONTROLS.sub(" ", repaired)
    return unicodedata.normalize("NFC", " ".join(single_line.split()))


def _repair_raw_bytes(value: str) -> str:
    """Re-decode 8-bit header bytes the parser kept as surrogate escapes."""
    if not _LONE_SURROGATES.search(value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return without_surrogates(value)
    text, _ = decode_text_bytes(raw, None)
    return without_surrogates(text)
