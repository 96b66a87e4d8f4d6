"""Recognising mail sent by machines: it is stored, but never answered (no mail loops)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from gateway.core.email.headers import header_text, message_ids
from gateway.core.email.limits import parts_with_depth
from gateway.core.email.text_decoding import decode_text_bytes

_BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply", "auto-reply"}
_VACATION_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|svar)|autosvar|automatisk svar|"
    r"automatisk(t)? svar|out of (the )?office|fraværsmelding|fråværsmelding|"
    r"frånvaro(meddelande)?|ikke til stede|ikkje til stades|ikke på kontoret|"
    r"abwesenheit|auto:)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(able|ed)|undelivered mail returned|delivery status notification|"
    r"delivery (has )?failed|mail delivery (failed|failure|subsystem)|returned mail|"
    r"failure notice|kan ikke leveres|kunne ikke leveres|ikke levert|ikkje levert|"
    r"kunne ikke leveres|levering mislyk|olevererbar|det gick inte att leverera|"
    r"ej levererat|non remis|unzustellbar)",
    re.I,
)
_DAEMON_SENDER = re.compile(r"(mailer-daemon|postmaster|mail-daemon)@", re.I)
_BODY_MESSAGE_ID = re.compile(r"(?im)^[ \t]*message-id[ \t]*:[ \t]*(<[^<>\s]+>)")


@dataclass(frozen=True)
class MachineMail:
    """Whether a message came from a machine, and which of our messages it bounces."""

    auto_submitted: bool
    bounce: bool
    bounced_message_ids: tuple[str, ...]


def recognise_machine_mail(
    msg: Message, subject: str, from_addr: str | None, text: str, defects: list[str]
) -> MachineMail:
    """Auto-Submitted, Precedence, list headers, vacation notes and DSN bounces."""
    auto = _has_machine_headers(msg, defects) or bool(_VACATION_SUBJECT.match(subject))
    report_type = msg.get_param("report-type", header="content-type")
    is_report = msg.get_content_type() == "multipart/report"
    if is_report and str(report_type).lower() == "disposition-notification":
        return MachineMail(True, False, ())  # a read receipt
    failed, delayed_only = _delivery_status(msg) if is_report else (False, False)
    from_daemon = bool(from_addr and _DAEMON_SENDER.search(from_addr))
    null_sender = (header_text(msg, "Return-Path", defects) or "").replace(" ", "") == "<>"
    looks_bounced = bool(_BOUNCE_SUBJECT.match(subject)) and (from_daemon or null_sender)
    if is_report:
        # A report without readable actions is judged by who sent it.
        unreadable = not failed and not delayed_only and (from_daemon or null_sender)
        bounce = failed or unreadable
    else:
        bounce = looks_bounced
    if not bounce:
        return MachineMail(auto or is_report or from_daemon or null_sender, False, ())
    return MachineMail(True, True, tuple(_returned_message_ids(msg, text, defects)))


def _has_machine_headers(msg: Message, defects: list[str]) -> bool:
    auto_submitted = (header_text(msg, "Auto-Submitted", defects) or "no").strip().lower()
    if auto_submitted.split(";")[0].strip() != "no":
        return True
    precedence = (header_text(msg, "Precedence", defects) or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return True
    for name in (
        "List-Id",
        "List-Unsubscribe",
        "X-Auto-Response-Suppress",
        "X-Autoreply",
        "X-Autorespond",
        "X-Autoresponder",
        "Feedback-ID",
    ):
        value = header_text(msg, name, defects)
        if value and value.strip():
            return True
    return False


def _delivery_status(msg: Message) -> tuple[bool, bool]:
    """(some recipient failed, only delays reported) from the message/delivery-status part."""
    actions: list[str] = []
    for found in parts_with_depth(msg):
        part = found.part
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        raw = _part_text(part)
        actions.extend(
            a.lower() for a in re.findall(r"(?im)^[ \t]*action[ \t]*:[ \t]*([a-z]+)", raw)
        )
    failed = "failed" in actions
    return failed, bool(actions) and all(a == "delayed" for a in actions)


def _part_text(part: Message) -> str:
    """The text of a part whatever the library made of it (a DSN parses as sub-messages)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(
            "\n".join(f"{k}: {v}" for k, v in sub.items())
            for sub in payload
            if isinstance(sub, Message)
        )
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes):
        return decode_text_bytes(raw, part.get_content_charset())[0]
    return str(payload)


def _returned_message_ids(msg: Message, text: str, defects: list[str]) -> list[str]:
    """Message-IDs of the returned original (the one we sent), never the bounce's own."""
    own = header_text(msg, "Message-ID", defects)
    found: list[str] = []
    for item in parts_with_depth(msg):
        part = item.part
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global") and isinstance(part.get_payload(), list):
            for inner in part.get_payload():
                if isinstance(inner, Message):
                    found.extend(message_ids(header_text(inner, "Message-ID", defects)))
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            found.extend(_BODY_MESSAGE_ID.findall(_part_text(part)))
    if not found:
        found.extend(_BODY_MESSAGE_ID.findall(text))
    own_ids = set(message_ids(own))
    unique: dict[str, None] = {}
    for mid in found:
        if mid not in own_ids:
            unique.setdefault(mid, None)
    return list(unique)
