"""The Postfix snippets in deploy/postfix agree with what the gateway accepts and its limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connectors.email_in import ServiceMailHandler
from gateway.core.addresses import new_reply_token, reply_address
from gateway.settings import Settings

DEPLOY = Path(__file__).parent.parent.parent / "deploy" / "postfix"


def pcre_rules(name: str) -> list[tuple[re.Pattern[str], str]]:
    rules = []
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^/(.*)/(i?)\s+(\S+)\s*$", line)
        assert m, f"{name}: cannot read rule {line!r}"
        # Postfix PCRE tables match case-insensitively by default; the "i" flag turns that off.
        flags = 0 if m.group(2) else re.I
        # Postfix pcre tables use PCRE; these rules use only syntax Python shares with it.
        rules.append((re.compile(m.group(1), flags), m.group(3)))
    return rules


def postfix_accepts(address: str) -> bool:
    return any(p.search(address) for p, action in pcre_rules("case-gateway-recipients.pcre"))


@pytest.mark.parametrize(
    "address",
    [
        "post@barnevern.example.no",
        "Post@Barnevern.Example.no",
        reply_address(new_reply_token(), "barnevern.example.no"),
        "case.short@barnevern.example.no",
        "someone@barnevern.example.no",
        "post@elsewhere.example",
        "case.abcdefghijklmnopqrstuvwx@barnevern.example.no.evil.example",
        "xpost@barnevern.example.no",
    ],
)
def test_postfix_recipients_match_the_gateway(address: str) -> None:
    gateway = ServiceMailHandler.__new__(ServiceMailHandler)
    gateway.settings = Settings()
    gateway.service_addresses = {Settings().email.service_address}
    assert postfix_accepts(address) == gateway.recipient_ok(address)


def test_postfix_size_limit_leaves_room_for_its_headers() -> None:
    text = (DEPLOY / "main.cf.snippet").read_text(encoding="utf-8")
    limit = int(re.search(r"(?m)^message_size_limit\s*=\s*(\d+)", text).group(1))  # type: ignore[union-attr]
    ours = Settings().smtp.max_message_bytes
    assert ours - 128 * 1024 <= limit <= ours - 32 * 1024


def test_header_checks_remove_only_our_authserv_id() -> None:
    rules = pcre_rules("case-gateway-header-checks.pcre")
    ours = Settings().email.domain  # the example authserv-id is mx.<domain>

    def removed(header: str) -> bool:
        return any(p.search(header) and action == "IGNORE" for p, action in rules)

    assert removed(f"Authentication-Results: mx.{ours}; dmarc=pass header.from=example.org")
    assert removed(f"authentication-results:mx.{ours} ;\n\tdkim=pass")
    assert not removed("Authentication-Results: mx.google.com; dmarc=pass")
    assert not removed(f"Authentication-Results: mx.{ours}.evil.example; dmarc=pass")
    assert not removed(f"X-Original-Authentication-Results: mx.{ours}; dmarc=pass")
