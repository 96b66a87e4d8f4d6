"""Reading the trusted upstream's Authentication-Results (RFC 8601), ignoring everyone else's.

Any sender can write an Authentication-Results header; only the one our own MTA adds,
named by its authserv-id, says anything. Across several trusted headers the worst
verdict per method wins, so a forged "pass" below our MTA's "fail" changes nothing.
"""

from __future__ import annotations

import re

from gateway.core.email.model import SenderAuth

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"(?:^|;)\s*(dkim|spf|dmarc)\s*=\s*([a-z]+)", re.I)
_PASS = {"pass"}
_FAIL = {"fail", "softfail", "permerror", "policy", "hardfail", "quarantine", "reject"}
_RANK = {"fail": 2, "none": 1, "pass": 0}


def _strip_comments(value: str) -> str:
    # Comments can nest; a few passes remove any that matter.
    for _ in range(5):
        stripped = _COMMENT.sub(" ", value)
        if stripped == value:
            break
        value = stripped
    return value


def _verdict(result: str) -> str:
    lowered = result.lower()
    if lowered in _PASS:
        return "pass"
    if lowered in _FAIL:
        return "fail"
    return "none"  # none, neutral, temperror: nothing proven either way


def sender_auth_from_headers(values: list[str], trusted_authserv_id: str | None) -> SenderAuth:
    """Combine the Authentication-Results values whose authserv-id is the trusted one."""
    if not trusted_authserv_id:
        return SenderAuth()
    trusted = trusted_authserv_id.strip().lower()
    verdicts: dict[str, str] = {}
    for value in values:
        text = _strip_comments(value)
        authserv, _, results = text.partition(";")
        # The authserv-id may carry a version number: "mx.example.no 1; ...".
        if authserv.strip().lower().split(" ")[0] != trusted:
            continue
        per_header: dict[str, str] = {}
        for method, result in _RESULT.findall(";" + results):
            method = method.lower()
            verdict = _verdict(result)
            # Within one header, one passing DKIM signature is enough.
            previous = per_header.get(method)
            if previous is None or _RANK[verdict] < _RANK[previous]:
                per_header[method] = verdict
        for method, verdict in per_header.items():
            previous = verdicts.get(method)
            if previous is None or _RANK[verdict] > _RANK[previous]:
                verdicts[method] = verdict
    return SenderAuth(
        dkim=verdicts.get("dkim", "none"),
        spf=verdicts.get("spf", "none"),
        dmarc=verdicts.get("dmarc", "none"),
    )
