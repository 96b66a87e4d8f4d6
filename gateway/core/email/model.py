"""Plain data describing one parsed inbound e-mail and the limits it is parsed under."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EmailLimits:
    """Our own ceilings, checked before the standard library does any deep work.

    A message over any of them is stored sealed and flagged (``over_limits``) but not parsed
    further, so a hostile message cannot make the service spend unbounded time or memory.
    """

    max_header_bytes: int = 64 * 1024
    max_mime_depth: int = 20
    max_parts: int = 200
    max_attachment_bytes: int = 25 * 1024 * 1024
    # Parameters (";" separated, RFC 2231 sections included) across all header blocks: the
    # library's parameter parsing is slow enough per parameter to hold a worker for minutes.
    max_header_params: int = 1000


@dataclass(frozen=True)
class AttachmentInfo:
    """One attachment as a caseworker will see it, with the policy verdict on it.

    ``content_type`` is sniffed from the bytes; ``declared_type`` is what the sender's
    client claimed. A blocked attachment is still recorded (and sealed), never dropped.
    """

    filename: str
    content_type: str
    declared_type: str
    size: int
    sha256: str
    verdict: str  # "kept" | "blocked"
    reason: str
    content_id: str | None
    inline: bool
    part_index: int

    def to_json(self) -> dict[str, Any]:
        """The attachment as a JSON-ready dict (the ``inspect-email`` shape)."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "declared_type": self.declared_type,
            "size": self.size,
            "sha256": self.sha256,
            "verdict": self.verdict,
            "reason": self.reason,
            "content_id": self.content_id,
            "inline": self.inline,
            "part_index": self.part_index,
        }


@dataclass(frozen=True)
class SenderAuth:
    """What our trusted upstream MTA concluded about the sender: "pass", "fail" or "none"."""

    dkim: str = "none"
    spf: str = "none"
    dmarc: str = "none"

    def to_json(self) -> dict[str, str]:
        """The verdicts as a JSON-ready dict."""
        return {"dkim": self.dkim, "spf": self.spf, "dmarc": self.dmarc}


@dataclass(frozen=True)
class ParsedEmail:
    """Everything the gateway needs from one inbound e-mail, as plain values.

    Message-IDs (``message_id``, ``in_reply_to``, ``references``, ``bounced_message_ids``)
    are kept in their header form with angle brackets, e.g. ``<abc@example.no>``, so they
    compare equal to the ids ``make_message_id`` produces for our replies.
    """

    message_id: str | None = None
    from_addr: str | None = None
    from_name: str | None = None
    to_addrs: tuple[str, ...] = ()
    cc_addrs: tuple[str, ...] = ()
    subject: str = ""
    date: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    text: str = ""
    new_text: str = ""
    quoted_text: str = ""
    signature: str = ""
    forwarded: bool = False
    html_sanitized: str | None = None
    attachments: tuple[AttachmentInfo, ...] = ()
    auto_submitted: bool = False
    bounce: bool = False
    bounced_message_ids: tuple[str, ...] = ()
    sender_auth: SenderAuth = SenderAuth()
    defects: tuple[str, ...] = ()
    over_limits: bool = False
    language_hint: str | None = None
    header_count: int = 0

    def to_inspect_json(self) -> dict[str, Any]:
        """The JSON object ``case-gateway inspect-email FILE --json`` prints."""
        return {
            "message_id": self.message_id,
            "from_addr": self.from_addr,
            "from_name": self.from_name,
            "to_addrs": list(self.to_addrs),
            "cc_addrs": list(self.cc_addrs),
            "subject": self.subject,
            "date": self.date,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "new_text": self.new_text,
            "quoted_text": self.quoted_text,
            "signature": self.signature,
            "forwarded": self.forwarded,
            "has_html": self.html_sanitized is not None,
            "attachments": [a.to_json() for a in self.attachments],
            "auto_submitted": self.auto_submitted,
            "bounce": self.bounce,
            "bounced_message_ids": list(self.bounced_message_ids),
            "sender_auth": self.sender_auth.to_json(),
            "defects": list(self.defects),
            "over_limits": self.over_limits,
            "language_hint": self.language_hint,
        }
