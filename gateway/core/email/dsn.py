"""Why a reply bounced: the reason a delivery report gives, as one line for the caseworker."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import Message

from gateway.core.email.limits import parts_with_depth, raw_shape_problem
from gateway.core.email.machine_mail import _part_text
from gateway.core.email.model import EmailLimits

MAX_DIAGNOSTIC = 300
_FIELD = re.compile(r"(?im)^[ \t]*(diagnostic-code|status|action)[ \t]*:[ \t]*([^\r\n]+)")
_SMTP_REPLY = re.compile(r"(?m)^[ \t]*([45]\d\d[ -][^\r\n]{3,})\r?$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def _one_line(text: str) -> str:
    return " ".join(_UNSAFE.sub(" ", text).split())[:MAX_DIAGNOSTIC]


def dsn_diagnostic(raw: bytes, limits: EmailLimits | None = None) -> str:
    """The first failed recipient's ``Diagnostic-Code`` (else its ``Status``) from a delivery
    report, else the first SMTP error line in the text; "" when the report gives no reason.

    Never raises: a report that cannot be read gives "".
    """
    limits = limits or EmailLimits()
    if raw_shape_problem(raw, limits):
        return ""
    try:
        msg = message_from_bytes(raw, policy=policy.default)
        return _from_report(msg) or _from_text(msg)
    except Exception:  # the library raises many types on hostile input; no reason is safe
        return ""


def _from_report(msg: Message) -> str:
    for found in parts_with_depth(msg):
        if found.part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        diagnostic = status = ""
        for name, value in _FIELD.findall(_part_text(found.part)):
            name = name.lower()
            if name == "diagnostic-code" and not diagnostic:
                # "smtp; 550 5.1.1 ..." -> "550 5.1.1 ..."
                diagnostic = value.split(";", 1)[-1].strip()
            elif name == "status" and not status and value.strip()[:1] in "45":
                status = value.strip()
        if diagnostic or status:
            return _one_line(diagnostic or f"status {status}")
    return ""


def _from_text(msg: Message) -> str:
    for found in parts_with_depth(msg):
        part = found.part
        if part.get_content_type() != "text/plain":
            continue
        match = _SMTP_REPLY.search(_part_text(part))
        if match:
            return _one_line(match.group(1))
    return ""
