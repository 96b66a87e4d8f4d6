#!/usr/bin/env python3
"""Generate and check synthetic identifiers for corpus writer B (sv, fi-sv, en-GB, en-US).

All numbers are invented; the algorithms are the public ones:
  SE personnummer  Luhn over YYMMDDNNN (10-digit form)
  FI HETU          DDMMYYZZZ mod 31 -> check character table
  GB NINO          prefix rules (HMRC), suffix A-D
  GB NHS number    weights 10..2, 11 - (sum mod 11), 10 invalid
  US SSN           area 001-899 except 666, group 01-99, serial 0001-9999
  IBAN             ISO 13616 mod 97
  Payment card     Luhn over 16 digits

`python3 b_ids.py` prints a pool of fresh numbers;
`python3 b_ids.py check FILE...` validates every checksummed entity in JSONL files.
"""
import json
import random
import re
import sys

HETU_TABLE = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def luhn_ok(digits):
    s = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0


def luhn_complete(partial):
    for c in "0123456789":
        if luhn_ok(partial + c):
            return partial + c
    raise ValueError(partial)


def se_pnr(rng, yy=None):
    yy = yy if yy is not None else rng.randint(0, 99)
    mm = rng.randint(1, 12)
    dd = rng.randint(1, 28)
    nnn = rng.randint(1, 999)
    base = f"{yy:02d}{mm:02d}{dd:02d}{nnn:03d}"
    full = luhn_complete(base)
    return f"{full[:6]}-{full[6:]}"


def se_pnr_ok(s):
    d = re.sub(r"[\s\-+]", "", s)
    if len(d) == 12:
        d = d[2:]
    return len(d) == 10 and d.isdigit() and luhn_ok(d)


def hetu(rng, year=None):
    year = year or rng.randint(1950, 2022)
    sign = "-" if year < 2000 else "A"
    dd, mm = rng.randint(1, 28), rng.randint(1, 12)
    zzz = rng.randint(2, 899)
    yy = year % 100
    n = int(f"{dd:02d}{mm:02d}{yy:02d}{zzz:03d}")
    return f"{dd:02d}{mm:02d}{yy:02d}{sign}{zzz:03d}{HETU_TABLE[n % 31]}"


def hetu_ok(s):
    s = s.strip().upper()
    m = re.fullmatch(r"(\d{6})([-+AUVWXYBCDEF])(\d{3})([0-9A-Y])", s)
    if not m:
        return False
    return HETU_TABLE[int(m.group(1) + m.group(3)) % 31] == m.group(4)


NINO_BAD_FIRST = set("DFIQUV")
NINO_BAD_SECOND = set("DFIOQUV")
NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def nino(rng):
    letters = "ABCEGHJKLMNPRSTWXYZ"
    while True:
        p = rng.choice(letters) + rng.choice(letters)
        if p[0] in NINO_BAD_FIRST or p[1] in NINO_BAD_SECOND or p in NINO_BAD_PREFIX:
            continue
        d = f"{rng.randint(0, 999999):06d}"
        return f"{p} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}"


def nino_ok(s):
    t = re.sub(r"[\s\-]", "", s).upper()
    m = re.fullmatch(r"([A-Z])([A-Z])(\d{6})([A-D])", t)
    if not m:
        return False
    return (m.group(1) not in NINO_BAD_FIRST and m.group(2) not in NINO_BAD_SECOND
            and m.group(1) + m.group(2) not in NINO_BAD_PREFIX)


def nhs(rng):
    while True:
        d = [rng.randint(0, 9) for _ in range(9)]
        d[0] = rng.randint(4, 7)
        c = 11 - sum(x * w for x, w in zip(d, range(10, 1, -1))) % 11
        if c == 11:
            c = 0
        if c == 10:
            continue
        s = "".join(map(str, d)) + str(c)
        return f"{s[:3]} {s[3:6]} {s[6:]}"


def nhs_ok(s):
    d = re.sub(r"[\s\-.]", "", s)
    if not (len(d) == 10 and d.isdigit()):
        return False
    c = 11 - sum(int(x) * w for x, w in zip(d[:9], range(10, 1, -1))) % 11
    if c == 11:
        c = 0
    return c != 10 and c == int(d[9])


