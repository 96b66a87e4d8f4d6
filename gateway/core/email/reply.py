"""Building the outgoing reply from plain strings, so nothing a sender wrote becomes a header."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from email import charset as email_charset
from email import policy
from email.header import Header
from email.message import Message
from email.utils import format_datetime, formataddr

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")
_MSG_ID = re.compile(r"^<[!#-;=?-\[\]-~]{1,250}@[!#-;=?-\[\]-~]{1,250}>$")
_FIRST_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"^\s*((re|sv|aw|antw|vs|ynt|odp)\s*(\[\d+\])?\s*:\s*)+", re.I)
# RFC 5322 suggests keeping the first reference and the most recent ones.
MAX_REFERENCES = 20
# compat32 stores header strings as given and never decodes encoded words in them; the
# modern policy would decode "=?utf-8?q?=0D=0A…?=" in a plain string and could fold a
# CR/LF back out. Every value we set is already plain ASCII or encoded by us.
_OUTGOING = policy.compat32.clone(linesep="\r\n", max_line_length=78)
_UTF8_QP = email_charset.Charset("utf-8")
_UTF8_QP.body_encoding = email_charset.QP
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9.-]{1,253}$")


def _plain(value: str) -> str:
    """A header value as one line: CR, LF, NUL and other controls become spaces."""
    return " ".join(_UNSAFE.sub(" ", value).split())


def _message_id(value: str | None) -> str | None:
    """A Message-ID in header form, or None when it is not one (then it is left out)."""
    if not value:
        return None
    text = _plain(value)
    bracketed = _FIRST_ID.search(text)
    candidate = bracketed.group(0) if bracketed else f"<{text.replace(' ', '')}>"
    return candidate if _MSG_ID.match(candidate) else None


def reply_subject(subject: str) -> str:
    """ "Re: " plus the subject, without piling up "Re: SV: Re:" prefixes."""
    core = _REPLY_PREFIX.sub("", _plain(subject)).strip()
    return f"Re: {core}" if core else "Re:"


def make_message_id(domain: str) -> str:
    """A new, unguessable Message-ID on our domain, in header form ``<…@domain>``."""
    host = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "localhost"
    return f"<{secrets.token_urlsafe(18)}@{host}>"


def compose_reply(
    *,
    from_address: str,
    from_name: str,
    to_address: str,
    subject: str,
    body: str,
    message_id: str,
    reply_to: str | None,
    in_reply_to: str | None,
    references: Sequence[str],
    auto_reply: bool = False,
    sent_at: datetime | None = None,
) -> bytes:
    """The reply as bytes ready for SMTP (CRLF line ends).

    Every header is built from a plain string with controls removed; nothing parsed from
    the inbound mail is copied as a header object, so an encoded word such as
    ``=?utf-8?q?x=0D=0ABcc:?=`` in a family's subject stays text. Display names and
    subjects in any script (æøå) are encoded by the library. ``auto_reply`` marks receipts
    and out-of-hours notes ``Auto-Submitted: auto-replied`` so other robots do not answer.
    Raises ValueError when an address is not a valid address.
    """
    msg = Message(policy=_OUTGOING)
    msg["From"] = _mailbox(from_name, from_address)
    msg["To"] = _address(to_address)
    if reply_to:
        msg["Reply-To"] = _mailbox(from_name, reply_to)
    subject_line = reply_subject(subject)
    if subject_line.isascii() and "=?" not in subject_line:
        msg["Subject"] = subject_line
    else:
        # A Header object folds knowing the "Subject: " prefix, so the first line is used.
        msg["Subject"] = Header(subject_line, "utf-8", header_name="Subject")  # type: ignore[assignment]
    msg["Date"] = format_datetime(sent_at or datetime.now(UTC))
    own_id = _message_id(message_id)
    if own_id is None:
        raise ValueError("message_id is not a valid Message-ID")
    msg["Message-ID"] = own_id
    parent = _message_id(in_reply_to)
    if parent:
        msg["In-Reply-To"] = parent
    chain = [mid for mid in (_message_id(r) for r in references) if mid]
    if parent and parent not in chain:
        chain.append(parent)
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    if chain:
        msg["References"] = " ".join(chain)
    if auto_reply:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # keeps Outlook from answering our receipt
    msg["MIME-Version"] = "1.0"
    text = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    msg.set_payload(text, charset=_UTF8_QP)
    return msg.as_bytes(policy=_OUTGOING)


def _encoded_words(text: str) -> str:
    """Plain ASCII as is; anything else (æøå, or a literal "=?") as RFC 2047 encoded words."""
    plain = _plain(text)
    if plain.isascii() and "=?" not in plain:
        return plain
    return Header(plain, "utf-8", maxlinelen=76).encode(linesep="")


def _mailbox(name: str, address: str) -> str:
    addr = _address(address)
    display = _plain(name)
    if not display:
        return addr
    if display.isascii() and "=?" not in display:
        return formataddr((display, addr))
    return f"{_encoded_words(display)} <{addr}>"


def _address(value: str) -> str:
    """A bare address we are willing to write into a header; ValueError otherwise."""
    text = _plain(value).strip().strip("<>")
    local, _, domain = text.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError as exc:
        raise ValueError("not an e-mail address") from exc
    candidate = f"{local}@{domain}"
    if not _ADDRESS.match(candidate) or ".." in candidate:
        raise ValueError("not an e-mail address")
    return candidate
