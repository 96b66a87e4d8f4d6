"""Skip a costly pattern when a message lacks every word the pattern needs.

Most messages contain no idiom, no film or game, no compound diagnosis. A regular
expression still has to try every position of the message to find that out, which for a
long alternation costs far more than asking whether any of a handful of fixed strings
occurs (``str.__contains__`` runs in C). ``Gate`` reads the compiled pattern itself and
collects strings of which every match must contain at least one, so the gate follows the
pattern when its words change and never hides a match: a gate only says "cannot match".
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

from .word_index import trie_pattern

# The parser behind ``re.compile``; its tree is what the pattern really matches.
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")
_EXTRA_CASES: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES

_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT))
# Alternatives are multiplied out ("(?:dør|dö) (?:hvis|om)" is four strings) up to this many.
_MOST = 64
# Up to this many strings a gate asks for each in turn (about a thousand machine
# instructions each on a 200-character message); more go into one trie pattern.
_FEW = 40


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    """The requirement cheapest to test and least likely to be met by chance."""
    options = [o for o in options if o and "" not in o]
    if not options:
        return None
    # Five letters are rare enough by chance; past that, fewer strings test faster.
    return max(options, key=lambda o: (min(5, *map(len, o)), -len(o), min(map(len, o))))


def _product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    if len(left) * len(right) > _MOST:
        return None
    return frozenset(a + b for a in left for b in right)


def _exact_item(op: Any, av: Any) -> frozenset[str] | None:
    """Every string this one parsed item matches, when they are few."""
    if op is _c.LITERAL:
        return frozenset({chr(av)})
    if op is _c.IN:
        if len(av) <= _MOST and all(o is _c.LITERAL for o, _ in av):
            return frozenset(chr(v) for _, v in av)
        return None
    if op is _c.SUBPATTERN:
        _group, add_flags, _del_flags, inner = av
        return None if add_flags & re.IGNORECASE else _exact(inner)
    if op is _c.BRANCH:
        found: set[str] = set()
        for branch in av[1]:
            strings = _exact(branch)
            if strings is None:
                return None
            found |= strings
        return frozenset(found) if len(found) <= _MOST else None
    if op in _REPEATS:
        low, high, inner = av
        strings = _exact(inner)
        if strings is None or high > 2:
            return None
        out: frozenset[str] | None = frozenset({""})
        options: set[str] = set()
        for count in range(high + 1):
            if count >= low and out is not None:
                options |= out
            if count < high:
                out = _product(out, strings) if out is not None else None
        return frozenset(options) if out is not None and len(options) <= _MOST else None
    return None


def _exact(items: Any) -> frozenset[str] | None:
    """Every string this parsed sequence matches, when they are few."""
    out = frozenset({""})
    for op, av in items:
        strings = _exact_item(op, av)
        product = _product(out, strings) if strings is not None else None
        if product is None:
            return None
        out = product
    return out


def _needs(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of this parsed sequence contains, or None."""
    options: list[frozenset[str]] = []
    run = frozenset({""})  # what the items since the last unknown one spell exactly
    for op, av in items:
        strings = _exact_item(op, av)
        if strings is not None:
            product = _product(run, strings)
            if product is not None:
                options.append(run)  # the shorter run is needed too, and may test faster
                run = product
                continue
            options.append(run)
            run = strings
            continue
        options.append(run)
        run = frozenset({""})
        need: frozenset[str] | None = None
        if op is _c.SUBPATTERN:
            _group, add_flags, _del_flags, inner = av
            if not add_flags & re.IGNORECASE:
                need = _needs(inner)
        elif op is _c.BRANCH:
            branches = [_needs(b) for b in av[1]]
            if branches and all(b is not None for b in branches):
                need = frozenset().union(*(b for b in branches if b is not None))
        elif op in _REPEATS:
            low, _high, inner = av
            if low >= 1:
                need = _needs(inner)
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            need = _needs(av)
        if need:
            options.append(need)
    options.append(run)
    return _best(options)


def required_strings(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains; None when unknown.

    For a pattern that ignores case the strings are lower case, to be looked for in the
    lower-cased text. A string that contains another of the set adds nothing and is
    dropped.
    """
    need = _needs(_parser.parse(pattern.pattern, pattern.flags))
    if not need or "" in need:
        return None
    if pattern.flags & re.IGNORECASE:
        if any(len(c.lower()) != 1 for s in need for c in s):
            return None
        need = frozenset(s.lower() for s in need)
    return frozenset(s for s in need if not any(o != s and o in s for o in need))


def _unsafe(strings: Iterable[str]) -> str:
    """Letters that match one of these strings' letters when case is ignored, yet lower
    case to something else ("ı" matches "i", "ſ" matches "s"), as the regular expression
    engine's own table of such cases says. Their presence opens a case-blind gate."""
    out: set[str] = set()
    for c in set("".join(strings)):
        out.update(chr(v) for v in _EXTRA_CASES.get(ord(c), ()))
        if c == "i":
            out.add("\u0130")  # "İ": its lower case is two characters
    return "".join(sorted(out))


class Gate:
    """Whether a text could hold a match of any of some patterns.

    ``open`` takes the text the patterns are matched against; for patterns that ignore
    case, the lower-cased text (``lower_in_place``) instead.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        strings: set[str] = set()
        self.always = False
        for pattern in patterns:
            need = required_strings(pattern)
            if need is None:
                self.always = True
                break
            strings |= need
        # Shortest first: the common ones answer soonest.
        self.strings = tuple(sorted(strings, key=lambda s: (len(s), s)))
        self._unsafe = _unsafe(self.strings)
        # Many strings are found faster in one pass of their trie than one by one.
        self._trie = re.compile(trie_pattern(self.strings)) if len(self.strings) > _FEW else None

    def open(self, text: str) -> bool:
        """False only when no match of the patterns can occur in ``text``."""
        if self.always or (self._unsafe and any(map(text.__contains__, self._unsafe))):
            return True
        if self._trie is not None:
            return self._trie.search(text) is not None
        return any(map(text.__contains__, self.strings))
