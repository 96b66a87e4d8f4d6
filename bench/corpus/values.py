"""Random but valid (or deliberately invalid) values for the corpus slots.

Every generator takes a ``random.Random`` so the corpus is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable

import phonenumbers

from gateway.core.classify import checksums as cs

Value = tuple[str, str | None]  # surface text, gold type (None for hard negatives)


def _date(rng: random.Random, lo: int = 1950, hi: int = 2024) -> dt.date:
    return dt.date(rng.randint(lo, hi), 1, 1) + dt.timedelta(days=rng.randint(0, 364))


def fnr(rng: random.Random) -> Value:
    while True:
        d = _date(rng, 1960, 2023)
        day, month = d.day, d.month
        kind = rng.random()
        if kind < 0.15:
            day += 40  # D-number
        elif kind < 0.22:
            month += 40  # H-number
        if d.year >= 2000:
            ind = rng.randint(500, 999)
        else:
            ind = rng.randint(0, 499)
        first9 = f"{day:02d}{month:02d}{d.year % 100:02d}{ind:03d}"
        checks = cs.fnr_check_digits(first9)
        if rng.random() < 0.1:
            # A number issued under the 2032 rule: K1 leaves remainder 1..3.
            s1 = sum(int(c) * w for c, w in zip(first9, cs.FNR_K1_WEIGHTS, strict=True))
            r = rng.randint(1, 3)
            k1 = (r - s1) % 11
            if k1 == 10:
                continue
            s2 = sum(int(c) * w for c, w in zip(first9 + str(k1), cs.FNR_K2_WEIGHTS, strict=True))
            k2 = (11 - s2 % 11) % 11
            if k2 == 10:
                continue
            checks = f"{k1}{k2}"
        if checks is None:
            continue
        digits = first9 + checks
        assert cs.fnr_valid(digits), digits
        sep = rng.choice(["", " ", "", "-"])
        return digits[:6] + sep + digits[6:], "NO_FNR"


def bad_fnr(rng: random.Random) -> Value:
    digits, _ = fnr(rng)
    digits = digits.replace(" ", "").replace("-", "")
    while True:
        i = rng.randint(6, 10)
        changed = digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1 :]
        if not cs.fnr_valid(changed) and not cs.no_account_valid(changed):
            return changed[:6] + " " + changed[6:], None


def cpr(rng: random.Random) -> Value:
    while True:
        d = _date(rng, 1940, 2022)
        c7 = rng.choice("0123") if d.year < 2000 else rng.choice("49")
        if d.year >= 2000 and d.year % 100 > 36:
            continue
        digits = f"{d.day:02d}{d.month:02d}{d.year % 100:02d}{c7}{rng.randint(0, 999):03d}"
        if not cs.cpr_date_valid(digits):
            continue
        if rng.random() < 0.6 and not cs.cpr_mod11(digits):
            continue
        return digits[:6] + "-" + digits[6:], "DK_CPR"


def se_pnr(rng: random.Random) -> Value:
    d = _date(rng, 1940, 2022)
    day = d.day + (60 if rng.random() < 0.12 else 0)
    payload = f"{d.year % 100:02d}{d.month:02d}{day:02d}{rng.randint(0, 999):03d}"
    digits = payload + cs.luhn_check_digit(payload)
    style = rng.random()
    if style < 0.5:
        return digits[:6] + "-" + digits[6:], "SE_PNR"
    if style < 0.8:
        return f"{d.year // 100}{digits}", "SE_PNR"
    return f"{d.year // 100}{digits[:6]}-{digits[6:]}", "SE_PNR"


def hetu(rng: random.Random) -> Value:
    d = _date(rng, 1950, 2022)
    sign = rng.choice("-YXWVU") if d.year < 2000 else rng.choice("ABCDEF")
    serial = rng.randint(2, 899)
    head = f"{d.day:02d}{d.month:02d}{d.year % 100:02d}"
    check = cs.HETU_CHECK_CHARS[int(head + f"{serial:03d}") % 31]
    return f"{head}{sign}{serial:03d}{check}", "FI_HETU"


def nino(rng: random.Random) -> Value:
    while True:
        a = rng.choice(string.ascii_uppercase)
        b = rng.choice(string.ascii_uppercase)
        n = "".join(rng.choice(string.digits) for _ in range(6))
        s = rng.choice("ABCD")
        if cs.nino_valid(a + b + n + s):
            if rng.random() < 0.5:
                return f"{a}{b} {n[:2]} {n[2:4]} {n[4:]} {s}", "GB_NINO"
            return f"{a}{b}{n}{s}", "GB_NINO"


def nhs(rng: random.Random) -> Value:
    while True:
        digits = "".join(rng.choice(string.digits) for _ in range(10))
        if cs.nhs_valid(digits):
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}", "GB_NHS"


def ssn(rng: random.Random) -> Value:
    while True:
        digits = f"{rng.randint(1, 899):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if cs.ssn_valid(digits):
            return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}", "US_SSN"


def _iban(country: str, bban: str) -> str:
    number = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(number) % 97:02d}{bban}"


def iban(rng: random.Random) -> Value:
    country = rng.choice(["NO", "DK", "SE", "FI", "GB", "DE"])
    length = cs.IBAN_LENGTHS[country] - 4
    if country == "GB":
        bban = "".join(rng.choice("ABCDEFGHJKLMNPRSTUWXYZ") for _ in range(4))
        bban += "".join(rng.choice(string.digits) for _ in range(length - 4))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(length))
    code = _iban(country, bban)
    assert cs.iban_valid(code)
    if rng.random() < 0.6:
        return " ".join(code[i : i + 4] for i in range(0, len(code), 4)), "IBAN"
    return code, "IBAN"


def no_account(rng: random.Random) -> Value:
    while True:
        digits = "".join(rng.choice(string.digits) for _ in range(10))
        check = (
            11 - sum(int(c) * w for c, w in zip(digits, cs.NO_ACCOUNT_WEIGHTS, strict=True)) % 11
        )
        if check == 10:
            continue
        digits += str(0 if check == 11 else check)
        if cs.fnr_valid(digits):
            continue
        return rng.choice(
            [
                f"{digits[:4]}.{digits[4:6]}.{digits[6:]}",
                f"{digits[:4]} {digits[4:6]} {digits[6:]}",
                digits,
            ]
        ), "BANK_ACCOUNT"


def dk_account(rng: random.Random) -> Value:
    return f"{rng.randint(1000, 9999)} {rng.randint(0, 99999999):010d}", "BANK_ACCOUNT"


def se_account(rng: random.Random) -> Value:
    return (
        f"{rng.randint(8000, 8999)}-{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}-{rng.randint(0, 9)}",
        "BANK_ACCOUNT",
    )


def card(rng: random.Random) -> Value:
    kind = rng.choice(["visa", "mc", "mc2", "amex", "visa19"])
    prefix = {"visa": "4", "mc": str(rng.randint(51, 55)), "mc2": str(rng.randint(2221, 2720)),
              "amex": rng.choice(["34", "37"]), "visa19": "4"}[kind]  # fmt: skip
    length = {"amex": 15, "visa19": 19}.get(kind, 16)
    payload = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    digits = payload + cs.luhn_check_digit(payload)
    if kind == "amex":
        return f"{digits[:4]} {digits[4:10]} {digits[10:]}", "PAYMENT_CARD"
    if rng.random() < 0.7:
        sep = rng.choice([" ", "-"])
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4)), "PAYMENT_CARD"
    return digits, "PAYMENT_CARD"


def bad_card(rng: random.Random) -> Value:
    text, _ = card(rng)
    last = text[-1]
    return text[:-1] + str((int(last) + rng.randint(1, 9)) % 10), None


_PHONE_SHAPES = {
    "NO": [("9", 8), ("4", 8), ("2", 8)],
    "DK": [("2", 8), ("3", 8), ("6", 8)],
    "SE": [("07", 10), ("08", 9)],
    "FI": [("04", 10), ("050", 10)],
    "GB": [("07", 11), ("020", 11), ("0161", 11)],
    "US": [("", 10)],
}
_COUNTRY_CODE = {"NO": "47", "DK": "45", "SE": "46", "FI": "358", "GB": "44", "US": "1"}


def _format_phone(region: str, national: str, rng: random.Random, international: bool) -> str:
    n = national.lstrip("0") if international else national
    if region in ("NO", "DK"):
        body = rng.choice([f"{n[:3]} {n[3:5]} {n[5:]}", f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:]}", n])
    elif region == "US":
        body = rng.choice(
            [
                f"({n[:3]}) {n[3:6]}-{n[6:]}",
                f"{n[:3]}-{n[3:6]}-{n[6:]}",
                f"{n[:3]} {n[3:6]} {n[6:]}",
            ]
        )
        if international:
            body = f"{n[:3]} {n[3:6]} {n[6:]}"
    elif region == "GB":
        body = f"{n[:-6]} {n[-6:]}"
    else:
        body = rng.choice([f"{n[:-7]}-{n[-7:-4]} {n[-4:-2]} {n[-2:]}", f"{n[:-7]} {n[-7:]}"])
    return f"+{_COUNTRY_CODE[region]} {body}" if international else body


def phone(region: str) -> Callable[[random.Random], Value]:
    def make(rng: random.Random) -> Value:
        while True:
            prefix, length = rng.choice(_PHONE_SHAPES[region])
            national = prefix + "".join(
                rng.choice(string.digits) for _ in range(length - len(prefix))
            )
            if region == "US" and (national[0] in "01" or national[3] in "01"):
                continue
            try:
                parsed = phonenumbers.parse(national, region)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(parsed):
                continue
            return _format_phone(region, national, rng, rng.random() < 0.4), "PHONE"

    return make


def pick(options: list[str], type_: str | None) -> Callable[[random.Random], Value]:
    def make(rng: random.Random) -> Value:
        return rng.choice(options), type_

    return make


FIRST_NAMES = "Emma Nora Sofie Olav Jonas Lukas Ingrid Sigrid Mathias Aksel Freja Ida Magnus Oscar Elsa Maja Hugo Liam Olivia Amelia Harry Jack Noah Ava Mason Ethan".split()
LAST_NAMES = "Hansen Johansen Olsen Larsen Andersen Nielsen Jensen Pedersen Karlsson Nilsson Eriksson Lindqvist Smith Jones Taylor Brown Johnson Williams Berg Haugen".split()
EMAIL_DOMAINS = [
    "gmail.com",
    "hotmail.no",
    "online.no",
    "outlook.dk",
    "telia.se",
    "yahoo.co.uk",
    "icloud.com",
    "live.se",
    "btinternet.com",
]


def email(rng: random.Random) -> Value:
    first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(LAST_NAMES).lower()
    local = rng.choice(
        [f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", f"{last}_{first}"]
    )
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}", "EMAIL"


def address(region: str) -> Callable[[random.Random], Value]:
    streets = {
        "NO": [
            "Storgata",
            "Kirkeveien",
            "Fjellveien",
            "Thorvald Meyers gate",
            "Kong Oscars gate",
            "Solsvingen",
            "Bjerkelundveien",
            "Ringvegen",
            "Markveien",
            "Dronningens gate",
        ],
        "DK": [
            "Nørrebrogade",
            "Vesterbrogade",
            "Skovvej",
            "Ålekistevej",
            "Strandvejen",
            "Algade",
            "Bredgade",
            "Møllevænget",
        ],
        "SE": [
            "Drottninggatan",
            "Storgatan",
            "Kungsgatan",
            "Björkvägen",
            "Tallvägen",
            "Ringvägen",
            "Skolgatan",
        ],
        "GB": [
            "Acacia Avenue",
            "Church Road",
            "Station Road",
            "Victoria Street",
            "Park Lane",
            "Mill Close",
            "Queens Drive",
        ],
        "US": [
            "Maple Street",
            "Oak Avenue",
            "Pine Road",
            "Elm Drive",
            "Washington Boulevard",
            "Cedar Lane",
        ],
    }[region]
    towns = {
        "NO": [("0150", "Oslo"), ("5003", "Bergen"), ("7011", "Trondheim"), ("9008", "Tromsø")],
        "DK": [("2200", "København N"), ("8000", "Aarhus C"), ("5000", "Odense C")],
        "SE": [("111 51", "Stockholm"), ("413 01", "Göteborg"), ("211 22", "Malmö")],
        "GB": [
            ("LS6 2AB", "Leeds"),
            ("M1 1AE", "Manchester"),
            ("SW1A 2AA", "London"),
            ("B33 8TH", "Birmingham"),
        ],
        "US": [("IL 62704", "Springfield"), ("TX 78701", "Austin"), ("NY 10001", "New York")],
    }[region]

    def make(rng: random.Random) -> Value:
        street, number = rng.choice(streets), rng.randint(1, 120)
        letter = rng.choice(["", "", "", "B", "A"])
        code, town = rng.choice(towns)
        full = rng.random() < 0.6
        if region in ("NO", "SE"):
            return (
                f"{street} {number}{letter}, {code} {town}"
                if full
                else f"{street} {number}{letter}"
            ), "POSTAL_ADDRESS"
        if region == "DK":
            floor = rng.choice(["", ", 2. th.", ", 1. tv."])
            return (
                f"{street} {number}{floor}, {code} {town}" if full else f"{street} {number}"
            ), "POSTAL_ADDRESS"
        if region == "GB":
            return (
                f"{number} {street}, {town} {code}" if full else f"{number} {street}"
            ), "POSTAL_ADDRESS"
        return (
            f"{number} {street}, {town}, {code}" if full else f"{number} {street}"
        ), "POSTAL_ADDRESS"

    return make


HEALTH_WORDS = {
    "nb": [
        "ADHD",
        "depresjon",
        "angst",
        "autisme",
        "Ritalin",
        "Concerta",
        "BUP",
        "psykolog",
        "epilepsi",
        "diabetes",
        "spiseforstyrrelse",
        "Sobril",
        "schizofreni",
        "rusbehandling",
        "metadon",
        "Cipralex",
    ],
    "nn": [
        "ADHD",
        "depresjon",
        "angst",
        "autisme",
        "Ritalin",
        "BUP",
        "psykolog",
        "epilepsi",
        "spiseforstyrring",
        "Sobril",
        "psykiatrisk",
        "diabetes",
    ],
    "da": [
        "ADHD",
        "depression",
        "angst",
        "autisme",
        "Ritalin",
        "psykiater",
        "epilepsi",
        "diabetes",
        "børnepsykiatrisk",
        "misbrug",
        "skizofreni",
        "Concerta",
    ],
    "sv": [
        "ADHD",
        "depression",
        "ångest",
        "autism",
        "Ritalin",
        "BUP",
        "psykolog",
        "epilepsi",
        "diabetes",
        "ätstörning",
        "missbruk",
        "Concerta",
    ],
    "en": [
        "ADHD",
        "depression",
        "anxiety",
        "autism",
        "Ritalin",
        "CAMHS",
        "psychiatrist",
        "epilepsy",
        "diabetes",
        "eating disorder",
        "sertraline",
        "methadone",
        "PTSD",
    ],
}
