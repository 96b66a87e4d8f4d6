"""Find identifiers and phone numbers among the numbers in a message.

Families write numbers with spaces, dashes and dots ("010203 12345", "1234.56.78903",
"+47 912 34 567"), and sometimes run two numbers together. So the scanner takes each run
of digit groups, tries the whole run and then shorter runs of whole groups, and asks the
validators of every scheme whether the digits are one of theirs. A run that fits several
schemes yields one candidate per scheme; the classifier resolves the overlap later, so a
number that could be two types is still redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from .checksums import (
    IBAN_LENGTHS,
    card_valid,
    cpr_date_valid,
    cpr_mod11,
    fnr_valid,
    hetu_valid,
    iban_valid,
    nhs_valid,
    nino_valid,
    no_account_valid,
    se_pnr_valid,
    ssn_valid,
    valid_date,
)
from .folding import lower_in_place
from .model import Entity
from .prefilter import Gate

# A run: digit groups joined by one space, dot or dash (or " - "; en dashes and non-breaking
# hyphens as phones type them), optionally led by "+".
_RUN = re.compile(
    r"(?<![\w@#/+])(?<!\d[.,\-\u2013])(?:\+\s?)?\(?\d[\d()]*"
    r"(?:(?: [\-\u2013] |[ \u00a0.\-\u2011\u2013])\(?\d[\d()]*)*(?![\w@#/])"
)
_GROUP = re.compile(r"(?:\+\s?)?\(?\d[\d()]*")
_HETU = re.compile(r"(?<![\w\-])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![\w\-])")
_NINO = re.compile(r"(?<![\w#])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2}(?: ?[A-Da-d])?(?![\w#])")
_IBAN_START = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])")

_BANK_CONTEXT = re.compile(
    r"konto|account|acct|reg\.? ?nr|registrerings|clearing|bankgiro|sort code|overf[øo]r|"
    r"innbetal|indbetal|betal|sätt in|pay into|bank"
)
_CPR_CONTEXT = re.compile(r"cpr")
_SE_CONTEXT = re.compile(r"personnr|personnummer|samordningsnummer|pnr")
_NHS_CONTEXT = re.compile(r"nhs")
_HETU_CONTEXT = re.compile(r"hetu|henkilötunnus|henkilötunnus|personbeteckning|sotu|finsk|finnish")
_SSN_CONTEXT = re.compile(r"ssn|social security|soc\.? ?sec|\bsocial\b")
_NINO_CONTEXT = re.compile(r"national insurance|\bni\b|nino")
_PHONE_CONTEXT = re.compile(
    r"tlf|telefon|mobil|\bmob|ring|call|phone|text|sms|nummer|number|\bnr|\btel|cell|nå meg|reach"
)
_SWEDISH_MARKERS = re.compile(r"\b(?:är|och|jag|inte|att|hon|också|barnet är|hej hej)\b", re.I)
_SWEDISH_GATE = Gate([_SWEDISH_MARKERS])
_YEARLIKE = re.compile(r"(?:19|20)\d\d")

# Regions tried for a number written without a country code, and a cheap test of
# whether the digits could be a national number there (parsing is the costly part).
_REGION_SHAPES: tuple[tuple[str, int, int, str], ...] = (
    ("NO", 8, 8, "23456789"),
    ("DK", 8, 8, "23456789"),
    ("SE", 8, 10, "0"),
    ("FI", 8, 11, "0"),
    ("GB", 10, 11, "0"),
    ("US", 10, 10, "23456789"),
    ("US", 11, 11, "1"),
)

Found = tuple[str, str, float]  # type, rule, confidence

_GB_MOBILE = re.compile(r"447\d{9}")
_GB_MOBILE_NATIONAL = re.compile(r"07[1-9]\d{8}")
# A UK sort code and account number, or a Swedish clearing number and account, written
# as people write them: "sort code 20-45-77 acc no 41387209", "8214-9, 4 381 227-6".
_SORT_CODE_ACCOUNT = re.compile(
    r"(?<![\d\-])\d{2}-\d{2}-\d{2}(?![\d\-])[,.]?(?:\s+(?:[A-Za-z.]+\s*){0,3}[:.]?)?\s*\d{8}(?!\d)"
)
_CLEARING_ACCOUNT = re.compile(
    r"(?<![\d\-])\d{4}(?:-\d)?[,.]?\s+(?:(?:konto|kontonummer|kontonr|account|acc)\.?\s*(?:nr\.?|no\.?)?\s*)?"
    r"\d{1,4}(?:[ \-]?\d{2,3}){1,4}(?:-\d)(?![\d\-])"
)
_CLEARING_CONTEXT = re.compile(r"clearing|konto|bank|swedbank|nordea|handelsbanken|seb|account")


def phone_rule(digits: str, international: bool) -> str | None:
    """The rule that makes ``digits`` a valid phone number, or None.

    ``international`` means the family wrote a leading "+"; then any country is
    accepted, as it is after a "00" dialling prefix that leads to a valid number.
    Otherwise the number must be valid in NO, DK, SE, FI, GB or US.
    """
    if international or (digits.startswith("00") and len(digits) >= 10):
        e164 = "+" + (digits[2:] if digits.startswith("00") else digits)
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return "phone.international"
        if international:
            return "phone.GB_mobile_shape" if _GB_MOBILE.fullmatch(digits) else None
    if _GB_MOBILE_NATIONAL.fullmatch(digits):
        # UK mobiles, including the 07700 900 range reserved for drama, which
        # families and solicitors copy into letters.
        return "phone.GB_mobile_shape"
    for region, low, high, first in _REGION_SHAPES:
        if low <= len(digits) <= high and digits[0] in first:
            try:
                number = phonenumbers.parse(digits, region)
            except phonenumbers.NumberParseException:
                continue
            # Valid anywhere under that country code: +1 covers Canada and the
            # Caribbean as well as the US.
            if phonenumbers.is_valid_number(number):
                return f"phone.{region}"
    return None


def _number_types(
    digits: str,
    grouping: tuple[int, ...],
    context: str,
    international: bool,
    swedish: bool,
    parenthesised: bool = False,
    nhs_message: bool = False,
) -> list[Found]:
    """Every scheme these digits validate as, with the rule and a confidence."""
    found: list[Found] = []
    n = len(digits)
    bank_context = bool(_BANK_CONTEXT.search(context))
    if n == 11 and not international:
        if no_account_valid(digits) and (grouping == (4, 2, 5) or bank_context):
            found.append(("BANK_ACCOUNT", "bank_account.no_mod11", 0.98))
        if fnr_valid(digits):
            # Written as 11 digits or 6+5 it is surely a fødselsnummer; in a phone
            # number's grouping ("07418 327558") a valid phone number should win.
            usual = grouping in ((11,), (6, 5), (2, 2, 2, 5))
            found.append(
                ("NO_FNR", "no_fnr.date+mod11", 0.99 if usual and not bank_context else 0.86)
            )
    elif n == 10 and not international:
        # Birth-date numbers are written 6+4 or as ten digits; in a phone number's
        # grouping ("070-278 50 49") a valid phone number should win the overlap.
        usual = grouping in ((10,), (6, 4), (2, 2, 2, 4))
        if cpr_date_valid(digits):
            dk_context = bool(_CPR_CONTEXT.search(context))
            if cpr_mod11(digits):
                dk_conf = 0.99 if dk_context else (0.95 if usual else 0.86)
                found.append(("DK_CPR", "dk_cpr.date+mod11", dk_conf))
            elif dk_context or grouping == (6, 4):
                found.append(("DK_CPR", "dk_cpr.date+format", 0.98 if dk_context else 0.8))
        if se_pnr_valid(digits):
            se_context = swedish or _SE_CONTEXT.search(context)
            se_conf = (0.97 if se_context else 0.9) if usual else 0.86
            found.append(("SE_PNR", "se_pnr.date+luhn", se_conf))
        if nhs_valid(digits):
            # A mod-11 pass is one in eleven by chance, so the NHS wording or the 3-3-4
            # layout is needed, and without the wording a valid phone number wins.
            if _NHS_CONTEXT.search(context):
                found.append(("GB_NHS", "gb_nhs.mod11+context", 0.97))
            elif nhs_message:
                # "We need the children's NHS numbers. Poppy: 564 703 1609; Finn: ...":
                # the word stands a sentence or two before the numbers it speaks of.
                found.append(("GB_NHS", "gb_nhs.mod11+context", 0.95))
            elif grouping == (3, 3, 4) and not parenthesised:
                found.append(("GB_NHS", "gb_nhs.mod11+layout", 0.85))
    elif n == 12 and se_pnr_valid(digits) and not international:
        found.append(("SE_PNR", "se_pnr.date+luhn", 0.98))
    elif n == 9 and ssn_valid(digits) and not international:
        if grouping == (3, 2, 4) or _SSN_CONTEXT.search(context):
            found.append(("US_SSN", "us_ssn.area_group_serial", 0.93))
    if 12 <= n <= 19 and not international and card_valid(digits):
        found.append(("PAYMENT_CARD", "payment_card.issuer+luhn", 0.99))
    if not found and bank_context and 7 <= n <= 18 and not international and len(grouping) > 1:
        # Danish reg.nr + konto and Swedish clearing + konto carry no check digit we can
        # rely on; the words around them are the evidence.
        found.append(("BANK_ACCOUNT", "bank_account.domestic+context", 0.8))
    if (
        6 <= n <= 15
        and not _all_years(digits, grouping)
        and not _id_shaped(digits, grouping, international)
    ):
        rule = phone_rule(digits, international)
        if rule:
            phone_context = bool(_PHONE_CONTEXT.search(context))
            conf = 0.97 if rule == "phone.international" else (0.93 if phone_context else 0.88)
            found.append(("PHONE", rule, conf))
    return found


def _id_shaped(digits: str, grouping: tuple[int, ...], international: bool) -> bool:
    """Whether a number is written the way identifiers, cards and accounts are.

    Six digits then a block ("010203 12345", "811228-9874"), eleven digits opening with a
    date, or three or more blocks of four ("4111 1111 1111 1112"): when such a number fails
    its check it is a look-alike, and neither it nor its pieces are phone numbers.
    """
    if international:
        return False
    if len(grouping) == 2 and grouping[0] == 6 and grouping[1] in (4, 5):
        return True
    if grouping == (11,):
        if _GB_MOBILE_NATIONAL.fullmatch(digits):
            return False
        return valid_date(2000, int(digits[2:4]) % 40, int(digits[0:2]) % 40)
    return len(grouping) >= 3 and all(g == 4 for g in grouping[:-1]) and grouping[-1] <= 4


def _all_years(digits: str, grouping: tuple[int, ...]) -> bool:
    """'2015 2016' is two years, not an Oslo phone number."""
    if len(grouping) < 2 or any(g != 4 for g in grouping):
        return False
    return all(_YEARLIKE.fullmatch(digits[i : i + 4]) for i in range(0, len(digits), 4))


_NOT_DIGIT = re.compile(r"\D")
_SEPARATORS = re.compile(r"[ \u00a0.\-\u2011\u2013]+")


def _digits_of(span: str) -> tuple[str, tuple[int, ...], bool]:
    """Digits, group lengths and whether a country code was written, for one span."""
    international = span.lstrip().startswith("+")
    # "(614)555-0147": the area code in brackets is a group of its own, as with a space.
    span = span.replace("(0)", "").replace(")", ") ")
    groups = [_NOT_DIGIT.sub("", g) for g in _SEPARATORS.split(span)]
    groups = [g for g in groups if g]
    return "".join(groups), tuple(len(g) for g in groups), international


# The last number, "!", "?", line break, or full stop that starts a new sentence.
_CONTEXT_CUT = re.compile(r".*(?:[\d!?\n#]|\.\s+(?=[A-ZÆØÅÄÖ]))", re.S)


def _context_before(text: str, lower: str, start: int) -> str:
    """The words just before a number, back to the previous number or sentence end.

    "CPR-nummer er 161162-3545. Ring på 050-315 05 53": "cpr" speaks of the first number,
    not the phone number after it.
    """
    begin = max(0, start - 40)
    cut = _CONTEXT_CUT.match(text, begin, start)
    return lower[cut.end() if cut else begin : start]


def find_numbers(text: str, blanked: str) -> Iterator[Entity]:
    """Identifier, account, card and phone candidates among the digit runs of ``blanked``."""
    lower = blanked.lower()
    swedish = _SWEDISH_GATE.open(lower_in_place(text)) and bool(_SWEDISH_MARKERS.search(text))
    nhs_at = lower.find("nhs")
    for run in _RUN.finditer(blanked):
        groups = [
            (m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run.group())
        ]
        i = 0
        while i < len(groups):
            for j in range(min(len(groups), i + 8), i, -1):
                start, end = groups[i][0], groups[j - 1][1]
                span = text[start:end]
                digits, grouping, international = _digits_of(span)
                if len(digits) < 6:
                    continue
                context = _context_before(blanked, lower, start)
                found = _number_types(
                    digits,
                    grouping,
                    context,
                    international,
                    swedish,
                    "(" in span,
                    0 <= nhs_at < start,
                )
                if found:
                    for type_, rule, conf in found:
                        yield Entity(start, end, type_, rule, conf)
                    i = j
                    break
                if i == 0 and j == len(groups) and _id_shaped(digits, grouping, international):
                    # An identifier-shaped number that fails its check is a look-alike;
                    # its pieces are not phone numbers either.
                    i = len(groups)
                    break
            else:
                i += 1


def find_domestic_accounts(text: str, blanked: str) -> Iterator[Entity]:
    """UK sort code + account and Swedish clearing + account numbers, by shape and words."""
    if "-" not in blanked:
        return
    lower = blanked.lower()
    for m in _SORT_CODE_ACCOUNT.finditer(blanked):
        yield Entity(m.start(), m.end(), "BANK_ACCOUNT", "bank_account.sort_code+account", 0.97)
    if _CLEARING_CONTEXT.search(lower):
        for m in _CLEARING_ACCOUNT.finditer(blanked):
            yield Entity(m.start(), m.end(), "BANK_ACCOUNT", "bank_account.clearing+account", 0.96)


def find_lettered_ids(text: str, blanked: str) -> Iterator[Entity]:
    """Identifiers that mix letters and digits: Finnish HETU, UK NINO and IBAN."""
    lower = blanked.lower()
    for m in _HETU.finditer(blanked):
        if not hetu_valid(m.group()):
            continue
        hetu = m.group()
        if _HETU_CONTEXT.search(lower[max(0, m.start() - 40) : m.start()]) or not (
            hetu[6] == "-" and hetu[10].isdigit()
        ):
            yield Entity(m.start(), m.end(), "FI_HETU", "fi_hetu.date+mod31", 0.99)
        else:
            # "250316-4130" is also how a Danish CPR or Swedish personnummer is written.
            yield Entity(m.start(), m.end(), "FI_HETU", "fi_hetu.date+mod31", 0.85)
    for m in _NINO.finditer(blanked):
        compact = m.group().replace(" ", "")
        if not nino_valid(compact):
            continue
        context = bool(_NINO_CONTEXT.search(lower[max(0, m.start() - 40) : m.start()]))
        if compact[:2].isupper() and (context or len(compact) == 9):
            yield Entity(m.start(), m.end(), "GB_NINO", "gb_nino.prefix_rules", 0.95)
        elif context:
            yield Entity(m.start(), m.end(), "GB_NINO", "gb_nino.prefix_rules+context", 0.9)
    yield from find_ibans(text)


def find_ibans(text: str) -> Iterator[Entity]:
    """IBANs: a country code and check digits, then the length that country prescribes."""
    for m in _IBAN_START.finditer(text):
        yield from _iban_at(text, m.start())


def _iban_at(text: str, start: int) -> Iterator[Entity]:
    """The IBAN starting at ``start``, cut at the length its country code prescribes."""
    length = IBAN_LENGTHS.get(text[start : start + 2].upper())
    if length is None:
        return
    compact: list[str] = []
    i = start
    while i < len(text) and len(compact) < length:
        ch = text[i]
        if ch.isascii() and ch.isalnum():
            compact.append(ch.upper())
        elif ch != " " or (i + 1 < len(text) and text[i + 1] == " "):
            break
        i += 1
    if len(compact) != length or (i < len(text) and text[i].isalnum()):
        return
    if iban_valid("".join(compact)):
        yield Entity(start, i, "IBAN", "iban.country_length+mod97", 0.99)
