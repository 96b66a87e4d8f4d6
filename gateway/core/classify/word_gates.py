"""Gates by word: which patterns a message could match, from the words it holds.

Most lexicon patterns begin each alternative where a word begins ("\\b(?:film|movie\\w*|
snakke\\w* om)"), so a message can only match when one of its words (runs of \\w) is one of
a few whole words or begins with one of a few beginnings. ``word_starts`` reads those words
from the compiled pattern; ``WORD_GATES`` holds every gated pattern's words, one bit per
pattern, and answers for all of them at once from one look-up per distinct word.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import or_
from typing import Any

from .pattern_tree import PARSER, REPEATS, C, exact_item

_WORD_RUN = re.compile(r"\w+")
_WORDISH = re.compile(r"\w*")
# Alternatives of a word gate may be many (a lexicon); their product with what precedes
# them is bounded by this.
_MOST_WORDS = 4096


def _word_product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    if len(left) * len(right) > _MOST_WORDS:
        return None
    return frozenset(a + b for a in left for b in right)


def _non_word_item(op: Any, av: Any) -> bool:
    """Whether this item always matches exactly one character that is not a word character."""
    if op is C.LITERAL:
        return _WORDISH.match(chr(av)).end() == 0  # type: ignore[union-attr]
    if op is C.IN:
        return all(
            (o is C.LITERAL and _WORDISH.match(chr(v)).end() == 0)  # type: ignore[union-attr]
            or (o is C.CATEGORY and v in (C.CATEGORY_SPACE, C.CATEGORY_NOT_WORD))
            for o, v in av
        )
    return False


def _ends_before_word(op: Any, av: Any) -> bool:
    """Whether a word character right after any match of this item starts a word."""
    if op is C.AT:
        return av is C.AT_BOUNDARY
    if op is C.ASSERT_NOT:
        direction, inner = av
        # (?<![\w...]): the character before is no word character.
        return (
            direction == -1
            and len(inner) == 1
            and inner[0][0] is C.IN
            and (C.CATEGORY, C.CATEGORY_WORD) in inner[0][1]
        )
    if op in REPEATS:
        low, _high, inner = av
        return low >= 1 and bool(inner) and _ends_before_word(*inner[-1])
    if op is C.SUBPATTERN:
        sub = av[3]
        return bool(sub) and _ends_before_word(*sub[-1])
    if op is C.BRANCH:
        return all(b and _ends_before_word(*b[-1]) for b in av[1])
    return _non_word_item(op, av)


def _skippable(op: Any, av: Any) -> bool:
    """Whether this item may match nothing, and otherwise ends before a word."""
    if op in REPEATS:
        low, _high, inner = av
        return low == 0 and bool(inner) and _ends_before_word(*inner[-1])
    return False


def _prefixes(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of this parsed sequence begins with, or None."""
    acc = frozenset({""})
    for op, av in items:
        strings = exact_item(op, av)
        if strings is None and (
            _non_word_item(op, av)
            or (op in REPEATS and av[0] >= 1 and len(av[2]) == 1 and _non_word_item(*av[2][0]))
        ):
            # Characters that are no word characters ("\s", "\s+") only part words: a
            # space stands for them (these strings are only ever read for their words).
            strings = frozenset({" "})
        if strings is not None:
            product = _word_product(acc, strings)
            if product is None:
                break
            acc = product
            continue
        inner: frozenset[str] | None = None
        if op is C.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if not add_flags & re.IGNORECASE:
                inner = _prefixes(sub)
        elif op is C.BRANCH:
            branches = [_prefixes(b) for b in av[1]]
            if branches and all(b is not None for b in branches):
                inner = frozenset().union(*(b for b in branches if b is not None))
        elif op in REPEATS and av[0] >= 1:
            inner = _prefixes(av[2])
        if inner is not None:
            acc = _word_product(acc, inner) or acc
        break
    return None if "" in acc else acc


# Words that most family messages hold (each in one message of twenty or more, in every
# language together): a gate on one of them skips almost nothing, so a phrase is gated on
# another of its words when it has one ("i 2011" on "2011", "for fun" on "fun").
COMMON_WORDS = frozenset(
    """i har på det at er og med han for the jeg om til en jag att to and och a var vi som
    min kan in eg is me är till men mig on my så skal de du e her av it hos den för hun he
    you meg å hon vil with she går that nu fra""".split()
)


def _rarity(word: str, whole: bool) -> int:
    """How rarely a word of the text is this word (whole) or begins with it: longer is
    rarer, a whole word rarer than a beginning of the same length, a common word never."""
    return 1 if whole and word in COMMON_WORDS else len(word) + whole


