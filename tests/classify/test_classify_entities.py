"""Sensitive spans in real-looking messages, in every language, and look-alikes that are not."""

from __future__ import annotations

import pytest

from gateway.core.classify import Classification, classify, find_entities, redact


def spans(text: str, names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in find_entities(text, names)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # nb
        ("Hei, fnr til gutten er 01010750160, ring meg", [("NO_FNR", "01010750160")]),
        (
            "fødselsnummer 010107 50160 og tlf 912 34 567",
            [("NO_FNR", "010107 50160"), ("PHONE", "912 34 567")],
        ),
        ("Kontonummer 1234.56.78903 takk", [("BANK_ACCOUNT", "1234.56.78903")]),
        ("send til konto 8601 11 17947", [("BANK_ACCOUNT", "8601 11 17947")]),
        ("ring meg på +47 912 34 567 etter kl 16", [("PHONE", "+47 912 34 567")]),
        ("nytt nr 0047 41234567", [("PHONE", "0047 41234567")]),
        (
            "Vi bor i Kong Oscars gate 12B, 0150 Oslo nå",
            [("POSTAL_ADDRESS", "Kong Oscars gate 12B, 0150 Oslo")],
        ),
        ("flytta til storgata 5 i går", [("POSTAL_ADDRESS", "storgata 5")]),
        ("Gutten har ADHD og bruker Ritalin", [("HEALTH", "ADHD"), ("HEALTH", "Ritalin")]),
        # nn
        (
            "fødselsnummeret hennar er 01010750160 og ho har depresjon",
            [("NO_FNR", "01010750160"), ("HEALTH", "depresjon")],
        ),
        ("eg bur i Ringvegen 14, 5003 Bergen", [("POSTAL_ADDRESS", "Ringvegen 14, 5003 Bergen")]),
        # da
        ("Mit CPR-nr. er 070761-4285", [("DK_CPR", "070761-4285")]),
        (
            "ring på 20 12 34 56 eller +45 20123456",
            [("PHONE", "20 12 34 56"), ("PHONE", "+45 20123456")],
        ),
        (
            "Nørrebrogade 12, 2. th., 2200 København N",
            [("POSTAL_ADDRESS", "Nørrebrogade 12, 2. th., 2200 København N")],
        ),
        # sv
        ("mitt personnummer är 811228-9874", [("SE_PNR", "811228-9874")]),
        ("personnummer 19811228-9874", [("SE_PNR", "19811228-9874")]),
        ("ring 070-123 45 67 ikväll", [("PHONE", "070-123 45 67")]),
        (
            "Drottninggatan 12, 111 51 Stockholm",
            [("POSTAL_ADDRESS", "Drottninggatan 12, 111 51 Stockholm")],
        ),
        ("hon har ångest och tar Concerta", [("HEALTH", "ångest"), ("HEALTH", "Concerta")]),
        # fi (written in sv or nb)
        ("hennes henkilötunnus är 131052-308T", [("FI_HETU", "131052-308T")]),
        # en-GB
        (
            "NHS number 943 476 5919, NI AB 12 34 56 C",
            [("GB_NHS", "943 476 5919"), ("GB_NINO", "AB 12 34 56 C")],
        ),
        ("call me on 07911 123456", [("PHONE", "07911 123456")]),
        (
            "we live at 12 Acacia Avenue, Leeds LS6 2AB",
            [("POSTAL_ADDRESS", "12 Acacia Avenue, Leeds LS6 2AB")],
        ),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", [("IBAN", "GB82 WEST 1234 5698 7654 32")]),
        # en-US
        ("my SSN is 536-22-1234", [("US_SSN", "536-22-1234")]),
        ("call (212) 555-2368 after 5", [("PHONE", "(212) 555-2368")]),
        ("card 4111 1111 1111 1111 exp 04/27", [("PAYMENT_CARD", "4111 1111 1111 1111")]),
        ("amex 3782 822463 10005", [("PAYMENT_CARD", "3782 822463 10005")]),
        ("email kari.nordmann@example.no now", [("EMAIL", "kari.nordmann@example.no")]),
    ],
)
def test_finds_sensitive_spans(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Saksnummer 2024/12345, møtet er 12.03.2024 kl 14:30",
        "Ordrenummer 45678912 gjelder sykkelen",
        "Regningen var på kr 45 000 000, betalt 22.03.2024",
        "Beløpet 12 500 kr er betalt",
        "fnr 01010750161 stemmer det?",  # invalid K2
        "kortnummer 4111 1111 1111 1112 funker ikke",  # Luhn fails
        "IBAN GB82 WEST 1234 5698 7654 33",  # mod 97 fails
        "tidspunkt 2024-03-12 14:30:00",
        "faktura 20240312 forfaller 01.04.2024",
        "vi var der fra 2015 2016 og flyttet",
        "reference 22334455 on the letter",
        "Case number 2025/88231, bill was £1.250",
        "sporingsnummer 40012345 kom i går",
        "Vi åpner igjen (man-fre 08.00-15.30). Haster det, ring 112.",
        "Öppet 8:00 – 16:30 på vardagar",
    ],
)
def test_hard_negatives_are_not_sensitive(text: str) -> None:
    assert spans(text) == []


