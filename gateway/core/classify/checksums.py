"""Check-digit and structure validators for personal and financial identifiers.

Each validator takes the identifier as the family wrote it with separators removed
(digits, or digits and letters where the scheme has letters) and answers whether it is a
well-formed number of that scheme. They are pure and cheap so the classifier can try
several schemes on every number it sees.
"""

from __future__ import annotations

import datetime as dt

FNR_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
FNR_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
CPR_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
NO_ACCOUNT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
HETU_CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Century signs: "+" 1800s; "-" and the 2023 additions Y X W V U for the 1900s;
# "A" and the 2023 additions B C D E F for the 2000s.
HETU_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900}
HETU_CENTURY.update({c: 2000 for c in "ABCDEF"})
NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
NINO_BAD_FIRST = frozenset("DFIQUV")
NINO_BAD_SECOND = frozenset("DFIOQUV")
# Published examples and advertising numbers that are not anyone's SSN.
SSN_NOT_ISSUED = frozenset({"078051120", "219099999", "123456789"})

IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


def valid_date(year: int, month: int, day: int) -> bool:
    """True when the calendar has this day (leap years included)."""
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a digit string, check digit last."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    for d in "0123456789":
        if luhn_valid(payload + d):
            return d
    raise AssertionError("unreachable: one Luhn digit always fits")


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum((ord(c) - 48) * w for c, w in zip(digits, weights, strict=False))


def _fnr_centuries(individual: int, yy: int) -> list[int]:
    """Centuries the individual number allows; all plausible ones when it says nothing."""
    if individual <= 499:
        return [1900]
    if individual <= 749 and yy >= 54:
        return [1800]
    if yy <= 39:
        return [2000]
    if individual >= 900:
        return [1900]
    # From 2032 the individual number no longer encodes the century.
    return [1900, 2000]


def fnr_valid(digits: str) -> bool:
    """Norwegian fødselsnummer, D-number (day + 40) or H-number (month + 40).

    K2 is the classic mod-11 digit. K1 follows the 2032 rule: the weighted sum of the
    first ten digits (K1 with weight 1) may leave remainder 0, 1, 2 or 3, so numbers
    issued before 2032 (remainder 0) and after both pass.
    """
    if len(digits) != 11 or not digits.isdigit():
        return False
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if day > 40:
        day -= 40  # D-number
    if month > 40:
        month -= 40  # H-number
    if (_weighted(digits[:9], FNR_K1_WEIGHTS) + int(digits[9])) % 11 not in (0, 1, 2, 3):
        return False
    if (_weighted(digits[:10], FNR_K2_WEIGHTS) + int(digits[10])) % 11 != 0:
        return False
    individual = int(digits[6:9])
    return any(valid_date(c + yy, month, day) for c in _fnr_centuries(individual, yy))


def fnr_check_digits(first9: str) -> str | None:
    """The classic (pre-2032) K1 and K2 for nine digits, or None when no digit fits."""
    k1 = (11 - _weighted(first9, FNR_K1_WEIGHTS) % 11) % 11
    if k1 == 10:
        return None
    k2 = (11 - _weighted(first9 + str(k1), FNR_K2_WEIGHTS) % 11) % 11
    if k2 == 10:
        return None
    return f"{k1}{k2}"


def cpr_date_valid(digits: str) -> bool:
    """Danish CPR: a real date, century from the seventh digit and the year."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    day, month, yy, c = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6])
    if c <= 3:
        century = 1900
    elif c in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    return valid_date(century + yy, month, day)


def cpr_mod11(digits: str) -> bool:
    """The old CPR modulus-11 check; numbers issued since 2007 may fail it."""
    return _weighted(digits, CPR_WEIGHTS) % 11 == 0


def se_pnr_valid(digits: str) -> bool:
    """Swedish personnummer or samordningsnummer (day + 60), 10 or 12 digits, Luhn."""
    if len(digits) == 12:
        if not digits.isdigit() or digits[:2] not in ("18", "19", "20"):
            return False
        century, digits = int(digits[:2]) * 100, digits[2:]
    elif len(digits) == 10 and digits.isdigit():
        century = 0
    else:
        return False
    yy, month, day = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if day > 60:
        day -= 60
    # A 10-digit number does not say its century; a leap day needs a leap year.
    years = [century + yy] if century else [1900 + yy, 2000 + yy]
    if not any(valid_date(y, month, day) for y in years):
        return False
    return luhn_valid(digits)


def hetu_valid(hetu: str) -> bool:
    """Finnish henkilötunnus DDMMYYCZZZQ: date, century sign, mod-31 check character."""
    if len(hetu) != 11:
        return False
    hetu = hetu.upper()
    head, sign, serial, check = hetu[:6], hetu[6], hetu[7:10], hetu[10]
    if not (head.isdigit() and serial.isdigit()) or sign not in HETU_CENTURY:
        return False
    if not valid_date(HETU_CENTURY[sign] + int(head[4:6]), int(head[2:4]), int(head[0:2])):
        return False
    if int(serial) < 2:
        return False
    return HETU_CHECK_CHARS[int(head + serial) % 31] == check


def nino_valid(nino: str) -> bool:
    """UK National Insurance number: two prefix letters, six digits, optional A-D suffix."""
    nino = nino.upper()
    if len(nino) == 8:
        nino += "A"
    if len(nino) != 9 or not nino[2:8].isdigit() or nino[8] not in "ABCD":
        return False
    a, b = nino[0], nino[1]
    if not (a.isalpha() and b.isalpha()):
        return False
    return a not in NINO_BAD_FIRST and b not in NINO_BAD_SECOND and a + b not in NINO_BAD_PREFIXES


def nhs_valid(digits: str) -> bool:
    """NHS number: ten digits, modulus 11 with weights 10..2 (a remainder giving 10 is invalid)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = (
        11 - sum((ord(c) - 48) * w for c, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    )
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def ssn_valid(digits: str) -> bool:
    """US SSN: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if len(digits) != 9 or not digits.isdigit() or digits in SSN_NOT_ISSUED:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def iban_valid(iban: str) -> bool:
    """IBAN: known country, that country's length, and mod 97 == 1."""
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    if not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def no_account_valid(digits: str) -> bool:
    """Norwegian kontonummer: eleven digits, mod-11 control digit with weights 5,4,3,2,7,6,..."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    check = 11 - _weighted(digits[:10], NO_ACCOUNT_WEIGHTS) % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[10])


def card_issuer(digits: str) -> str | None:
    """The card network whose prefix and length this number has, or None."""
    n = len(digits)
    p2, p4 = int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or p2 == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (p2 in (36, 38) or 300 <= int(digits[:3]) <= 305) and 14 <= n <= 19:
        return "diners"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


def card_valid(digits: str) -> bool:
    """Payment card: a known issuer prefix and length, and the Luhn check."""
    if not (12 <= len(digits) <= 19) or not digits.isdigit():
        return False
    return card_issuer(digits) is not None and luhn_valid(digits)
