"""Long lexicon alternations matched one alternative at a time, only where their words occur.

An alternation of many idioms or topic words ("(?:...) tar livet av meg|dør av latter|
kill two birds|...") gives Python's regular expression engine nothing to skip ahead by:
it tries every alternative at every position of the message. Compiled alone, most
alternatives begin with a fixed word the engine can scan for, and most messages hold the
words of only a few of them. ``Alternatives`` splits such a pattern into its alternatives
and finds exactly the matches the whole pattern finds: the leftmost match first, and at
one position the first alternative that matches there, as the engine itself would.

An alternative that begins with a word boundary ("\\b(?:på lek)\\b") gives the engine no
first letter to scan for either: it tries the boundary at every position. Such an
alternative is looked for without its leading boundary, and each place found is kept only
where the boundary holds, as the engine would have decided there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .pattern_tree import PARSER, C
from .word_gates import WORD_GATES, word_bit

# A group of alternatives between word boundaries: "\b(?:film|filmen|...)\b".
_BOUNDED = re.compile(r"(?s)(\\b)?\(\?:(.*)\)(\\b)?")


def _top_level_bars(source: str) -> list[int] | None:
    """Where the source splits into top-level alternatives; None when it cannot be split
    (back references or named groups tie alternatives together)."""
    if "(?P" in source or re.search(r"\\[1-9]", source):
        return None
    bars: list[int] = []
    depth = 0
    in_class = False
    i = 0
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            # "[]...]" and "[^]...]": a first "]" is a member, not the end.
            if source[i + 1 : i + 2] == "^":
                i += 1
            if source[i + 1 : i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            bars.append(i)
        i += 1
    return bars


def split_alternatives(pattern: re.Pattern[str]) -> list[str] | None:
    """The sources of ``pattern``'s alternatives, each a pattern of its own, or None.

    ``\\b(?:a|b)\\b`` is read as ``\\b(?:a)\\b|\\b(?:b)\\b``: a word boundary is decided
    by the text alone, so it may be taken into each alternative.
    """
    source = pattern.pattern
    bars = _top_level_bars(source)
    if bars is None:
        return None
    prefix = suffix = ""
    if not bars:
        bounded = _BOUNDED.fullmatch(source)
        if bounded is None:
            return None
        inner = bounded.group(2)
        inner_bars = _top_level_bars(inner)
        if not inner_bars or _top_level_bars("(" + inner + ")") != []:
            return None  # not one group spanning the middle, or nothing to split
        prefix, suffix = (bounded.group(1) or "") + "(?:", ")" + (bounded.group(3) or "")
        source, bars = inner, inner_bars
    pieces = [source[a + 1 : b] for a, b in zip([-1, *bars], [*bars, len(source)], strict=True)]
    return [prefix + piece + suffix for piece in pieces]


def _is_word(c: str) -> bool:
    """A word character as the engine reads ``\\w`` in a ``str`` pattern."""
    return c.isalnum() or c == "_"


class _Alternative:
    """One alternative, and how to find its leftmost match from a position."""

    __slots__ = ("finder", "pattern", "search")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.finder: re.Pattern[str] | None = None
        self.search: Callable[[str, int, int], re.Match[str] | None] = pattern.search
        tree = PARSER.parse(pattern.pattern, pattern.flags)
        if (
            pattern.pattern.startswith("\\b")
            and not pattern.flags & re.ASCII
            and len(tree) > 1
            and tree[0] == (C.AT, C.AT_BOUNDARY)
        ):
            # The same pattern without its leading "\b": it may begin with fixed letters.
            self.finder = re.compile(pattern.pattern[2:], pattern.flags)
            self.search = self._search_at_boundary

    def _search_at_boundary(self, text: str, pos: int, end: int) -> re.Match[str] | None:
        """The leftmost match at or after ``pos`` where a word boundary stands (the engine
        reads the boundary against the whole text before, and ``end`` after)."""
        assert self.finder is not None
        search = self.finder.search
        while True:
            m = search(text, pos, end)
            if m is None:
                return None
            start = m.start()
            before = start > 0 and _is_word(text[start - 1])
            if before != (start < end and _is_word(text[start])):
                return m
            pos = start + 1


class Alternatives:
    """A pattern's matches, found alternative by alternative (see the module)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._alternatives: list[_Alternative] = []
        # Each alternative's word bit, one after another from bit ``_low`` (see ``_live``).
        self._low = 0
        self._mask = 0
        self._last: tuple[int, list[_Alternative]] = (-1, [])
        sources = split_alternatives(pattern)
        if sources is None:
            return
        compiled = [re.compile(s, pattern.flags) for s in sources]
        # An alternative that can match nothing would need the engine's rules for empty
        # matches; none of ours can, and such a pattern is simply matched whole.
        if any(PARSER.parse(c.pattern, c.flags).getwidth()[0] == 0 for c in compiled):
            return
        bits = [word_bit(c) for c in compiled]
        # Each alternative searched alone pays off only when it can be skipped.
        low = bits[0].bit_length() - 1 if bits else 0
        if all(bits) and bits == [1 << (low + i) for i in range(len(bits))]:
            self._alternatives = [_Alternative(c) for c in compiled]
            self._low, self._mask = low, (1 << len(bits)) - 1

    def _live(self, present: int) -> list[_Alternative]:
        """The alternatives whose words the message holds, in their order."""
        last = self._last
        if last[0] == present:
            return last[1]
        live = []
        found = (present >> self._low) & self._mask
        while found:
            lowest = found & -found
            live.append(self._alternatives[lowest.bit_length() - 1])
            found ^= lowest
        self._last = (present, live)
        return live

    def finditer(
        self, text: str, pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        """What ``pattern.finditer(text, pos, endpos)`` finds, in the same order."""
        if not self._alternatives:
            yield from self.pattern.finditer(text, pos, len(text) if endpos is None else endpos)
            return
        end = len(text) if endpos is None else endpos
        live = self._live(WORD_GATES.bits(text))
        if not live:
            return
        found = [a.search(text, pos, end) for a in live]
        while True:
            best: re.Match[str] | None = None
            for m in found:
                if m is not None and (best is None or m.start() < best.start()):
                    best = m
            if best is None:
                return
            yield best
            pos = best.end()
            # A later match of an alternative stays its leftmost one from the new position.
            for i, m in enumerate(found):
                if m is not None and m.start() < pos:
                    found[i] = live[i].search(text, pos, end)

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        """What ``pattern.search(text, pos, endpos)`` finds (its span; groups differ)."""
        return next(self.finditer(text, pos, endpos), None)
