"""Charset fallbacks that never lose a family's words, header cleaning, and addresses in
the one form the gateway compares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.email import normalise_address
from gateway.core.email.headers import message_ids
from gateway.core.email.language import language_hint
from gateway.core.email.text_decoding import clean_header_text, decode_text_bytes

TEXT = "Sønnen vår går på skolen i Ås – “fint”"


@pytest.mark.parametrize(
    ("data", "declared", "expected", "defect"),
    [
        (TEXT.encode("utf-8"), "utf-8", TEXT, None),
        (TEXT.encode("utf-8"), None, TEXT, "charset-missing: decoded as utf-8"),
        (TEXT.encode("utf-8"), "us-ascii", TEXT, "charset-missing: decoded as utf-8"),
        (
            TEXT.encode("utf-8"),
            "iso-8859-1",
            TEXT,
            "charset-wrong: declared 'iso-8859-1', decoded as utf-8",
        ),
        (
            TEXT.encode("cp1252"),
            "utf-8",
            TEXT,
            "charset-wrong: declared 'utf-8', decoded as windows-1252",
        ),
        (
            TEXT.encode("cp1252"),
            "x-klingon",
            TEXT,
            "charset-wrong: declared 'x-klingon', decoded as windows-1252",
        ),
        (TEXT.encode("cp1252"), "windows-1252", TEXT, None),
        ("Søknad".encode("iso-8859-1"), "iso-8859-1", "Søknad", None),
        ("Hei".encode("utf-16"), "utf-16", "Hei", None),
        (b"Hei", None, "Hei", None),
        (
            b"\x81\x8d\x8f",
            "utf-8",
            "\x81\x8d\x8f",
            "charset-wrong: declared 'utf-8', decoded as iso-8859-1",
        ),
    ],
)
def test_charset_fallbacks(
    data: bytes, declared: str | None, expected: str, defect: str | None
) -> None:
    assert decode_text_bytes(data, declared) == (expected, defect)


@given(
    st.binary(max_size=500),
    st.sampled_from([None, "utf-8", "us-ascii", "bogus", "cp1252", "utf-16"]),
)
def test_decoding_never_fails(data: bytes, declared: str | None) -> None:
    text, _ = decode_text_bytes(data, declared)
    assert isinstance(text, str)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Hei\r\nBcc: x@y", "Hei Bcc: x@y"),
        ("Hei\x00der", "Hei der"),
        ("  mange    mellomrom  ", "mange mellomrom"),
        ("Linje\u2028skift", "Linje skift"),
        ("S\u00f8knad", "Søknad"),
        ("So\u0308knad", "Söknad"),  # combining marks composed (NFC)
        ("M\udcc3\udcb8te", "Møte"),  # raw 8-bit utf-8 bytes kept as surrogate escapes
        ("M\udcf8te", "Møte"),  # raw latin-1 byte
    ],
)
def test_header_values_become_one_clean_line(raw: str, clean: str) -> None:
    assert clean_header_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Kari.Nordmann@Gmail.COM", "kari.nordmann@gmail.com"),
        ("  <kari@example.no>  ", "kari@example.no"),
        ("mailto:kari@example.no", "kari@example.no"),
        ("kari+barnevern@example.no", "kari+barnevern@example.no"),
        ("kari@example.no.", "kari@example.no"),
        ("kari@xn--s-1fa.example.no", "kari@ås.example.no"),
        ("kari@ÅS.example.no", "kari@ås.example.no"),
        ("kari", ""),
        ("kari@", ""),
        ("@example.no", ""),
        ("a@b@c", ""),
        ("kari nordmann@example.no", ""),
        ("", ""),
    ],
)
def test_normalise_address(raw: str, normalised: str) -> None:
    assert normalise_address(raw) == normalised


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("<a@b>", ["<a@b>"]),
        ("<a@b> <c@d>\n <a@b>", ["<a@b>", "<c@d>"]),
        ("a@b", ["<a@b>"]),
        ("junk", []),
        ("<a@b> junk <<<>>> <c@d", ["<a@b>"]),
        (None, []),
    ],
)
def test_message_ids(value: str | None, ids: list[str]) -> None:
    assert message_ids(value) == ids


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hei, jeg kommer ikke i dag. Hva skal vi gjøre?", "nb"),
        ("Hei, eg kjem ikkje i dag. Kva skal vi gjere?", "nn"),
        ("Hej, jeg kommer ikke i dag. Hvad skal vi gøre?", "da"),
        ("Hej, jag kommer inte i dag. Vad ska vi göra?", "sv"),
        ("Hi, I am not coming today. What should we do?", "en"),
        ("Ok", None),
        ("12345 67890", None),
    ],
)
def test_language_hint(text: str, language: str | None) -> None:
    assert language_hint(text) == language