def _as_words(strings: frozenset[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    """(whole words, word beginnings) for strings that each begin a word of the text.

    Each string gives its rarest word: the first word starts where the string does, and
    every later one right after a character that is no word character ("p-piller" holds
    the whole word "p" and the beginning "piller"; "piller" is the rarer).
    """
    whole: set[str] = set()
    beginnings: set[str] = set()
    for s in strings:
        runs = [(m.start(), m.end()) for m in _WORD_RUN.finditer(s)]
        if not runs or runs[0][0] != 0:
            return None
        start, end = max(runs, key=lambda r: _rarity(s[r[0] : r[1]], r[1] < len(s)))
        (whole if end < len(s) else beginnings).add(s[start:end])
    return frozenset(whole), frozenset(beginnings)


def _word_quality(words: tuple[frozenset[str], frozenset[str]]) -> tuple[int, float]:
    # The rarest requirement skips most messages (see ``_rarity``).
    whole, beginnings = words
    sizes = [_rarity(w, True) for w in whole] + [_rarity(b, False) for b in beginnings]
    return min(min(sizes, default=0), 6), sum(sizes) / max(len(sizes), 1)


def _starts(items: Any, at_word: bool) -> tuple[frozenset[str], frozenset[str]] | None:
    """Words one of which every match of this parsed sequence holds at a word's start.

    ``at_word``: the sequence itself begins right where a word may start.
    """
    options: list[tuple[frozenset[str], frozenset[str]]] = []
    items = list(items)
    here = at_word
    for i, (op, av) in enumerate(items):
        if i:
            before = items[i - 1]
            here = _ends_before_word(*before) or (here and _skippable(*before))
        if here:
            prefixes = _prefixes(items[i:])
            words = _as_words(prefixes) if prefixes is not None else None
            if words is not None:
                options.append(words)
        inner: list[tuple[frozenset[str], frozenset[str]] | None] | None = None
        if op is C.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if not add_flags & re.IGNORECASE:
                inner = [_starts(sub, here)]
        elif op is C.BRANCH:
            inner = [_starts(b, here) for b in av[1]]
        elif op in REPEATS and av[0] >= 1:
            inner = [_starts(av[2], here)]
        if inner and all(w is not None for w in inner):
            found = [w for w in inner if w is not None]
            options.append(
                (
                    frozenset().union(*(w[0] for w in found)),
                    frozenset().union(*(w[1] for w in found)),
                )
            )
    return max(options, key=_word_quality) if options else None


def word_starts(pattern: re.Pattern[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    """``(whole words, beginnings)``: every match of ``pattern`` holds, where a word of the
    text starts, one of the whole words or a word that begins with one of the beginnings
    (a word being a run of \\w). None when the pattern does not say."""
    if pattern.flags & (re.ASCII | re.LOCALE):
        return None
    words = _starts(PARSER.parse(pattern.pattern, pattern.flags), False)
    if words is None or not pattern.flags & re.IGNORECASE:
        return words
    # A pattern that ignores case is asked about the lower-cased text (see ``Gate``).
    if any(len(c.lower()) != 1 for part in words for w in part for c in w):
        return None
    return frozenset(w.lower() for w in words[0]), frozenset(b.lower() for b in words[1])


class WordGates:
    """The whole words and beginnings of every word-gated pattern, one bit per pattern."""

    def __init__(self) -> None:
        self._whole: dict[str, int] = {}
        self._beginnings: dict[str, int] = {}
        self._lengths: tuple[int, ...] = ()
        self._by_word: dict[str, int] = {}
        self._last: tuple[str, int] = ("", 0)
        self._count = 0
        self._odd_chars: frozenset[str] = frozenset()
        self._last_odd: tuple[str, frozenset[str]] = ("", frozenset())

    def watch(self, letters: frozenset[str]) -> None:
        """Letters ``odd_letters`` reports (those that match other letters when case is
        ignored)."""
        self._odd_chars |= letters
        self._last_odd = ("", frozenset())

    def odd_letters(self, text: str) -> frozenset[str]:
        """Which of the watched letters ``text`` holds (the last answer is kept)."""
        last = self._last_odd
        if last[0] is text or last[0] == text:
            return last[1]
        # A few rare letters: each is looked for on its own (a fast search in C) rather
        # than by a character class tried at every position.
        found = frozenset(c for c in self._odd_chars if c in text)
        self._last_odd = (text, found)
        return found

    def add(self, words: tuple[frozenset[str], frozenset[str]]) -> int:
        """Register one pattern's words; returns its bit."""
        bit = 1 << self._count
        self._count += 1
        whole, beginnings = words
        for w in whole:
            self._whole[w] = self._whole.get(w, 0) | bit
        for b in beginnings:
            self._beginnings[b] = self._beginnings.get(b, 0) | bit
        self._lengths = tuple(sorted({len(b) for b in self._beginnings}))
        self._by_word.clear()
        self._last = ("", 0)
        return bit

    def _word(self, word: str) -> int:
        bits = self._whole.get(word, 0)
        beginnings = self._beginnings
        for size in self._lengths:
            if size > len(word):
                break
            bits |= beginnings.get(word[:size], 0)
        if len(self._by_word) > 100_000:
            self._by_word.clear()
        self._by_word[word] = bits
        return bits

    def bits(self, text: str) -> int:
        """The bits of the patterns whose words ``text`` holds (the last answer is kept:
        several detectors ask about the same message in turn)."""
        last = self._last
        if last[0] is text or last[0] == text:
            return last[1]
        words = set(_WORD_RUN.findall(text))
        known = self._by_word
        for word in words.difference(known):
            self._word(word)
        bits = reduce(or_, map(known.__getitem__, words), 0)
        self._last = (text, bits)
        return bits


WORD_GATES = WordGates()


def word_bit(pattern: re.Pattern[str]) -> int:
    """The bit that ``WORD_GATES.bits`` sets for a text that may hold a match of
    ``pattern``; 0 when the pattern does not say which words it needs."""
    words = word_starts(pattern)
    return WORD_GATES.add(words) if words is not None else 0