def test_known_names_and_their_parts_are_found() -> None:
    text = "Hei, Emma Hansen her. emma er syk, Emmas lærer vet det"
    assert spans(text, ("Emma Hansen",)) == [
        ("PERSON_NAME", "Emma Hansen"),
        ("PERSON_NAME", "emma"),
        ("PERSON_NAME", "Emma"),
    ]


def test_short_name_that_is_also_a_word_needs_a_capital() -> None:
    assert spans("Liv kommer i morgen, livet er fint", ("Liv Berg",)) == [("PERSON_NAME", "Liv")]


def test_number_claimed_by_two_schemes_is_still_redacted_whole() -> None:
    # 0707614285 is both a Danish CPR with modulus 11 and, as digits, other things.
    result = classify("CPR 070761-4285", language="en")
    assert result.redacted == "CPR [NATIONAL ID]"
    assert len(result.entities) == 1


def test_number_that_is_phone_and_nhs_shape_is_redacted() -> None:
    result = classify("call 402 555 0123 or NHS 943 476 5919", language="en")
    assert "555" not in result.redacted and "5919" not in result.redacted


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nb", "fnr [FØDSELSNUMMER], tlf [TELEFON]"),
        ("nn", "fnr [FØDSELSNUMMER], tlf [TELEFON]"),
        ("da", "fnr [PERSONNUMMER], tlf [TELEFON]"),
        ("sv", "fnr [PERSONNUMMER], tlf [TELEFON]"),
        ("en", "fnr [NATIONAL ID], tlf [PHONE]"),
        ("de", "fnr [NATIONAL ID], tlf [PHONE]"),
    ],
)
def test_placeholders_speak_the_service_language(language: str, expected: str) -> None:
    assert classify("fnr 01010750160, tlf 91234567", language=language).redacted == expected


def test_every_label_records_rule_and_confidence() -> None:
    result = classify("fnr 01010750160, Emma har ADHD", known_names=["Emma"])
    assert {e.rule for e in result.entities} == {
        "no_fnr.date+mod11",
        "person_name.case_record",
        "health.lexicon",
    }
    assert all(0 < e.confidence <= 1 for e in result.entities)
    assert result.labels == ["HEALTH", "NO_FNR", "PERSON_NAME"]


def test_redact_keeps_text_between_spans() -> None:
    text = "a 91234567 b kari@example.no c"
    assert redact(text, find_entities(text), "en") == "a [PHONE] b [EMAIL] c"


def test_empty_message() -> None:
    assert classify("") == Classification(entities=(), risks=(), redacted="")
