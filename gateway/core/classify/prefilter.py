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
from functools import reduce
from operator import or_
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
                # else ("ı", "ſ"); the message is asked once which of those it holds.
                blind = [_unsafe(w[0] | w[1]) for w in found if w is not None]
                self._blind = frozenset("".join(blind) + self._unsafe)
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


# Word gates. Most lexicon patterns begin each alternative at the start of a word
# ("\b(?:film|movie\w*|snakke\w* om)"), so a message can only match when one of its words
# (runs of \w) is one of a few whole words or begins with one of a few beginnings. Every
# gated pattern's words go into one table; a message's words are looked up once (and each
# distinct word's answer kept), which tells every such gate at once whether it is open.
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
    if op is _c.LITERAL:
        return _WORDISH.match(chr(av)).end() == 0  # type: ignore[union-attr]
    if op is _c.IN:
        return all(
            (o is _c.LITERAL and _WORDISH.match(chr(v)).end() == 0)  # type: ignore[union-attr]
            or (o is _c.CATEGORY and v in (_c.CATEGORY_SPACE, _c.CATEGORY_NOT_WORD))
            for o, v in av
        )
    return False


def _ends_before_word(op: Any, av: Any) -> bool:
    """Whether a word character right after any match of this item starts a word."""
    if op is _c.AT:
        return av is _c.AT_BOUNDARY
    if op is _c.ASSERT_NOT:
        direction, inner = av
        # (?<![\w...]): the character before is no word character.
        return (
            direction == -1
            and len(inner) == 1
            and inner[0][0] is _c.IN
            and (_c.CATEGORY, _c.CATEGORY_WORD) in inner[0][1]
        )
    if op in _REPEATS:
        low, _high, inner = av
        return low >= 1 and bool(inner) and _ends_before_word(*inner[-1])
    if op is _c.SUBPATTERN:
        sub = av[3]
        return bool(sub) and _ends_before_word(*sub[-1])
    if op is _c.BRANCH:
        return all(b and _ends_before_word(*b[-1]) for b in av[1])
    return _non_word_item(op, av)


def _skippable(op: Any, av: Any) -> bool:
    """Whether this item may match nothing, and otherwise ends before a word."""
    if op in _REPEATS:
        low, _high, inner = av
        return low == 0 and bool(inner) and _ends_before_word(*inner[-1])
    return False


def _prefixes(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of this parsed sequence begins with, or None."""
    acc = frozenset({""})
    for op, av in items:
        strings = _exact_item(op, av)
        if strings is None and (
            _non_word_item(op, av)
            or (op in _REPEATS and av[0] >= 1 and len(av[2]) == 1 and _non_word_item(*av[2][0]))
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
        if op is _c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if not add_flags & re.IGNORECASE:
                inner = _prefixes(sub)
        elif op is _c.BRANCH:
            branches = [_prefixes(b) for b in av[1]]
            if branches and all(b is not None for b in branches):
                inner = frozenset().union(*(b for b in branches if b is not None))
        elif op in _REPEATS and av[0] >= 1:
            inner = _prefixes(av[2])
        if inner is not None:
            acc = _word_product(acc, inner) or acc
        break
    return None if "" in acc else acc


def _as_words(strings: frozenset[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    """(whole words, word beginnings) for strings that each begin a word of the text.

    Each string gives its longest word: the first word starts where the string does, and
    every later one right after a character that is no word character ("p-piller" holds
    the whole word "p" and the beginning "piller"; "piller" is the rarer).
    """
    whole: set[str] = set()
    beginnings: set[str] = set()
    for s in strings:
        runs = [(m.start(), m.end()) for m in _WORD_RUN.finditer(s)]
        if not runs or runs[0][0] != 0:
            return None
        start, end = max(runs, key=lambda r: r[1] - r[0] + (r[1] < len(s)))
        (whole if end < len(s) else beginnings).add(s[start:end])
    return frozenset(whole), frozenset(beginnings)


def _word_quality(words: tuple[frozenset[str], frozenset[str]]) -> tuple[int, float]:
    # Longer words are rarer by chance; whole words rarer than beginnings of the same length.
    whole, beginnings = words
    sizes = [len(w) + 1 for w in whole] + [len(b) for b in beginnings]
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
        if op is _c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if not add_flags & re.IGNORECASE:
                inner = [_starts(sub, here)]
        elif op is _c.BRANCH:
            inner = [_starts(b, here) for b in av[1]]
        elif op in _REPEATS and av[0] >= 1:
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
    words = _starts(_parser.parse(pattern.pattern, pattern.flags), False)
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
        self._odd: re.Pattern[str] | None = None
        self._odd_chars: frozenset[str] = frozenset()
        self._last_odd: tuple[str, frozenset[str]] = ("", frozenset())

    def watch(self, letters: frozenset[str]) -> None:
        """Letters ``odd_letters`` reports (those that match other letters when case is
        ignored)."""
        self._odd_chars |= letters
        if self._odd_chars:
            self._odd = re.compile("[" + "".join(map(re.escape, sorted(self._odd_chars))) + "]")
        self._last_odd = ("", frozenset())

    def odd_letters(self, text: str) -> frozenset[str]:
        """Which of the watched letters ``text`` holds (the last answer is kept)."""
        last = self._last_odd
        if last[0] is text or last[0] == text:
            return last[1]
        found = frozenset(self._odd.findall(text)) if self._odd is not None else frozenset()
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
