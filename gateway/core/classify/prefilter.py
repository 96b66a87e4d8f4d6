"""Skip a costly pattern when a message lacks every word the pattern needs.

Most messages contain no idiom, no film or game, no compound diagnosis. A regular
expression still has to try every position of the message to find that out, which for a
long alternation costs far more than asking whether any of a handful of fixed strings
occurs (``str.__contains__`` runs in C). ``Gate`` reads the compiled pattern itself and
collects strings of which every match must contain at least one, so the gate follows the
pattern when its words change and never hides a match: a gate only says "cannot match".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .pattern_tree import EXTRA_CASES, PARSER, REPEATS, C, exact_item, product
from .word_gates import WORD_GATES, word_starts
from .word_index import trie_pattern

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


def _needs(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of this parsed sequence contains, or None."""
    options: list[frozenset[str]] = []
    run = frozenset({""})  # what the items since the last unknown one spell exactly
    for op, av in items:
        strings = exact_item(op, av)
        if strings is not None:
            joined = product(run, strings)
            if joined is not None:
                options.append(run)  # the shorter run is needed too, and may test faster
                run = joined
                continue
            options.append(run)
            run = strings
            continue
        options.append(run)
        run = frozenset({""})
        need: frozenset[str] | None = None
        if op is C.SUBPATTERN:
            _group, add_flags, _del_flags, inner = av
            if not add_flags & re.IGNORECASE:
                need = _needs(inner)
        elif op is C.BRANCH:
            branches = [_needs(b) for b in av[1]]
            if branches and all(b is not None for b in branches):
                need = frozenset().union(*(b for b in branches if b is not None))
        elif op in REPEATS:
            low, _high, inner = av
            if low >= 1:
                need = _needs(inner)
        elif op is getattr(C, "ATOMIC_GROUP", None):
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
    need = _needs(PARSER.parse(pattern.pattern, pattern.flags))
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
        out.update(chr(v) for v in EXTRA_CASES.get(ord(c), ()))
        if c == "i":
            out.add("\u0130")  # "İ": its lower case is two characters
    return "".join(sorted(out))


class Gate:
    """Whether a text could hold a match of any of some patterns.

    ``open`` takes the text the patterns are matched against; for patterns that ignore
    case, the lower-cased text (``lower_in_place``) instead. With ``words`` the gate also
    asks the message's words (see ``word_starts``), when every pattern says which it needs.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]], *, words: bool = False) -> None:
        patterns = list(patterns)
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
        self.bits = 0
        if words:
            found = [word_starts(pattern) for pattern in patterns]
            if found and all(w is not None for w in found):
                for w in found:
                    if w is not None:
                        self.bits |= WORD_GATES.add(w)
                # A case-blind pattern also matches letters that lower-case to something
                # else ("ı", "ſ"); the message is asked once which of those it holds. A
                # pattern that heeds case matches its words as written.
                blind = [
                    _unsafe(w[0] | w[1]) + self._unsafe
                    for w, pattern in zip(found, patterns, strict=True)
                    if w is not None and pattern.flags & re.IGNORECASE
                ]
                self._blind = frozenset("".join(blind))
                WORD_GATES.watch(self._blind)

    def open(self, text: str) -> bool:
        """False only when no match of the patterns can occur in ``text``."""
        if self.bits:
            return bool(WORD_GATES.bits(text) & self.bits) or (
                bool(self._blind) and not self._blind.isdisjoint(WORD_GATES.odd_letters(text))
            )
        if self.always or (self._unsafe and any(map(text.__contains__, self._unsafe))):
            return True
        if self._trie is not None:
            return self._trie.search(text) is not None
        return any(map(text.__contains__, self.strings))
