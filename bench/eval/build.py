#!/usr/bin/env python3
"""Build the evaluation corpus splits from the author files.

Reads every bench/eval/src/*.jsonl (one message per line, entities marked up
inline as [[TYPE|surface text]]), validates each line, strips the markup while
computing Python str offsets on the clean text, and writes
bench/eval/train.jsonl, dev.jsonl and test.jsonl, split by author (the
c*, d* and e* authors always go to train).

Exit status is non-zero if any line is invalid; each problem is reported with
its file and line number.  Checksum problems in marked identifiers (mod-11,
Luhn, mod-97 ...) are reported as warnings, or as errors with --strict.

Usage: python3 bench/eval/build.py [--strict] [--check]
  --check   validate only, do not write the split files
"""

from __future__ import annotations

import collections
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE / "src"

ENTITY_TYPES = {
    "NO_FNR",
    "DK_CPR",
    "SE_PNR",
    "FI_HETU",
    "GB_NINO",
    "GB_NHS",
    "US_SSN",
    "IBAN",
    "BANK_ACCOUNT",
    "PAYMENT_CARD",
    "PHONE",
    "EMAIL",
    "POSTAL_ADDRESS",
    "HEALTH",
}
RISK_TYPES = {"THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT"}
SEVERITIES = {"high", "medium", "low", None}
CHANNELS = {"sms", "email"}
LANGUAGES = {"nb", "nn", "da", "sv", "fi-sv", "en-GB", "en-US"}
FIELDS = {"id", "author", "language", "channel", "persona", "text", "risks", "severity", "trap"}

SPLIT = {
    "test": {"a02", "a07", "a12", "b02", "b06", "b09", "b13"},
    "dev": {"a04", "a09", "a14", "b04", "b07", "b11", "b14"},
}

MARK = re.compile(r"\[\[([A-Z_]+)\|(.*?)\]\]", re.DOTALL)


# Authors c01, c02, ..., d01, d02, ... and e01, e02, ... were written later by writers who
# never saw the rules; they are training data only and never enter dev or test.
TRAIN_ONLY_PREFIXES = ("c", "d", "e")


def train_only(author: str) -> bool:
    return author.startswith(TRAIN_ONLY_PREFIXES)


def split_of(author: str) -> str:
    if train_only(author):
        return "train"
    for name, authors in SPLIT.items():
        if author in authors:
            return name
    return "train"


