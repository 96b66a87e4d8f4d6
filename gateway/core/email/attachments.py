"""Finding attachments in a parsed message and describing each with its policy verdict."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message

from gateway.core.email.attachment_policy import judge_attachment, sanitize_filename
from gateway.core.email.limits import parts_with_depth
from gateway.core.email.model import AttachmentInfo, EmailLimits
from gateway.core.email.sniffing import sniff_content_type
from gateway.core.email.text_decoding import clean_header_text

# Parts that belong to a delivery report's machinery rather than to anything a family sent.
_REPORT_PARTS = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "text/rfc822-headers",
}
_MESSAGE_TYPES = {"message/rfc822", "message/global"}


@dataclass(frozen=True)
class FoundAttachment:
    """An attachment's description and its decoded bytes."""

    info: AttachmentInfo
    data: bytes


def is_body_text(part: Message) -> bool:
    """A text/plain or text/html part meant to be read inline rather than saved."""
    if part.get_content_type() not in ("text/plain", "text/html"):
        return False
    try:
        filename = part.get_filename()
        disposition = part.get_content_disposition()
    except Exception:
        return False
    return not filename and disposition != "attachment"


def find_attachments(
    msg: Message, body_parts: list[Message], html: str | None, limits: EmailLimits
) -> list[FoundAttachment]:
    """Every part that is not the body, described and judged; nothing is left out."""
    found: list[FoundAttachment] = []
    inside_forwarded: set[int] = set()
    for item in parts_with_depth(msg):
        part = item.part
        if id(part) in inside_forwarded or any(part is body for body in body_parts):
            continue
        ctype = part.get_content_type()
        if ctype in _MESSAGE_TYPES:
            inside_forwarded.update(
                id(p.part) for p in parts_with_depth(part) if p.part is not part
            )
            found.append(_forwarded_message(part, item.index, limits))
            continue
        if part.is_multipart() or ctype in _REPORT_PARTS or is_body_text(part):
            continue
        data = _decoded(part)
        found.append(_describe(part, data, item.index, html, limits))
    return found


def _decoded(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _content_id(part: Message) -> str | None:
    try:
        value = part.get("Content-ID")
    except Exception:
        return None
    if value is None:
        return None
    cid = clean_header_text(str(value)).strip().strip("<>").strip()
    return cid or None


def _describe(
    part: Message, data: bytes, index: int, html: str | None, limits: EmailLimits
) -> FoundAttachment:
    declared = part.get_content_type()
    sniffed = sniff_content_type(data)
    try:
        raw_name = part.get_filename()
    except Exception:
        raw_name = None
    filename = sanitize_filename(str(raw_name) if raw_name else None, index, sniffed)
    verdict = judge_attachment(data, filename, declared, sniffed, limits.max_attachment_bytes)
    content_id = _content_id(part)
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    referenced = bool(content_id and html and f"cid:{content_id}".lower() in html.lower())
    info = AttachmentInfo(
        filename=filename,
        content_type=sniffed,
        declared_type=declared,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        verdict=verdict.verdict,
        reason=verdict.reason,
        content_id=content_id,
        inline=disposition == "inline" or referenced,
        part_index=index,
    )
    return FoundAttachment(info, data)


def _forwarded_message(part: Message, index: int, limits: EmailLimits) -> FoundAttachment:
    """A message sent as an attachment: kept as .eml, blocked if it carries a blocked file."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    data = b""
    blocked_reason = ""
    if isinstance(inner, Message):
        try:
            data = inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
        except Exception:
            data = inner.as_string().encode("utf-8", "surrogateescape")
        for nested in find_attachments(inner, _inner_bodies(inner), None, limits):
            if nested.info.verdict == "blocked" and not blocked_reason:
                blocked_reason = (
                    f"forwarded message holds a blocked attachment: {nested.info.reason}"
                )
    try:
        raw_name = part.get_filename()
    except Exception:
        raw_name = None
    filename = sanitize_filename(str(raw_name) if raw_name else None, index, "message/rfc822")
    info = AttachmentInfo(
        filename=filename,
        content_type="message/rfc822",
        declared_type=part.get_content_type(),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        verdict="blocked" if blocked_reason else "kept",
        reason=blocked_reason or "forwarded message",
        content_id=_content_id(part),
        inline=False,
        part_index=index,
    )
    return FoundAttachment(info, data)


def _inner_bodies(inner: Message) -> list[Message]:
    bodies: list[Message] = []
    if not isinstance(inner, EmailMessage):
        return bodies
    for kind in ("plain", "html"):
        try:
            body = inner.get_body(preferencelist=(kind,))
        except Exception:
            body = None
        if body is not None:
            bodies.append(body)
    return bodies
