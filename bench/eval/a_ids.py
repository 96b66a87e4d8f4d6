#!/usr/bin/env python3
"""Generate invented but checksum-valid identifiers for writer A's messages
(Norwegian fødselsnummer/D-number, Danish CPR, Norwegian bank accounts,
Norwegian/Danish IBANs, payment cards).  Public algorithms only.

Usage: python3 bench/eval/a_ids.py [seed]
"""

import random
import sys

W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]


def mod11(digits, weights):
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    return 0 if k == 11 else k  # 10 means "no valid check digit"


def fnr(rng, year, dnumber=False):
    while True:
        day = rng.randint(1, 28)
        month = rng.randint(1, 12)
        ind = rng.randint(500, 999) if year >= 2000 else rng.randint(0, 499)
        d = day + 40 if dnumber else day
        base = f"{d:02d}{month:02d}{year % 100:02d}{ind:03d}"
        k1 = mod11(base, W1)
        if k1 == 10:
            continue
        k2 = mod11(base + str(k1), W2)
        if k2 == 10:
            continue
        return base + str(k1) + str(k2)


def cpr(rng, year):
    while True:
        day = rng.randint(1, 28)
        month = rng.randint(1, 12)
        if year >= 2000:
            c = rng.choice("4569")
        else:
            c = rng.choice("0123")
        base = f"{day:02d}{month:02d}{year % 100:02d}{c}{rng.randint(0, 99):02d}"
        w = [4, 3, 2, 7, 6, 5, 4, 3, 2]
        k = 11 - sum(int(a) * b for a, b in zip(base, w, strict=False)) % 11
        k = 0 if k == 11 else k
        if k == 10:
            continue
        return f"{base[:6]}-{base[6:]}{k}"


def no_account(rng):
    while True:
        base = (
            f"{rng.choice([1503, 1506, 1594, 3000, 3201, 9710, 1822, 1254, 6345, 4202])}"
            f"{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"
        )
        k = mod11(base, W2)
        if k == 10:
            continue
        return base + str(k)


def iban(country, bban):
    s = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in s))
    check = 98 - num % 97
    return f"{country}{check:02d}{bban}"


def luhn_complete(prefix, length=16, rng=None):
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for c in range(10):
        cand = body + str(c)
        total = 0
        for i, ch in enumerate(reversed(cand)):
            n = int(ch)
            if i % 2 == 1:
                n = n * 2 - 9 if n > 4 else n * 2
            total += n
        if total % 10 == 0:
            return cand


def group4(s):
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def main():
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 20261128)
    print("# NO_FNR children (born 2009-2024)")
    for _ in range(12):
        print(fnr(rng, rng.randint(2009, 2024)))
    print("# NO_FNR adults (born 1955-1999)")
    for _ in range(12):
        print(fnr(rng, rng.randint(1955, 1999)))
    print("# NO D-numbers")
    for _ in range(4):
        print(fnr(rng, rng.randint(1975, 1999), dnumber=True))
    print("# DK_CPR children / adults")
    for _ in range(8):
        print(cpr(rng, rng.randint(2009, 2024)))
    for _ in range(8):
        print(cpr(rng, rng.randint(1950, 1999)))
    print("# NO bank accounts")
    for _ in range(8):
        a = no_account(rng)
        print(f"{a}  {a[:4]}.{a[4:6]}.{a[6:]}")
    print("# NO IBAN")
    for _ in range(4):
        i = iban("NO", no_account(rng))
        print(f"{i}  {group4(i)}")
    print("# DK IBAN (reg + account)")
    for _ in range(5):
        reg = rng.choice(["1551", "2191", "5301", "9570", "3409", "0400"])
        acct = f"{rng.randint(0, 9999999999):010d}"
        i = iban("DK", reg + acct)
        print(f"{i}  {group4(i)}   reg {reg} konto {acct.lstrip('0')}")
    print("# PAYMENT_CARD")
    for p in ["4571", "4213", "5213", "5420", "4917", "5186"]:
        c = luhn_complete(p, rng=rng)
        print(f"{c}  {group4(c)}")


if __name__ == "__main__":
    main()
