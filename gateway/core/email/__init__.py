"""Inbound e-mail for the gateway: parsing that keeps only what a family newly wrote, and
composing safe replies. Pure functions over plain data; the connectors do the I/O."""

from gateway.core.email.headers import normalise_address
from gateway.core.email.images import display_copy
from gateway.core.email.model import AttachmentInfo, EmailLimits, ParsedEmail, SenderAuth
from gateway.core.email.parse import attachment_payloads, parse_email
from gateway.core.email.reply import compose_reply, make_message_id, reply_subject

__all__ = [
    "AttachmentInfo",
    "EmailLimits",
    "ParsedEmail",
    "SenderAuth",
    "attachment_payloads",
    "compose_reply",
    "display_copy",
    "make_message_id",
    "normalise_address",
    "parse_email",
    "reply_subject",
]
