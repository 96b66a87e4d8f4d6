"""Build the labelled corpus for ``bench/classify.py``.

Deterministic: the same seed gives the same messages. Run as a script to write
``bench/corpus/corpus.jsonl``; the bench calls ``build_corpus`` directly.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.corpus import values as v
from bench.corpus.templates import TEMPLATES

SEED = 20261121
SLOT_REPEATS = 8
PLAIN_REPEATS = 4

_REGION = {"nb": "NO", "nn": "NO", "da": "DK", "sv": "SE", "en-GB": "GB", "en-US": "US"}
_HEALTH_LANG = {"nb": "nb", "nn": "nn", "da": "da", "sv": "sv", "en-GB": "en", "en-US": "en"}
_GREETING = {
    "nb": ("Hei,\n\n", "\n\nHilsen {FULLNAME}"),
    "nn": ("Hei,\n\n", "\n\nHelsing {FULLNAME}"),
    "da": ("Hej,\n\n", "\n\nMed venlig hilsen {FULLNAME}"),
    "sv": ("Hej,\n\n", "\n\nHälsningar {FULLNAME}"),
    "en-GB": ("Dear team,\n\n", "\n\nRegards, {FULLNAME}"),
    "en-US": ("Hi there,\n\n", "\n\nThanks, {FULLNAME}"),
}
_NEGATIVES: dict[str, Callable[[random.Random], v.Value]] = {
    "CASENO": v.pick(["2024/12345", "24/1837", "2023-0456", "2025/88231", "J-2024-113"], None),
    "ORDER": v.pick(["45678912", "98765432", "40012345", "91002233", "A-552341"], None),
    "AMOUNT": v.pick(["12 500", "3 450,50", "450", "1.250", "99 000", "27 430"], None),
    "DATE": v.pick(["12.03.2024", "01.02.2025", "2024-03-12", "22.11.2024", "3/4/2025"], None),
    "TIME": v.pick(["14:30", "09:15", "16.00", "8:45"], None),
    "BADFNR": v.bad_fnr,
    "BADCARD": v.bad_card,
}


@dataclass
class Message:
    """One corpus message with its gold labels."""

    id: str
    language: str
    split: str
    template: str
    style: str
    text: str
    names: list[str]
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    must_catch: bool = False
    severity: str | None = None
    trap: bool = False
    author: str = ""


def _slot_makers(
    language: str, rng: random.Random, names: list[str]
) -> dict[str, Callable[[random.Random], v.Value]]:
    region = _REGION[language]
    first, full = names[0], names[1]
    return {
        "NAME": lambda r: (first, "PERSON_NAME"),
        "FULLNAME": lambda r: (full, "PERSON_NAME"),
        "FNR": v.fnr, "CPR": v.cpr, "PNR": v.se_pnr, "HETU": v.hetu, "NINO": v.nino,
        "NHS": v.nhs, "SSN": v.ssn, "IBAN": v.iban, "KONTO": v.no_account,
        "DKKONTO": v.dk_account, "SEKONTO": v.se_account, "CARD": v.card,
        "PHONE": v.phone(region if rng.random() < 0.85 else rng.choice(["NO", "SE", "DK", "GB", "US", "FI"])),
        "EMAIL": v.email,
        "ADDR": v.address(region),
        "HEALTH": v.pick(v.HEALTH_WORDS[_HEALTH_LANG[language]], "HEALTH"),
        **_NEGATIVES,
    }  # fmt: skip


def _informal(text: str, rng: random.Random) -> str:
    """How texts arrive: lower case, no full stop, sometimes a doubled "??"."""
    if rng.random() < 0.4:
        text = text.lower()
    if rng.random() < 0.3:
        text = text.rstrip(".!")
    if rng.random() < 0.15:
        text = text.replace(",", "")
    return text


def _fill(
    template: str, makers: dict[str, Callable[[random.Random], v.Value]], rng: random.Random
) -> tuple[str, list[tuple[int, int, str]]]:
    parts = re.split(r"\{(\w+)\}", template)
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    position = 0
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
            position += len(part)
            continue
        surface, gold = makers[part](rng)
        if gold is not None:
            spans.append((position, position + len(surface), gold))
        out.append(surface)
        position += len(surface)
    return "".join(out), spans


def build_corpus(seed: int = SEED) -> list[Message]:
    """Every message of the corpus, train and test parts, in a fixed order."""
    rng = random.Random(seed)
    messages: list[Message] = []
    for language, templates in TEMPLATES.items():
        for t_index, raw in enumerate(templates):
            split = "train" if t_index % 2 == 0 else "test"
            for part in ("train", "test"):
                if raw.startswith(part + ":"):
                    raw, split = raw[len(part) + 1 :], part
            fields = raw.split("|")
            labels, text = fields[0], fields[-1]
            must = len(fields) == 3 and fields[1] == "!"
            risks = [] if labels == "-" else labels.split("+")
            has_slots = "{" in text
            for k in range(SLOT_REPEATS if has_slots else PLAIN_REPEATS):
                first, last = rng.choice(v.FIRST_NAMES), rng.choice(v.LAST_NAMES)
                names = [first, f"{first} {last}"]
                body = text if has_slots or k == 0 else _informal(text, rng)
                style = "email" if "\n" in body else "sms"
                if style == "sms" and k % 4 == 3:
                    hello, bye = _GREETING[language]
                    body, style = hello + body + bye, "email"
                filled, spans = _fill(body, _slot_makers(language, rng, names), rng)
                messages.append(
                    Message(
                        id=f"{language}-{t_index:02d}-{k}",
                        language=language,
                        split=split,
                        template=f"{language}-{t_index:02d}",
                        style=style,
                        text=filled,
                        names=[f"{first} {last}"],
                        entities=spans,
                        risks=risks,
                        must_catch=must,
                    )
                )
    return messages


def main() -> None:
    """Write the corpus next to this file as JSON lines."""
    path = Path(__file__).with_name("corpus.jsonl")
    with path.open("w", encoding="utf-8") as out:
        for message in build_corpus():
            out.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
