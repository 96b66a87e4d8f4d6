"""What a compiled pattern can match, read from the parse tree behind ``re.compile``.

The gates that let the classifier skip a pattern (``prefilter``, ``word_gates``) read the
pattern itself rather than a hand-kept list of its words, so they follow the pattern when
its words change.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The parser behind ``re.compile``; its tree is what the pattern really matches.
PARSER: Any = importlib.import_module("re._parser")
C: Any = importlib.import_module("re._constants")
EXTRA_CASES: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES

REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT))
# Alternatives are multiplied out ("(?:dør|dö) (?:hvis|om)" is four strings) up to this many.
MOST = 64


def product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    if len(left) * len(right) > MOST:
        return None
    return frozenset(a + b for a in left for b in right)


def exact_item(op: Any, av: Any) -> frozenset[str] | None:
    """Every string this one parsed item matches, when they are few."""
    if op is C.LITERAL:
        return frozenset({chr(av)})
    if op is C.IN:
        if len(av) <= MOST and all(o is C.LITERAL for o, _ in av):
            return frozenset(chr(v) for _, v in av)
        return None
    if op is C.SUBPATTERN:
        _group, add_flags, _del_flags, inner = av
        return None if add_flags & re.IGNORECASE else exact(inner)
    if op is C.BRANCH:
        found: set[str] = set()
        for branch in av[1]:
            strings = exact(branch)
            if strings is None:
                return None
            found |= strings
        return frozenset(found) if len(found) <= MOST else None
    if op in REPEATS:
        low, high, inner = av
        strings = exact(inner)
        if strings is None or high > 2:
            return None
        out: frozenset[str] | None = frozenset({""})
        options: set[str] = set()
        for count in range(high + 1):
            if count >= low and out is not None:
                options |= out
            if count < high:
                out = product(out, strings) if out is not None else None
        return frozenset(options) if out is not None and len(options) <= MOST else None
    return None


def exact(items: Any) -> frozenset[str] | None:
    """Every string this parsed sequence matches, when they are few."""
    out = frozenset({""})
    for op, av in items:
        strings = exact_item(op, av)
        joined = product(out, strings) if strings is not None else None
        if joined is None:
            return None
        out = joined
    return out