def ssn(rng):
    while True:
        a = rng.randint(1, 899)
        if a != 666:
            break
    return f"{a:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def ssn_ok(s):
    d = re.sub(r"[\s\-]", "", s)
    if not (len(d) == 9 and d.isdigit()):
        return False
    a, g, n = int(d[:3]), int(d[3:5]), int(d[5:])
    return 0 < a < 900 and a != 666 and g > 0 and n > 0


def _iban_num(s):
    return int("".join(str(int(c, 36)) for c in s))


def iban_make(country, bban):
    chk = 98 - _iban_num(bban + country + "00") % 97
    raw = f"{country}{chk:02d}{bban}"
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def iban_ok(s):
    t = re.sub(r"\s", "", s).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", t):
        return False
    return _iban_num(t[4:] + t[:4]) % 97 == 1


def iban_se(rng):
    bank = rng.choice(["500", "600", "800", "300", "950"])
    return iban_make("SE", bank + "".join(str(rng.randint(0, 9)) for _ in range(17)))


def iban_fi(rng):
    # Finnish BBAN (14 digits) carries its own Luhn check digit.
    bban = luhn_complete(rng.choice(["1", "4", "5", "8"]) + "".join(str(rng.randint(0, 9)) for _ in range(12)))
    return iban_make("FI", bban)


def iban_gb(rng):
    bank = rng.choice(["NWBK", "BARC", "LOYD", "MIDL", "HBUK"])
    return iban_make("GB", bank + "".join(str(rng.randint(0, 9)) for _ in range(14)))


def card(rng):
    base = rng.choice(["4", "5"]) + "".join(str(rng.randint(0, 9)) for _ in range(14))
    c = luhn_complete(base)
    return " ".join(c[i:i + 4] for i in range(0, 16, 4))


def card_ok(s):
    d = re.sub(r"[\s\-]", "", s)
    return len(d) in (15, 16) and d.isdigit() and luhn_ok(d)


CHECKS = {"SE_PNR": se_pnr_ok, "FI_HETU": hetu_ok, "GB_NINO": nino_ok, "GB_NHS": nhs_ok,
          "US_SSN": ssn_ok, "IBAN": iban_ok, "PAYMENT_CARD": card_ok}
TYPES = set(CHECKS) | {"NO_FNR", "DK_CPR", "BANK_ACCOUNT", "PHONE", "EMAIL",
                       "POSTAL_ADDRESS", "HEALTH"}
RISKS = {"THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT"}
MARK = re.compile(r"\[\[([A-Z_]+)\|(.+?)\]\]", re.S)


def check(paths):
    bad = 0
    for path in paths:
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            r = json.loads(line)
            where = f"{path}:{n} {r.get('id')}"
            risks = r["risks"]
            if not set(risks) <= RISKS:
                print(where, "unknown risk", risks); bad += 1
            if bool(risks) != (r["severity"] is not None):
                print(where, "severity/risk mismatch"); bad += 1
            if r["trap"] and risks:
                print(where, "trap with risk"); bad += 1
            stripped = MARK.sub(lambda m: m.group(2), r["text"])
            if "[[" in stripped or "]]" in stripped:
                print(where, "broken markup"); bad += 1
            for m in MARK.finditer(r["text"]):
                t, v = m.groups()
                if t not in TYPES:
                    print(where, "unknown type", t); bad += 1
                elif t in CHECKS and not CHECKS[t](v):
                    print(where, "invalid", t, v); bad += 1
    return bad


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "check":
        sys.exit(1 if check(sys.argv[2:]) else 0)
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    for name, f in [("SE_PNR", se_pnr), ("FI_HETU", hetu), ("GB_NINO", nino), ("GB_NHS", nhs),
                    ("US_SSN", ssn), ("IBAN SE", iban_se), ("IBAN FI", iban_fi),
                    ("IBAN GB", iban_gb), ("PAYMENT_CARD", card)]:
        print(name + ":", "  ".join(f(rng) for _ in range(8)))
