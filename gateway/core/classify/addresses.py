"""Postal addresses found by their structure, with the postcode checked against its country.

An address is a street part ("Øyrane 4 B", "Postboks 112", "1840 S Lewis St") and a
postcode with its town ("6800 Førde", "422 48 Hisings Backa", "Mesa AZ 85210"), on one
line with a comma or on two lines as in a signature. The postcode must be one the
country uses (``postcodes.json``, shipped with the package): a four-digit number before
a capitalised word is often a year or an amount, and the list tells them apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

from .model import Entity

_TOWN_ANY = (
    r"(?:[A-ZÆØÅÄÖ][\wæøåäöé\-]+(?:[ ][A-ZÆØÅÄÖ][\wæøåäöé\-]+)?"
    r"|[a-zæøåäöé][\wæøåäöé\-]+)(?:[ ](?:C|V|K|N|S|Ø|NV|SV|SØ|NØ|c|v|k|n|s|ø|nv|sv|sø|nø|no|so)(?![\w]))?"
)
# A Nordic postcode and town: "6800 Førde", "422 48 Hisings Backa", "SE-422 48 Göteborg".
_NORDIC_TAIL = re.compile(
    rf"(?<![\w\-.,/])(?:(?P<cc>NO|DK|SE|FI|N|S)-)?(?P<pc>\d{{4}}|\d{{3}} \d{{2}}|\d{{5}})[ \u00a0]+(?P<town>{_TOWN_ANY})"
)
# The street part just before it: up to four words, a house number and an optional letter.
_STREET_WORDS = (
    r"(?:gate|gata|gaten|gatan|vei|veg|vej|gade|allé|alle|plass|plads|torg|torv|väg|vägen|stræde)"
)
_STREET_BEFORE = re.compile(
    rf"(?:(?:[A-ZÆØÅÄÖ][\wæøåäöé.'\-]*|{_STREET_WORDS})[ ]){{0,3}}[\wæøåäöéÆØÅÄÖ.\-]+[ ]\d{{1,4}}"
    r"(?:[ ]?[A-Za-z](?:[ ]\d{1,3})?(?![\w]))?(?:,?[ ]\d{1,2}\.?[ ]?(?:th|tv|mf|sal|etg|etasje|tr)\.?)?"
    r"(?:,?[ ](?:lgh|lägenhet|as\.|bst|bostad)[ ]?\d{1,4})?"
    r"(?P<sep>,[ ]?|[ ]*\n[ ]*)$"
)
# The states by name, as people write them in full: "Dayton, Ohio 45405".
US_STATE_NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}  # fmt: skip
_STATE = "|".join(sorted(US_STATE_NAMES, key=len, reverse=True))
_US_TAIL = re.compile(
    # The look-behind follows the first letter so that the search skips to capitals fast.
    r"(?P<town>[A-Z](?<![\w][A-Z])[a-z]+(?:[ ][A-Z][a-z]+)?),?[ ]"
    rf"(?P<state>[A-Z]{{2}}|{_STATE})\.?,?[ ](?P<zip>\d{{5}})(?:-\d{{4}})?(?![\w])"
)
_US_STREET_BEFORE = re.compile(
    r"\d{1,6}[ ](?:[NSEW]\.?[ ]|North[ ]|South[ ]|East[ ]|West[ ])?(?:[A-Z0-9][\w'\-]*[ ]){0,3}"
    r"(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Drive|Dr|Way|Court|Ct|Boulevard|Blvd|Place|Pl|"
    r"Parkway|Pkwy|Circle|Cir|Terrace|Ter|Trail|Trl|Highway|Hwy|Pike|Loop|Plaza|Cove|Crossing|"
    r"Alley|Route|Rte|Square|Sq|Concourse|Expressway|Expy)\.?(?:[ ](?:NE|NW|SE|SW|N|S|E|W))?"
    r"(?:,?[ ](?:Apt|Unit|Suite|Ste|Lot|#)\.?[ ]?#?\d+[A-Z]?)?(?P<sep>,[ ]?|[ ]*\n[ ]*)$"
)


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1)
def postcodes() -> dict[str, Any]:
    """The shipped postcode ranges and sets."""
    raw = resources.files(__package__).joinpath("postcodes.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def _in_ranges(number: int, ranges: list[list[int]]) -> bool:
    return any(low <= number <= high for low, high in ranges)


def nordic_postcode_valid(code: str, country: str | None = None) -> bool:
    """Whether ``code`` ("6800", "422 48", "68600") is a postcode of a Nordic country."""
    data = postcodes()
    digits = code.replace(" ", "")
    number = int(digits)
    if len(digits) == 4:
        countries = ["NO", "DK"] if country in (None, "N", "NO", "DK") else []
    elif " " in code:
        countries = ["SE"]
    else:
        countries = ["SE", "FI"] if country in (None, "S", "SE", "FI") else []
    return any(_in_ranges(number, data[c]) for c in countries)


def gb_postcode_area_valid(postcode: str) -> bool:
    """Whether the letters that open a UK postcode name one of its postcode areas."""
    letters = re.match(r"[A-Z]{1,2}", postcode.upper())
    return bool(letters) and letters.group() in postcodes()["GB"]  # type: ignore[union-attr]


def us_zip_matches_state(zip_code: str, state: str) -> bool:
    """Whether a ZIP code's first digit belongs to the state written before it."""
    state = US_STATE_NAMES.get(state, state)
    return state in postcodes()["US"].get(zip_code[0], ())


