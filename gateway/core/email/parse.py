"""From raw bytes to a ParsedEmail: limits first, then headers, body, attachments, verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from typing import Any

from gateway.core.email import headers as hdr
from gateway.core.email.attachments import find_attachments, is_body_text
from gateway.core.email.html_text import html_to_text, sanitize_html
from gateway.core.email.language import language_hint
from gateway.core.email.limits import (
    header_bytes,
    parsed_shape_problem,
    parts_with_depth,
    raw_shape_problem,
)
from gateway.core.email.machine_mail import recognise_machine_mail
from gateway.core.email.model import AttachmentInfo, EmailLimits, ParsedEmail
from gateway.core.email.quoting import split_body
from gateway.core.email.sender_auth import sender_auth_from_headers
from gateway.core.email.text_decoding import decode_text_bytes

# Enough to see what went wrong; a hostile message can carry thousands of defects.
MAX_DEFECTS = 50
# Forwarded-as-attachment messages whose text is shown inline; the rest stay attachments.
MAX_FORWARDED_SHOWN = 3
_PARSER_POLICY = policy.default


@dataclass
class _Body:
    text: str = ""
    html: str | None = None
    parts: list[Message] = field(default_factory=list)


def parse_email(
    raw: bytes,
    *,
    limits: EmailLimits = EmailLimits(),  # noqa: B008 - frozen, so sharing it is safe
    trusted_authserv_id: str | None = None,
) -> ParsedEmail:
    """Parse one inbound message; never raises, whatever the bytes.

    A message over ``limits`` comes back with ``over_limits=True``, its top-level header
    fields, a defect saying which limit, and nothing from its body: it is kept sealed.
    ``trusted_authserv_id`` names the MTA whose Authentication-Results we believe.
    """
    defects: list[str] = []
    try:
        problem = raw_shape_problem(raw, limits)
        if problem:
            return _over_limits(raw, limits, problem, trusted_authserv_id)
        try:
            msg = BytesParser(policy=_PARSER_POLICY).parsebytes(raw)
        except RecursionError:
            return _over_limits(
                raw, limits, "over-limit: nesting too deep to parse", trusted_authserv_id
            )
        problem = parsed_shape_problem(msg, limits)
        if problem:
            return _over_limits(raw, limits, problem, trusted_authserv_id)
        return _parse_message(msg, limits, trusted_authserv_id, defects)
    except Exception as exc:  # the last line of defence: intake must never crash
        defects.append(f"parser-error: {type(exc).__name__}")
        return ParsedEmail(defects=tuple(defects[:MAX_DEFECTS]))


def attachment_payloads(
    raw: bytes,
    limits: EmailLimits = EmailLimits(),  # noqa: B008 - frozen, so sharing it is safe
) -> list[tuple[AttachmentInfo, bytes]]:
    """Each attachment's description (as in ``parse_email``) with its decoded bytes.

    Empty for a message over the limits: its attachments stay inside the sealed original.
    """
    try:
        if raw_shape_problem(raw, limits):
            return []
        msg = BytesParser(policy=_PARSER_POLICY).parsebytes(raw)
        if parsed_shape_problem(msg, limits):
            return []
        body = _body(msg, [])
        return [(f.info, f.data) for f in find_attachments(msg, body.parts, body.html, limits)]
    except Exception:
        return []


def _over_limits(raw: bytes, limits: EmailLimits, problem: str, trusted: str | None) -> ParsedEmail:
    """Only the top-level header fields (bounded), so the message can still be filed."""
    defects = [problem]
    head = raw[: min(header_bytes(raw), limits.max_header_bytes)]
    try:
        msg = BytesHeaderParser(policy=_PARSER_POLICY).parsebytes(head)
        fields = _header_fields(msg, trusted, defects)
    except Exception as exc:
        defects.append(f"parser-error: {type(exc).__name__}")
        fields = {}
    return ParsedEmail(**fields, over_limits=True, defects=tuple(defects[:MAX_DEFECTS]))


def _header_fields(msg: Message, trusted: str | None, defects: list[str]) -> dict[str, Any]:
    senders = hdr.addresses(msg, "From", defects)
    from_name, from_addr = senders[0] if senders else (None, None)
    if len(senders) > 1:
        defects.append("from-has-several-addresses")
    references = hdr.message_ids(hdr.header_text(msg, "References", defects))
    in_reply_to = hdr.message_ids(hdr.header_text(msg, "In-Reply-To", defects))
    message_id = hdr.message_ids(hdr.header_text(msg, "Message-ID", defects))
    return {
        "message_id": message_id[0] if message_id else None,
        "from_addr": from_addr,
        "from_name": from_name or None,
        "to_addrs": tuple(addr for _, addr in hdr.addresses(msg, "To", defects)),
        "cc_addrs": tuple(addr for _, addr in hdr.addresses(msg, "Cc", defects)),
        "subject": hdr.header_text(msg, "Subject", defects) or "",
        "date": hdr.iso_date(hdr.header_text(msg, "Date", defects), defects),
        "in_reply_to": in_reply_to[0] if in_reply_to else None,
        "references": tuple(references[: hdr.MAX_REFERENCES]),
        "sender_auth": sender_auth_from_headers(
            hdr.header_texts(msg, "Authentication-Results", defects), trusted
        ),
        "header_count": len(msg.keys()),
    }


def _parse_message(
    msg: EmailMessage, limits: EmailLimits, trusted: str | None, defects: list[str]
) -> ParsedEmail:
    fields = _header_fields(msg, trusted, defects)
    _library_defects(msg, defects)
    body = _body(msg, defects)
    split = split_body(body.text, fields["subject"])
    attachments = [f.info for f in find_attachments(msg, body.parts, body.html, limits)]
    machine = recognise_machine_mail(
        msg, fields["subject"], fields["from_addr"], body.text, defects
    )
    # A message attached to a delivery report is our own returned mail, not a forward.
    forwarded = split.forwarded or (
        msg.get_content_type() != "multipart/report"
        and any(a.content_type == "message/rfc822" for a in attachments)
    )
    return ParsedEmail(
        **fields,
        text=body.text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        forwarded=forwarded,
        html_sanitized=sanitize_html(body.html) if body.html is not None else None,
        attachments=tuple(attachments),
        auto_submitted=machine.auto_submitted,
        bounce=machine.bounce,
        bounced_message_ids=machine.bounced_message_ids,
        defects=tuple(dict.fromkeys(defects))[:MAX_DEFECTS],
        language_hint=language_hint(split.new_text),
    )


def _library_defects(msg: Message, defects: list[str]) -> None:
    for item in parts_with_depth(msg):
        for defect in getattr(item.part, "defects", []):
            where = f"part {item.index}: " if item.index else ""
            defects.append(f"{where}{type(defect).__name__}")


def _text_of(part: Message, defects: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text, note = decode_text_bytes(payload, charset)
    if note:
        defects.append(note)
    # NUL and byte-order marks (iPhone puts one inside quoted text) are never content.
    text = text.replace("\x00", "").replace("\ufeff", "")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _body(msg: Message, defects: list[str]) -> _Body:
    """Prefer text/plain; convert HTML-only mail; keep the HTML for a sanitized copy."""
    plain_part = _get_body(msg, "plain")
    html_part = _get_body(msg, "html")
    body = _Body()
    if html_part is not None:
        body.html = _text_of(html_part, defects)
        body.parts.append(html_part)
    if plain_part is not None:
        body.parts.append(plain_part)
        body.text = _text_of(plain_part, defects)
        body.text += _more_inline_text(msg, plain_part, defects)
    if not body.text.strip() and body.html is not None:
        body.text = html_to_text(body.html)
    forwarded = _attached_messages(msg) if msg.get_content_type() != "multipart/report" else []
    if forwarded:
        blocks = "".join(_forwarded_block(inner, defects) for inner in forwarded)
        body.text = body.text.rstrip("\n") + blocks
    return body


def _attached_messages(msg: Message) -> list[Message]:
    """Messages forwarded as attachments (not a bounce's returned copy), at most a few."""
    found: list[Message] = []
    for item in parts_with_depth(msg, into_messages=False):
        if item.depth == 0 or not item.part.get_content_type().startswith("message/rfc822"):
            continue
        payload = item.part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            found.append(payload[0])
    return found[:MAX_FORWARDED_SHOWN]


def _forwarded_block(inner: Message, defects: list[str]) -> str:
    """A forwarded message's text, under the same marker Gmail uses, so it is kept whole."""
    inner_defects: list[str] = []
    lines = ["", "", "---------- Forwarded message ---------"]
    for name in ("From", "Date", "Subject", "To"):
        value = hdr.header_text(inner, name, inner_defects)
        if value:
            lines.append(f"{name}: {value}")
    inner_body = _body(inner, inner_defects)
    defects.extend(f"forwarded message: {d}" for d in inner_defects)
    return "\n".join(lines) + "\n\n" + inner_body.text.strip("\n")


def _get_body(msg: Message, kind: str) -> Message | None:
    if not isinstance(msg, EmailMessage):
        return None
    try:
        part = msg.get_body(preferencelist=(kind,))
    except Exception:
        return None
    if part is None or part.get_content_type() != f"text/{kind}":
        return None
    return part


def _more_inline_text(msg: Message, first: Message, defects: list[str]) -> str:
    """Apple Mail puts text, a picture, then more text in one mixed part: keep all the text."""
    extra: list[str] = []
    for item in parts_with_depth(msg, into_messages=False):
        part = item.part
        if part is first or item.parent_type != "multipart/mixed":
            continue
        if part.get_content_type() == "text/plain" and is_body_text(part):
            extra.append(_text_of(part, defects))
    return "".join(f"\n\n{text}" for text in extra if text.strip())
