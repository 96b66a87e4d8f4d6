"""The exactly-once key read at DATA, without parsing, is the key the parsed message gives.

The sender is answered once the raw message is committed, so its key (Message-ID + recipient,
a content hash without one) comes from a bounded look at the header block. It must equal what
``provider_id_for`` makes from the fully parsed message, or retries of mail stored before would
no longer be recognised. Checked on the whole fixture corpus, on shapes chosen to differ
(folding, comments, encoded words, bare CR, an mbox line, headers over the limit) and on
generated header blocks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.email_in import provider_id_for
from gateway.core.email import EmailLimits, parse_email
from gateway.core.email.receipt_key import email_receipt_key, message_id_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
SERVICE = "post@barnevern.example.no"
TOKEN = "case.abcdefghijklmnopqrstuvwx@barnevern.example.no"


def same_key(raw: bytes, limits: EmailLimits = EmailLimits()) -> None:  # noqa: B008
    parsed = parse_email(raw, limits=limits)
    for rcpt in (SERVICE, TOKEN, "Post@Barnevern.Example.NO"):
        assert email_receipt_key(raw, rcpt, limits) == provider_id_for(parsed, raw, rcpt), raw[:300]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_gets_the_parsers_key(name: str) -> None:
    same_key((FIXTURES / name).read_bytes())


SHAPES = {
    "plain": b"From: a@example.org\r\nMessage-ID: <abc@example.org>\r\n\r\nHei\r\n",
    "lower-case name": b"message-id: <abc@example.org>\r\nFrom: a@example.org\r\n\r\nHei\r\n",
    "folded": b"From: a@example.org\r\nMessage-ID:\r\n <folded@example.org>\r\n\r\nHei\r\n",
    "comment": b"Message-ID: <c@example.org> (sent by Outlook)\r\n\r\nHei\r\n",
    "no brackets": b"Message-ID: bare-id@example.org\r\n\r\nHei\r\n",
    "two fields": b"Message-ID: <one@example.org>\r\nMessage-ID: <two@example.org>\r\n\r\nx\r\n",
    "encoded word": b"Message-ID: =?utf-8?q?<enc@example.org>?=\r\n\r\nHei\r\n",
    "8-bit": "Message-ID: <blåbær@example.no>\r\n\r\nHei\r\n".encode(),
    "missing": b"From: a@example.org\r\nSubject: hei\r\n\r\nHei\r\n",
    "empty": b"Message-ID:\r\n\r\nHei\r\n",
    "bare LF": b"From: a@example.org\nMessage-ID: <lf@example.org>\n\nHei\n",
    "bare CR": b"From: a@example.org\rMessage-ID: <cr@example.org>\r\r\nHei\r\n",
    "mbox line": b"From a@example.org Sat Nov 28 10:00:00 2026\nMessage-ID: <m@x.org>\n\nHei\n",
    "in the body only": b"From: a@example.org\r\n\r\nMessage-ID: <body@example.org>\r\n",
    "after a non-header line": b"From: a@example.org\r\nnot a header\r\nMessage-ID: <x@y>\r\n\r\n",
    "name with a space": b"Message-ID : <space@example.org>\r\n\r\nHei\r\n",
    "long": b"Message-ID: <" + b"x" * 990 + b"@example.org>\r\n\r\nHei\r\n",
    "very long": b"Message-ID: <" + b"x" * 5000 + b"@example.org>\r\n\r\nHei\r\n",
    "no body": b"From: a@example.org\r\nMessage-ID: <nobody@example.org>\r\n",
    "gmail": b"Message-ID: <CAF=x+y_Z-9@mail.gmail.com>\r\n\r\nHei\r\n",
    "odd ascii": b"Message-ID:   <a!#$%&'*+/=?^_`{|}~.b@c>  \r\n\r\nHei\r\n",
    "quoted": b'Message-ID: <"a b"@example.org>\r\n\r\nHei\r\n',
    "literal": b"Message-ID: <a@[127.0.0.1]>\r\n\r\nHei\r\n",
    "tab": b"Message-ID:\t<tab@example.org>\t\r\n\r\nHei\r\n",
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_shapes_that_could_differ_get_the_parsers_key(shape: str) -> None:
    same_key(SHAPES[shape])


def test_a_header_block_over_the_limit_is_read_as_the_parser_reads_it() -> None:
    limits = EmailLimits(max_header_bytes=1024)
    early = b"Message-ID: <early@example.org>\r\n" + b"X-Pad: " + b"p" * 70 + b"\r\n" * 1
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 60) for i in range(40))
    late = b"Message-ID: <late@example.org>\r\n"
    for raw in (early + padding + b"\r\nHei\r\n", padding + late + b"\r\nHei\r\n"):
        same_key(raw, limits)
    assert message_id_of(early + padding + b"\r\nHei\r\n", limits) == "<early@example.org>"
    assert message_id_of(padding + late + b"\r\nHei\r\n", limits) is None  # past the limit


def test_same_bytes_give_the_same_key_and_other_bytes_without_an_id_another() -> None:
    a = SHAPES["missing"]
    b = a.replace(b"Hei", b"Hallo")
    assert email_receipt_key(a, SERVICE) == email_receipt_key(a, SERVICE)
    assert email_receipt_key(a, SERVICE).startswith("sha256:")
    assert email_receipt_key(a, SERVICE) != email_receipt_key(b, SERVICE)
    assert email_receipt_key(a, SERVICE) != email_receipt_key(a, TOKEN)


_field_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\r\n"), max_size=60
)


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(st.tuples(st.sampled_from(["From", "To", "Subject", "X-A"]), _field_text)),
    value=_field_text,
    fold=st.booleans(),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
def test_generated_header_blocks_get_the_parsers_key(
    before: list[tuple[str, str]], value: str, fold: bool, line_end: str
) -> None:
    lines = [f"{name}: {text}" for name, text in before]
    lines.append(f"Message-ID:{line_end} {value}" if fold else f"Message-ID: {value}")
    raw = (line_end.join(lines) + line_end + line_end + "Hei" + line_end).encode("utf-8")
    same_key(raw)


@settings(max_examples=300, deadline=None)
@given(
    local=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    host=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_generated_ascii_ids_get_the_parsers_key(local: str, host: str, pad: str) -> None:
    raw = f"From: a@example.org\r\nMessage-ID: {pad}<{local}@{host}>{pad}\r\n\r\nHei\r\n"
    same_key(raw.encode())


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,12}"
_DOT_ATOM = st.from_regex(rf"\A{_ATOM}(\.{_ATOM}){{0,3}}\Z")


@settings(max_examples=300, deadline=None)
@given(local=_DOT_ATOM, host=_DOT_ATOM, pad=st.sampled_from(["", " ", "\t"]))
def test_generated_well_formed_ids_get_the_parsers_key(local: str, host: str, pad: str) -> None:
    raw = f"Subject: x\r\nMessage-ID:{pad}<{local}@{host}>{pad}\r\n\r\nHei\r\n"
    same_key(raw.encode())
