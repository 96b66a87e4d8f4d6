"""Check-digit validators against published examples and hand-checked cases."""

from __future__ import annotations

import pytest

from gateway.core.classify import checksums as cs


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("01010750160", True),  # widely published synthetic fødselsnummer
        ("01010750161", False),  # K2 off by one
        ("01010750170", False),  # K1 off by one (remainder 4 is outside the 2032 rule)
        ("41010750160", False),  # D-number needs its own check digits
        ("32010750160", False),  # 32 January
        ("3112995604", False),  # ten digits
    ],
)
def test_fnr_published_and_broken(number: str, valid: bool) -> None:
    assert cs.fnr_valid(number) is valid


def _with_k1_remainder(first9: str, remainder: int) -> str | None:
    s1 = sum(int(c) * w for c, w in zip(first9, cs.FNR_K1_WEIGHTS, strict=True))
    k1 = (remainder - s1) % 11
    if k1 == 10:
        return None
    s2 = sum(int(c) * w for c, w in zip(first9 + str(k1), cs.FNR_K2_WEIGHTS, strict=True))
    k2 = (11 - s2 % 11) % 11
    return None if k2 == 10 else f"{first9}{k1}{k2}"


@pytest.mark.parametrize("remainder", [0, 1, 2, 3])
def test_fnr_2032_rule_accepts_k1_remainders_0_to_3(remainder: int) -> None:
    number = next(
        n for ind in range(500, 999) if (n := _with_k1_remainder(f"150332{ind:03d}", remainder))
    )
    assert cs.fnr_valid(number)


@pytest.mark.parametrize("remainder", [4, 5, 9])
def test_fnr_2032_rule_rejects_other_k1_remainders(remainder: int) -> None:
    number = next(
        n for ind in range(500, 999) if (n := _with_k1_remainder(f"150332{ind:03d}", remainder))
    )
    assert not cs.fnr_valid(number)


def test_fnr_d_and_h_numbers() -> None:
    d_number = "410107501" + (cs.fnr_check_digits("410107501") or "")
    h_number = "014107501" + (cs.fnr_check_digits("014107501") or "")
    assert cs.fnr_valid(d_number)
    assert cs.fnr_valid(h_number)


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82WEST12345698765432", True),  # Wikipedia / ECBS example
        ("NO9386011117947", True),
        ("DE89370400440532013000", True),
        ("SE4550000000058398257466", True),
        ("DK5000400440116243", True),
        ("FI2112345600000785", True),
        ("GB82WEST12345698765433", False),  # check fails
        ("NO93860111179470", False),  # Norway is 15 characters
        ("XX82WEST12345698765432", False),  # no such country
    ],
)
def test_iban(iban: str, valid: bool) -> None:
    assert cs.iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [("86011117947", True), ("86011117948", False), ("12345678903", True), ("12345678904", False)],
)
def test_norwegian_account(number: str, valid: bool) -> None:
    assert cs.no_account_valid(number) is valid


@pytest.mark.parametrize(
    ("hetu", "valid"),
    [
        ("131052-308T", True),  # Digital and Population Data Services Agency example
        ("131052A308T", True),  # same digits, 2000s sign
        ("131052Y308T", True),  # 2023 addition for the 1900s
        ("131052B308T", True),  # 2023 addition for the 2000s
        ("131052-308U", False),
        ("131052G308T", False),  # not a century sign
        ("310252-308T", False),  # 31 February
    ],
)
def test_hetu(hetu: str, valid: bool) -> None:
    assert cs.hetu_valid(hetu) is valid


@pytest.mark.parametrize(
    ("pnr", "valid"),
    [
        ("8112289874", True),  # Skatteverket's example
        ("198112289874", True),
        ("7010632391", True),  # samordningsnummer (day + 60)
        ("8112289875", False),
        ("8113289874", False),  # month 13
        ("178112289874", False),  # no 17th-century numbers
    ],
)
def test_swedish_personnummer(pnr: str, valid: bool) -> None:
    assert cs.se_pnr_valid(pnr) is valid


def test_danish_cpr_date_and_modulus() -> None:
    assert cs.cpr_date_valid("0707614285") and cs.cpr_mod11("0707614285")
    assert cs.cpr_date_valid("0707614286") and not cs.cpr_mod11("0707614286")
    assert not cs.cpr_date_valid("3102614285")  # 31 February


@pytest.mark.parametrize(
    ("nino", "valid"),
    [("AB123456C", True), ("AB123456", True), ("QQ123456C", False), ("GB123456A", False),
     ("AO123456A", False), ("DA123456A", False), ("AB123456E", False)],
)  # fmt: skip
def test_national_insurance_number(nino: str, valid: bool) -> None:
    assert cs.nino_valid(nino) is valid


@pytest.mark.parametrize(
    ("nhs", "valid"), [("9434765919", True), ("9434765918", False), ("4010232137", True)]
)
def test_nhs_number(nhs: str, valid: bool) -> None:
    assert cs.nhs_valid(nhs) is valid


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [("536221234", True), ("000221234", False), ("666221234", False), ("900221234", False),
     ("536001234", False), ("536220000", False), ("078051120", False), ("123456789", False)],
)  # fmt: skip
def test_social_security_number(ssn: str, valid: bool) -> None:
    assert cs.ssn_valid(ssn) is valid


@pytest.mark.parametrize(
    ("card", "issuer"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),  # 2-series
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("30569309025904", "diners"),
    ],
)
def test_card_test_numbers(card: str, issuer: str) -> None:
    assert cs.card_valid(card)
    assert cs.card_issuer(card) == issuer


@pytest.mark.parametrize("card", ["4111111111111112", "79927398713", "9111111111111111"])
def test_cards_that_are_not(card: str) -> None:
    assert not cs.card_valid(card)


def test_luhn_wikipedia_example() -> None:
    assert cs.luhn_valid("79927398713")
    assert not cs.luhn_valid("79927398710")
    assert cs.luhn_check_digit("7992739871") == "3"
