"""Whatever arrives, the parser answers: generated and mutated messages never crash it, and
messages over our limits are flagged rather than parsed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.core.email import EmailLimits, ParsedEmail, attachment_payloads, parse_email
from gateway.core.email.html_text import html_to_text, sanitize_html

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "email").glob("*.eml"))
FIXTURE_BYTES = [path.read_bytes() for path in FIXTURES]


def assert_well_formed(parsed: ParsedEmail) -> None:
    """Every result can be shown and stored: valid UTF-8 JSON, known verdicts."""
    text = json.dumps(parsed.to_inspect_json(), ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogates anywhere
    assert all(a.verdict in ("kept", "blocked") for a in parsed.attachments)
    assert {parsed.sender_auth.dkim, parsed.sender_auth.spf, parsed.sender_auth.dmarc} <= {
        "pass",
        "fail",
        "none",
    }
    for line in parsed.subject, parsed.from_name or "", *(parsed.to_addrs):
        assert "\r" not in line and "\n" not in line and "\x00" not in line


HEADER_LINES = st.sampled_from(
    [
        b"From: Kari <kari@example.no>",
        b"From: =?utf-8?q?=0D=0A?= <x@y>",
        b"From: <<<@@@>>>",
        b"To: post@barnevern.example.no, , ,",
        b"Subject: =?utf-8?b?////?=",
        b"Subject: =?x-unknown?q?=E5?=",
        b"Subject: \xff\xfe\xe6\xf8\xe5",
        b"Date: Tue, 31 Feb 2026 25:61:00 +9999",
        b"Message-ID: <<a@b>>",
        b"References: <a@b> <c@d",
        b"In-Reply-To: \x00",
        b"Authentication-Results: mx.barnevern.example.no; dmarc=pass (((",
        b"Auto-Submitted: auto-replied",
        b"Content-Type: multipart/mixed; boundary=",
        b'Content-Type: multipart/mixed; boundary="b"',
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
        b"Content-Type: text/plain; charset=utf-99",
        b"Content-Type: message/rfc822",
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: quoted-printable",
        b"Content-Disposition: attachment; filename*=utf-8''%ZZ%2F..%2F",
        b"Content-Disposition: attachment; filename*0*=utf-8''a; filename*1=b.exe",
        b"X-Folded: a\r\n b\r\n\tc",
        b"NoColonHeader",
        b": empty name",
    ]
)
BODY_LINES = st.one_of(
    st.sampled_from(
        [
            b"--b",
            b"--b--",
            b"Content-Type: text/html",
            b"Content-Type: application/octet-stream; name=a.exe",
            b"",
            b"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA",
            b"=C3=A6=C3=B8=\r",
            b"> quoted line",
            b"Den 3. nov. 2026 kl. 10:12 skrev Kari <k@e.no>:",
            b"<html><body><blockquote><script>x</script>",
            b"Action: failed",
            b"Message-ID: <ours@barnevern.example.no>",
        ]
    ),
    st.binary(max_size=60),
)


@st.composite
def generated_messages(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(HEADER_LINES, max_size=12))
    body = draw(st.lists(BODY_LINES, max_size=30))
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    return newline.join(headers) + newline + newline + newline.join(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_messages())
def test_generated_messages_never_crash_the_parser(raw: bytes) -> None:
    parsed = parse_email(raw, trusted_authserv_id="mx.barnevern.example.no")
    assert_well_formed(parsed)
    for info, data in attachment_payloads(raw):
        assert info.size == len(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_parser(raw: bytes) -> None:
    assert_well_formed(parse_email(raw))


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(FIXTURE_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        kind = draw(st.sampled_from(["flip", "cut", "truncate", "insert", "repeat"]))
        if kind == "flip":
            raw[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[at : at + draw(st.integers(1, 200))]
        elif kind == "truncate":
            del raw[at:]
        elif kind == "insert":
            token = draw(
                st.sampled_from(
                    [b"\x00", b"\r", b"\n--", b"=?utf-8?q?=0D=0A", b"\n\n", b"\xff\xfe", b">"]
                )
            )
            raw[at:at] = token
        else:
            raw[at:at] = raw[at : at + draw(st.integers(1, 300))]
    return bytes(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixtures())
def test_mutated_fixtures_never_crash_the_parser(raw: bytes) -> None:
    assert_well_formed(parse_email(raw, trusted_authserv_id="mx.barnevern.example.no"))
    attachment_payloads(raw)


def nested_multipart(depth: int) -> bytes:
    head = b"From: kari@example.no\nSubject: dyp\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\n\nHei\n" + closing


def nested_messages(depth: int) -> bytes:
    raw = b"From: kari@example.no\nSubject: innerst\n\nHei\n"
    for i in range(depth):
        raw = b"From: kari@example.no\nSubject: lag %d\nContent-Type: message/rfc822\n\n" % i + raw
    return raw


def many_parts(count: int) -> bytes:
    parts = b"".join(
        b"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        b'filename="%d.pdf"\n\n%%PDF-1.4\n' % i
        for i in range(count)
    )
    return (
        b'From: kari@example.no\nContent-Type: multipart/mixed; boundary="b"\n\n'
        + parts
        + b"--b--\n"
    )


@pytest.mark.parametrize(
    ("raw", "over"),
    [
        (nested_multipart(10), False),
        (nested_multipart(21), True),
        (nested_multipart(3000), True),
        (nested_messages(15), False),
        (nested_messages(25), True),
        (nested_messages(2000), True),
        (many_parts(150), False),
        (many_parts(250), True),
        (many_parts(20000), True),
        (b"From: kari@example.no\nX-Big: " + b"a" * 70_000 + b"\n\nHei", True),
        (b"From: kari@example.no\n" + b"X-Many: a\n" * 10_000 + b"\nHei", True),
    ],
    ids=[
        "depth 10",
        "depth 21",
        "depth 3000",
        "messages 15",
        "messages 25",
        "messages 2000",
        "150 parts",
        "250 parts",
        "20000 parts",
        "one huge header",
        "many headers",
    ],
)
def test_limits_flag_the_message_and_stop_parsing(raw: bytes, over: bool) -> None:
    parsed = parse_email(raw)
    assert parsed.over_limits is over
    if over:
        assert any(d.startswith("over-limit") for d in parsed.defects)
        assert parsed.new_text == ""
        assert parsed.attachments == ()
        assert attachment_payloads(raw) == []
    else:
        assert not any(d.startswith("over-limit") for d in parsed.defects)


def test_an_over_limit_message_keeps_its_header_fields_for_filing() -> None:
    raw = b"From: Kari <kari@example.no>\nMessage-ID: <deep@example.no>\nSubject: Dyp\n"
    parsed = parse_email(raw + nested_multipart(30).split(b"\n", 2)[2])
    assert parsed.over_limits
    assert parsed.message_id == "<deep@example.no>"
    assert parsed.from_addr == "kari@example.no"


def test_limits_are_configurable() -> None:
    tight = EmailLimits(max_parts=5, max_mime_depth=2)
    assert parse_email(many_parts(10), limits=tight).over_limits
    assert parse_email(nested_multipart(3), limits=tight).over_limits
    assert not parse_email(many_parts(3), limits=tight).over_limits


def test_deeply_nested_html_is_converted_without_recursion() -> None:
    html = "<div>" * 20_000 + "Hei" + "</div>" * 20_000
    assert html_to_text(html) == "Hei"
    assert "Hei" in sanitize_html("<blockquote>" * 500 + "Hei" + "</blockquote>" * 500)


@given(st.text(max_size=500))
def test_any_html_converts(html: str) -> None:
    html_to_text(html)
    sanitize_html(html)
