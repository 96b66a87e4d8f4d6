"""Properties: generated valid numbers are found; one changed digit is not."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.classify import checksums as cs
from gateway.core.classify import find_entities

FAST = settings(max_examples=60, deadline=None)
dates = st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def fodselsnummer(draw: st.DrawFn) -> str:
    born = draw(dates)
    day = born.day + (40 if draw(st.booleans()) else 0)  # D-number half the time
    individual = draw(st.integers(500, 999) if born.year >= 2000 else st.integers(0, 499))
    first9 = f"{day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
    checks = cs.fnr_check_digits(first9)
    return first9 + draw(st.just(checks)) if checks else draw(fodselsnummer())


@st.composite
def card_number(draw: st.DrawFn) -> str:
    prefix, length = draw(
        st.sampled_from([("4", 16), ("51", 16), ("2221", 16), ("37", 15), ("4", 19)])
    )
    body = draw(
        st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    payload = prefix + body
    return payload + cs.luhn_check_digit(payload)


@st.composite
def norwegian_iban(draw: st.DrawFn) -> str:
    bban = draw(st.text("0123456789", min_size=11, max_size=11))
    number = int("".join(str(int(c, 36)) for c in bban + "NO00"))
    return f"NO{98 - number % 97:02d}{bban}"


@st.composite
def personnummer(draw: st.DrawFn) -> str:
    born = draw(dates)
    payload = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{draw(st.integers(0, 999)):03d}"
    return payload + cs.luhn_check_digit(payload)


def change_one_digit(number: str, position: int, delta: int) -> str:
    digit_positions = [i for i, c in enumerate(number) if c.isdigit()]
    i = digit_positions[position % len(digit_positions)]
    return number[:i] + str((int(number[i]) + delta) % 10) + number[i + 1 :]


def types_found(text: str) -> set[str]:
    return {e.type for e in find_entities(text)}


def found_whole(text: str, value: str, type_: str) -> bool:
    start = text.index(value)
    return any(
        e.type == type_ and e.start == start and e.end == start + len(value)
        for e in find_entities(text)
    )


@FAST
@given(fodselsnummer(), st.sampled_from(["", " ", "-"]))
def test_generated_fodselsnummer_is_found(number: str, separator: str) -> None:
    written = number[:6] + separator + number[6:]
    assert found_whole(f"fnr til jenta: {written} takk", written, "NO_FNR")


@FAST
@given(fodselsnummer(), st.integers(0, 10), st.integers(1, 9))
def test_fodselsnummer_with_one_changed_digit_is_not(
    number: str, position: int, delta: int
) -> None:
    assert "NO_FNR" not in types_found(f"fnr {change_one_digit(number, position, delta)}")


@FAST
@given(card_number())
def test_generated_card_is_found(number: str) -> None:
    grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    assert found_whole(f"card {grouped} thanks", grouped, "PAYMENT_CARD")


@FAST
@given(card_number(), st.integers(0, 18), st.integers(1, 9))
def test_card_with_one_changed_digit_is_not(number: str, position: int, delta: int) -> None:
    assert "PAYMENT_CARD" not in types_found(f"card {change_one_digit(number, position, delta)}")


@FAST
@given(norwegian_iban())
def test_generated_iban_is_found(iban: str) -> None:
    assert found_whole(f"IBAN {iban} ok", iban, "IBAN")


@FAST
@given(norwegian_iban(), st.integers(0, 12), st.integers(1, 9))
def test_iban_with_one_changed_digit_is_not(iban: str, position: int, delta: int) -> None:
    assert "IBAN" not in types_found(f"IBAN {change_one_digit(iban, position, delta)}")


@FAST
@given(personnummer())
def test_generated_personnummer_is_found(number: str) -> None:
    written = number[:6] + "-" + number[6:]
    assert {"SE_PNR", "DK_CPR"} & types_found(f"mitt personnummer är {written}")
    assert found_whole(f"jag är mamma, personnummer {written}", written, "SE_PNR")


@FAST
@given(personnummer(), st.integers(0, 9), st.integers(1, 9))
def test_personnummer_with_one_changed_digit_is_not(number: str, position: int, delta: int) -> None:
    changed = change_one_digit(number, position, delta)
    assert "SE_PNR" not in types_found(f"personnummer är {changed[:6]}-{changed[6:]}")