# --- checksums (public algorithms), used for warnings -----------------------


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def luhn_ok(d: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def fnr_ok(s: str) -> bool:
    d = _digits(s)
    if len(d) != 11:
        return False
    w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
    w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    k1 = 11 - sum(int(a) * b for a, b in zip(d, w1, strict=False)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(int(a) * b for a, b in zip(d, w2, strict=False)) % 11
    k2 = 0 if k2 == 11 else k2
    return k1 < 10 and k2 < 10 and int(d[9]) == k1 and int(d[10]) == k2


def no_account_ok(d: str) -> bool:
    w = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    k = 11 - sum(int(a) * b for a, b in zip(d, w, strict=False)) % 11
    k = 0 if k == 11 else k
    return k < 10 and int(d[10]) == k


def nhs_ok(s: str) -> bool:
    d = _digits(s)
    if len(d) != 10:
        return False
    k = 11 - sum(int(a) * (10 - i) for i, a in enumerate(d[:9])) % 11
    k = 0 if k == 11 else k
    return k < 10 and int(d[9]) == k


def iban_ok(s: str) -> bool:
    t = re.sub(r"[\s.-]", "", s).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", t):
        return False
    r = t[4:] + t[:4]
    return int("".join(str(int(c, 36)) for c in r)) % 97 == 1


HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu_ok(s: str) -> bool:
    m = re.fullmatch(r"(\d{6})([-+A-FU-Y])(\d{3})([0-9A-Y])", s.strip().upper())
    if not m:
        return False
    return HETU_CHARS[int(m.group(1) + m.group(3)) % 31] == m.group(4)


def se_pnr_ok(s: str) -> bool:
    d = _digits(s)
    if len(d) == 12:
        d = d[2:]
    return len(d) == 10 and luhn_ok(d)


def _valid_ddmm(dd: int, mm: int) -> bool:
    days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= mm <= 12 and 1 <= dd <= days[mm - 1]


def fnr_date_ok(d: str) -> bool:
    dd, mm = int(d[0:2]), int(d[2:4])
    if dd > 40:  # D-number
        dd -= 40
    if mm > 80:  # synthetic test numbers (Skatteetaten)
        mm -= 80
    elif mm > 40:  # H-number
        mm -= 40
    return _valid_ddmm(dd, mm)


def checksum_problem(etype: str, surface: str) -> str | None:
    d = _digits(surface)
    if etype == "NO_FNR" and len(d) == 11 and not fnr_date_ok(d):
        return "fødselsnummer has an impossible date"
    if etype == "DK_CPR":
        if len(d) != 10 or not _valid_ddmm(int(d[0:2]), int(d[2:4])):
            return "CPR number is not DDMMYY-SSSS with a valid date"
    if etype == "NO_FNR" and not fnr_ok(surface):
        return "fødselsnummer fails mod-11"
    if etype == "PAYMENT_CARD" and not (13 <= len(d) <= 19 and luhn_ok(d)):
        return "card number fails Luhn"
    if etype == "IBAN" and not iban_ok(surface):
        return "IBAN fails mod-97"
    if etype == "GB_NHS" and not nhs_ok(surface):
        return "NHS number fails mod-11"
    if etype == "FI_HETU" and not hetu_ok(surface):
        return "HETU check character wrong"
    if etype == "SE_PNR" and not se_pnr_ok(surface):
        return "personnummer fails Luhn"
    if (
        etype == "BANK_ACCOUNT"
        and len(d) == 11
        and re.fullmatch(r"\d{4}([ .]?)\d{2}\1\d{5}", surface.strip())
        and not no_account_ok(d)
    ):
        return "Norwegian account number fails mod-11"
    if etype == "US_SSN":
        if (
            len(d) != 9
            or d[:3] in ("000", "666")
            or d[0] == "9"
            or d[3:5] == "00"
            or d[5:] == "0000"
        ):
            return "invalid SSN"
    return None


# --- parsing -----------------------------------------------------------------


def strip_markup(text: str) -> tuple[str, list[dict], list[str]]:
    """Return (clean text, entities, problems)."""
    out: list[str] = []
    entities: list[dict] = []
    problems: list[str] = []
    pos = 0
    length = 0
    for m in MARK.finditer(text):
        before = text[pos : m.start()]
        out.append(before)
        length += len(before)
        etype, surface = m.group(1), m.group(2)
        if etype not in ENTITY_TYPES:
            problems.append(f"unknown entity type {etype!r}")
        if not surface or surface != surface.strip():
            problems.append(f"empty or space-padded entity surface {surface!r}")
        if "[[" in surface or "|" in surface:
            problems.append(f"nested or malformed markup in {surface!r}")
        entities.append({"start": length, "end": length + len(surface), "type": etype})
        out.append(surface)
        length += len(surface)
        pos = m.end()
    out.append(text[pos:])
    clean = "".join(out)
    if "[[" in clean or "]]" in clean:
        problems.append("unbalanced or malformed [[...]] markup")
    return clean, entities, problems


def validate(obj: object, path: pathlib.Path) -> list[str]:
    if not isinstance(obj, dict):
        return ["line is not a JSON object"]
    problems = []
    missing = FIELDS - obj.keys()
    extra = obj.keys() - FIELDS
    if missing:
        problems.append(f"missing fields {sorted(missing)}")
    if extra:
        problems.append(f"unknown fields {sorted(extra)}")
    if missing:
        return problems
    author = path.stem
    if obj["author"] != author:
        problems.append(f"author {obj['author']!r} does not match file name {author!r}")
    if not isinstance(obj["id"], str) or not obj["id"].startswith(f"{author}-"):
        problems.append(f"id {obj['id']!r} should start with {author}-")
    if obj["language"] not in LANGUAGES:
        problems.append(f"unknown language {obj['language']!r}")
    if obj["channel"] not in CHANNELS:
        problems.append(f"unknown channel {obj['channel']!r}")
    if not isinstance(obj["persona"], str) or not obj["persona"].strip():
        problems.append("persona must be a non-empty string")
    if not isinstance(obj["text"], str) or not obj["text"].strip():
        problems.append("text must be a non-empty string")
    risks = obj["risks"]
    if not isinstance(risks, list) or not all(isinstance(r, str) for r in risks):
        problems.append("risks must be a list of strings")
        risks = []
    bad = set(risks) - RISK_TYPES
    if bad:
        problems.append(f"unknown risks {sorted(bad)}")
    if len(set(risks)) != len(risks):
        problems.append("duplicate risks")
    if obj["severity"] not in SEVERITIES:
        problems.append(f"bad severity {obj['severity']!r}")
    if risks and obj["severity"] is None:
        problems.append("a message with risks needs a severity")
    if not risks and obj["severity"] is not None:
        problems.append("severity must be null when there are no risks")
    if not isinstance(obj["trap"], bool):
        problems.append("trap must be true or false")
    elif obj["trap"] and risks:
        problems.append("a trap must have no risks")
    return problems


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    check_only = "--check" in argv
    files = sorted(SRC.glob("*.jsonl"))
    if not files:
        print(f"no author files in {SRC}", file=sys.stderr)
        return 1
    errors: list[str] = [
        f"{name} split lists {author}, but {author[0]}* authors are train-only"
        for name, authors in SPLIT.items()
        for author in sorted(authors)
        if train_only(author)
    ]
    warnings: list[str] = []
    seen_ids: dict[str, str] = {}
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for path in files:
        rel = path.relative_to(HERE.parent.parent) if HERE.parent.parent in path.parents else path
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            where = f"{rel}:{lineno}"
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: invalid JSON: {exc}")
                continue
            problems = validate(obj, path)
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                problems += strip_markup(obj["text"])[2]
            if problems:
                errors.extend(f"{where}: {p}" for p in problems)
                continue
            if obj["id"] in seen_ids:
                errors.append(f"{where}: duplicate id {obj['id']!r} (also {seen_ids[obj['id']]})")
                continue
            seen_ids[obj["id"]] = where
            clean, entities, problems = strip_markup(obj["text"])
            if problems:
                errors.extend(f"{where}: {p}" for p in problems)
                continue
            for ent in entities:
                surface = clean[ent["start"] : ent["end"]]
                prob = checksum_problem(ent["type"], surface)
                if prob:
                    (errors if strict else warnings).append(
                        f"{where}: {ent['type']} {surface!r}: {prob}"
                    )
            splits[split_of(obj["author"])].append(
                {
                    "id": obj["id"],
                    "author": obj["author"],
                    "language": obj["language"],
                    "channel": obj["channel"],
                    "text": clean,
                    "entities": entities,
                    "risks": obj["risks"],
                    "severity": obj["severity"],
                    "trap": obj["trap"],
                }
            )
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"{len(errors)} invalid line problem(s); nothing written", file=sys.stderr)
        return 1
    if not check_only:
        for name, rows in splits.items():
            with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    report(splits)
    return 0


def report(splits: dict[str, list[dict]]) -> None:
    for name in ("train", "dev", "test"):
        rows = splits[name]
        authors = sorted({r["author"] for r in rows})
        langs = collections.Counter(r["language"] for r in rows)
        risks = collections.Counter(k for r in rows for k in r["risks"])
        sev = collections.Counter(r["severity"] or "none" for r in rows)
        ents = collections.Counter(e["type"] for r in rows for e in r["entities"])
        print(f"{name}: {len(rows)} messages, {len(authors)} authors ({' '.join(authors)})")
        print(f"  languages: {dict(sorted(langs.items()))}")
        print(
            f"  with risk: {sum(1 for r in rows if r['risks'])}, "
            f"traps: {sum(1 for r in rows if r['trap'])}"
        )
        print(f"  risks: {dict(sorted(risks.items()))}")
        print(f"  severity: {dict(sorted(sev.items()))}")
        print(f"  entities: {dict(sorted(ents.items()))}")
    total = sum(len(r) for r in splits.values())
    print(f"total: {total} messages")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
