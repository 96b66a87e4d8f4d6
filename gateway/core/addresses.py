"""Sender and recipient addresses: E.164 phone numbers, normalised e-mail, reply tokens."""

from __future__ import annotations

import re
import secrets

import phonenumbers

# Reply tokens are local parts "case.<token>": '.' (never '+', which relays rewrite), unguessable
# (120 bits), lower-case base32 so mail systems that fold case cannot break them.
TOKEN_PREFIX = "case."  # noqa: S105 - an address prefix, not a secret
_TOKEN_RE = re.compile(r"^case\.([a-z2-7]{24})$")


def normalise_phone(raw: str, default_region: str = "NO") -> str | None:
    """E.164 for a valid number ("+47 912 34 567", "004791234567", "91234567" are one), else None."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(addr: str) -> str:
    """Lower-cased address without display name, angle brackets or surrounding space."""
    addr = addr.strip()
    if "<" in addr and addr.endswith(">"):
        addr = addr[addr.rindex("<") + 1 : -1]
    return addr.strip().lower()


def new_reply_token() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(secrets.choice(alphabet) for _ in range(24))


def reply_address(token: str, domain: str) -> str:
    return f"{TOKEN_PREFIX}{token}@{domain}"


def token_from_recipient(recipient: str, domain: str) -> str | None:
    """The reply token in ``case.<token>@domain``, or None when the recipient carries none."""
    local, _, dom = normalise_email(recipient).rpartition("@")
    if dom != domain.lower():
        return None
    m = _TOKEN_RE.match(local)
    return m.group(1) if m else None


def is_reply_token_shaped(recipient: str, domain: str) -> bool:
    return token_from_recipient(recipient, domain) is not None
