"""E-mail addresses, postal addresses and the names known from the case record."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .addresses import find_structured_addresses, gb_postcode_area_valid
from .model import Entity
from .prefilter import Gate

EMAIL = re.compile(r"(?<![\w.+\-@])[\w][\w.+\-]*@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,24}(?![\w\-@])")

# Street words: strong suffixes are specific enough to match inside a lower-case word
# ("storgata", "drottninggatan"); weak ones need a capital ("Torget", "Bakken").
_STRONG = r"(?:veien|vegen|vei|veg|gata|gaten|gate|vejen|vej|gade|gatan|vägen|väg|stræde|stien|gränd|gränden|alléen|allé|allè|alle)"
# Finnish street words, which fi-sv writers use for many streets ("Mannerheimintie",
# "Koulukatu"): only as the ending of a longer capitalised word.
_FINNISH = r"(?:katu|tie|kuja|polku|väylä|vayla|tori|ranta|kaari|rinne|aukio|raitti|puistikko)"
_WEAK = r"(?:plass|plassen|plads|pladsen|torv|torvet|torget|torg|bakken|backen|brygga|bryggen|vænget|kroken|svingen|løkka|tunet|stigen|platsen|ringen|haven|parken|boulevard|esplanaden|esplanad|haugen|haugane|åsen|jordet|sletta|teigen|bråten|stranda)"
# House number with an optional letter: "12B", "12 B" (not "5 i", which is "5 in"), and the
# flat after it as Finland and Sweden write it: "12 B 7", "40 A, lgh 1102".
_HOUSE = (
    r"\d{1,4}(?:(?:[A-Za-z]|\s[A-H])(?:\s\d{1,3}(?![\w]))?)?(?![\w])"
    r"(?:,?\s(?:lgh|lägenhet|as\.|bst|bostad)\s?\d{1,4}(?![\w]))?"
)
_NORDIC_TAIL = (
    # Danish floor and side: "3. th", "2 tv", and the ground floor or basement, "st. tv.", "kl.".
    r"(?:,?\s(?:\d{1,2}\.?\s?(?:th|tv|mf|sal|etg|etasje|tr)|(?:st|kl)(?:\.?,?\s?(?:th|tv|mf))?)\.?)?"
    r"(?:\s?,?\s(?:\d{4}|\d{3} ?\d{2}|[A-Z]{2}-\d{4,5})\s[A-ZÆØÅÄÖ][\wæøåäö]+(?:\s[A-ZØ](?![\w]))?)?"
)
_CAP = r"[A-ZÆØÅÄÖ][\wæøåäöé\-]+"
# The words before a street word stand on its line: in a signature the line above is the
# writer's name or the kindergarten's ("Kjetil Haugland\nKalfarveien 58"), not the street.
_NORDIC = re.compile(
    rf"(?<![\w])(?:(?:{_CAP}[ \t]){{0,2}}(?:[A-ZÆØÅÄÖa-zæøåäö][\wæøåäöé\-]*?{_STRONG}|{_CAP}{_WEAK}"
    rf"|[A-ZÄÖ][a-zäö\-]{{2,}}{_FINNISH})"
    rf"|(?:{_CAP}[ \t]){{1,3}}(?:gate|gata|vei|veg|vej|gade|allé|alle|plass|plads|stræde|torv|torg|väg|gatan|vägen|Torget|Torvet|Plassen|Pladsen)"
    rf"|(?:[a-zæøåäö]+s\s)(?:gate|gata|vei|veg|vej|gade|allé|plass|plads|torg|väg|gatan|vägen))"
    rf"\s{_HOUSE}{_NORDIC_TAIL}"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}"
_EN_STREET = (
    r"(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Dr|Way|Court|Ct|Crescent|Gardens|"
    r"Place|Pl|Terrace|Grove|Hill|Boulevard|Blvd|Square|Row|Mews|Walk|Parade|Rise|View|"
    r"Pike|Loop|Plaza|Trail|Parkway|Pkwy|Circle|Cir|Highway|Hwy)\.?"
)
_EN_CODE = rf"(?:{_UK_POSTCODE}|[A-Z]{{2}}\s\d{{5}}(?:-\d{{4}})?)"
_EN_TOWN = r"[A-Z][a-z]+(?:\s[A-Z][a-z]+)?"
_EN = re.compile(
    # A flat before the house number, or in its place: "Flat 3, 18 Stapleton Road", "Flat 12,
    # Wills Drive".
    rf"(?<![\w])(?:(?:Flat|Apartment|Apt|Unit)\.?\s\d{{1,4}}[A-Z]?,?\s(?:\d{{1,5}}[A-Za-z]?,?\s)?"
    rf"|\d{{1,5}}[A-Za-z]?,?\s)"
    rf"(?:[NSEW]\.?\s)?(?:(?:[A-Z][a-z'\-]+|\d{{1,3}}(?:st|nd|rd|th))\s){{1,3}}{_EN_STREET}(?![\w])"
    rf"(?:(?:,?\s(?:Apt|Flat|Unit|Suite|\#)\.?\s?\d+[A-Z]?)?"
    # The town and postcode on the lines below, as a signature or a letter heads them.
    rf"(?:,?[ \t]*\n[ \t]*{_EN_TOWN},?[ \t]*(?:\n[ \t]*|\s){_UK_POSTCODE}(?![\w])"
    rf"|(?:,\s{_EN_TOWN})?(?:,?\s{_EN_CODE})?))"
)
# _UK_POSTCODE with the look-behind after its first letter, so the search skips to capitals.
_POSTCODE_ALONE = re.compile(r"[A-Z](?<![\w][A-Z])[A-Z]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}(?![\w])")


def find_emails(text: str) -> Iterator[Entity]:
    """E-mail addresses: a local part, "@", and a domain with a top-level label."""
    for m in EMAIL.finditer(text):
        yield Entity(m.start(), m.end(), "EMAIL", "email.address", 0.99)


# A street address needs a street word; most messages with numbers have none.
_NORDIC_GATE = Gate([_NORDIC])
_EN_GATE = Gate([_EN])


def find_addresses(text: str) -> Iterator[Entity]:
    """Street addresses (Nordic street words, English street types) and UK postcodes."""
    if _NORDIC_GATE.open(text):
        for m in _NORDIC.finditer(text):
            yield Entity(m.start(), m.end(), "POSTAL_ADDRESS", "address.nordic_street", 0.9)
    if _EN_GATE.open(text):
        for m in _EN.finditer(text):
            yield Entity(m.start(), m.end(), "POSTAL_ADDRESS", "address.english_street", 0.9)
    for m in _POSTCODE_ALONE.finditer(text):
        if gb_postcode_area_valid(m.group()):
            yield Entity(m.start(), m.end(), "POSTAL_ADDRESS", "address.uk_postcode", 0.85)
    yield from find_structured_addresses(text)


# Short or common-word names match only when capitalised as names are ("Liv", not "liv").
_COMMON_WORDS = frozenset(
    "liv per mark will rose hope grace bill frank king may june april bo ask sol dag tor siv "
    "stig eli ida mai vår lo kim eva".split()
)
_GENITIVES = ("s", "'s", "’s")


def name_parts(known_names: Sequence[str]) -> list[tuple[str, bool]]:
    """The full names and their parts, longest first, each with "must match case exactly"."""
    parts: dict[str, bool] = {}
    for name in known_names:
        full = " ".join(name.split())
        for part in [full, *full.split(" ")]:
            if len(part) >= 2:
                parts[part] = len(part) <= 3 or part.lower() in _COMMON_WORDS
    return sorted(parts.items(), key=lambda p: len(p[0]), reverse=True)


def _is_word_end(text: str, end: int) -> bool:
    if end >= len(text) or not text[end].isalnum():
        return True
    # A genitive "s" stays outside the span: "Emmas skole" -> "[NAVN]s skole".
    for suffix in _GENITIVES:
        tail = end + len(suffix)
        if text.startswith(suffix, end) and (tail >= len(text) or not text[tail].isalnum()):
            return True
    return False


def find_names(text: str, known_names: Sequence[str]) -> Iterator[Entity]:
    """Names known from the case record (the child, siblings, the parents).

    Plain substring search rather than a regular expression: the names differ on every
    message, and compiling a pattern each time would cost more than the search.
    """
    lower = text.lower()
    if len(lower) != len(text):  # rare letters whose lower case is longer: match exactly
        lower = text
    taken: list[tuple[int, int]] = []
    for part, exact in name_parts(known_names):
        needle = part if exact else part.lower()
        haystack = text if exact else lower
        start = haystack.find(needle)
        while start != -1:
            end = start + len(needle)
            if (
                (start == 0 or not text[start - 1].isalnum())
                and _is_word_end(text, end)
                and not any(s < end and start < e for s, e in taken)
            ):
                taken.append((start, end))
                yield Entity(start, end, "PERSON_NAME", "person_name.case_record", 0.95)
            start = haystack.find(needle, start + 1)
