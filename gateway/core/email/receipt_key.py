"""The exactly-once key of an inbound e-mail, read without parsing the message.

The sending MTA is answered once the raw message is committed, before any parsing, so the key
that recognises a retry comes from a bounded, linear look at the top-level header block: the
first Message-ID field, read the way the parser reads it (the same line splitting, unfolding,
decoding and cleaning), plus the recipient; a content hash when the message names none. It is
the key ``provider_id_for`` makes from a parsed message, so retries of messages stored before
are recognised too.
"""

from __future__ import annotations

import hashlib
import re
from email import policy

from gateway.core.addresses import normalise_email
from gateway.core.email.headers import message_ids
from gateway.core.email.model import EmailLimits
from gateway.core.email.text_decoding import clean_header_text

# The database column holds 512 characters; a longer id (a hostile Message-ID) is hashed.
MAX_PROVIDER_ID = 500
# Longer Message-ID values are read by a plain pattern, not the library's header grammar.
_LIBRARY_VALUE_LIMIT = 4096
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# One plain <dot-atom@dot-atom> (RFC 5322 msg-id; no comments, quotes, literals, encoded
# words or folding): the library reads it as it stands, so it is read here without it.
_ATOMS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_PLAIN_ID = re.compile(rf"[ \t]*(<{_ATOMS}@{_ATOMS}>)[ \t]*")
# What the library's feedparser takes for the start of a header field (RFC 5322 field name).
_FIELD_START = re.compile(rb"[\041-\071\073-\176]*:")


def bounded_provider_id(provider_id: str) -> str:
    """``provider_id`` as stored: a longer one than the column holds becomes its hash."""
    if len(provider_id) <= MAX_PROVIDER_ID:
        return provider_id
    return "long:" + hashlib.sha256(provider_id.encode("utf-8", "surrogatepass")).hexdigest()


def content_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def email_key(message_id: str | None, raw: bytes, recipient: str) -> str:
    """Message-ID plus recipient; a content hash when the sender gave no Message-ID."""
    key = message_id or content_key(raw)
    return bounded_provider_id(f"{key}|{normalise_email(recipient)}")


def head_of(raw: bytes, max_header_bytes: int) -> bytes:
    """The top-level header block as the parser reads it, never more than the limit."""
    window = raw[: max_header_bytes + 4]  # the blank line may straddle the limit
    end = _HEADER_END.search(window)
    size = end.start() if end else len(raw)
    return raw[: min(size, max_header_bytes)]


def message_id_of(raw: bytes, limits: EmailLimits = EmailLimits()) -> str | None:  # noqa: B008
    """The first Message-ID of the header block in header form (``<id@host>``), or None.

    Linear in the size of the header block, which is bounded by ``limits.max_header_bytes``.
    """
    field: list[str] | None = None
    for line in head_of(raw, limits.max_header_bytes).splitlines(True):
        if line[:1] in (b" ", b"\t"):
            if field is not None:
                field.append(line.decode("ascii", "surrogateescape"))
            continue
        if field is not None:
            break  # the Message-ID field is complete
        if line.startswith(b"From "):
            continue  # an mbox envelope line, skipped by the parser too
        if not _FIELD_START.match(line):
            break  # the parser takes this line for the start of the body
        if line.split(b":", 1)[0].lower() == b"message-id":
            field = [line.decode("ascii", "surrogateescape")]
    if field is None:
        return None
    name, value = policy.default.header_source_parse(field)
    plain = _PLAIN_ID.fullmatch(value) if len(value) < 900 and "=?" not in value else None
    if plain is not None:  # the usual shape: the library would read it as it stands
        return plain.group(1)
    text = value
    if len(value) <= _LIBRARY_VALUE_LIMIT:
        try:
            text = str(policy.default.header_fetch_parse(name, value))
        except Exception:  # a value the library refuses is read by the pattern alone
            text = value
    found = message_ids(clean_header_text(text))
    return found[0] if found else None


def email_receipt_key(
    raw: bytes,
    recipient: str,
    limits: EmailLimits = EmailLimits(),  # noqa: B008 - frozen, so sharing it is safe
) -> str:
    """The exactly-once key of ``raw`` delivered to ``recipient``, without parsing it."""
    return email_key(message_id_of(raw, limits), raw, recipient)