def _street_before(text: str, end: int, pattern: re.Pattern[str]) -> int | None:
    """Where the street part that ends at ``end`` starts, if there is one."""
    window_start = max(0, end - 70)
    m = pattern.search(text, window_start, end)
    return m.start() if m else None


def find_structured_addresses(text: str) -> Iterator[Entity]:
    """Addresses with a validated postcode, with their street part when written."""
    if not _DIGIT.search(text):
        return
    for m in _NORDIC_TAIL.finditer(text):
        if not nordic_postcode_valid(m.group("pc"), m.group("cc")):
            continue
        start = _street_before(text, m.start(), _STREET_BEFORE)
        town_capitalised = m.group("town")[0].isupper()
        if start is None and not town_capitalised:
            continue
        if start is None and (
            _looks_like_year_or_amount(text, m.start(), m.group("pc"))
            or not _STANDALONE_BEFORE.search(text[max(0, m.start() - 12) : m.start()])
        ):
            continue
        end = m.end() if town_capitalised or start is not None else m.end("pc")
        if not town_capitalised:
            # "odense c", "5000 odense": the town is the first word after the postcode.
            end = m.end()
        rule = "address.street+postcode" if start is not None else "address.postcode+town"
        yield Entity(m.start() if start is None else start, end, "POSTAL_ADDRESS", rule, 0.9)
    for m in _US_TAIL.finditer(text):
        if not us_zip_matches_state(m.group("zip"), m.group("state")):
            continue
        start = _street_before(text, m.start(), _US_STREET_BEFORE)
        rule = "address.us_street+zip" if start is not None else "address.us_town+zip"
        yield Entity(m.start() if start is None else start, m.end(), "POSTAL_ADDRESS", rule, 0.9)


# A postcode and town alone stand at the start of a line, after a comma, "!" or "?", or after "in".
_STANDALONE_BEFORE = re.compile(
    r"(?:^|\n|,|[!?]|\b(?:i|in|til|to|på|fra|från|from|frå))[ ]*$", re.I
)
_YEAR_CONTEXT = re.compile(
    r"(?:\bi|\bin|\bsiden|\bsidan|\bsince|\bår|\bfrå|\bfra|\bfrån|\bfrom|kr\.?|nok|sek|dkk|€|\$|£)\s*$"
)


def _looks_like_year_or_amount(text: str, start: int, code: str) -> bool:
    """ "i 2019 Trondheim", "kr 4500 Totalt": a number that only looks like a postcode."""
    return bool(_YEAR_CONTEXT.search(text[max(0, start - 12) : start].lower())) or (
        len(code) == 4 and code.startswith(("19", "20")) and start > 0 and text[start - 1] != "\n"
    )
