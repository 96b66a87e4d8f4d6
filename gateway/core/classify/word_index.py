"""Find which of many word beginnings occur in a text, fast.

Python's regular expressions try every branch of an alternation at every position, so a
plain alternation of a few hundred words costs tens of microseconds per message. The same
words arranged as a trie ("sl(?:å|o|eng)") let the engine reject a position after a
letter or two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def trie_pattern(words: Iterable[str], tails: dict[str, str] | None = None) -> str:
    """A regular expression matching exactly ``words``, as a prefix trie.

    ``tails`` may give a word a pattern to match after it (e.g. inflection endings);
    a space in a word matches any whitespace.
    """
    tails = tails or {}
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {tails.get(word, ""): {}}

    def render(node: dict[str, Any]) -> str:
        ending = "|".join(node[""]) if "" in node else None
        branches = [
            (r"\s" if ch == " " else re.escape(ch)) + render(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if ending is not None:
            if ending:
                branches.append(ending)  # the tail first tried after longer words
            elif branches:
                return "(?:" + "|".join(branches) + ")?"
            else:
                return ""
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return render(trie)


@dataclass(frozen=True)
class WordStartIndex(Generic[T]):
    """Word beginnings (lower case, single words) mapped to payloads."""

    pattern: re.Pattern[str]
    payloads: dict[str, tuple[T, ...]]
    lengths: tuple[int, ...]
    # What each word of a message carries, kept: messages share most of their words.
    _by_word: dict[str, tuple[T, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, entries: Iterable[tuple[str, T]]) -> WordStartIndex[T]:
        """Index ``(beginning, payload)`` pairs; a beginning may carry several payloads."""
        payloads: dict[str, list[T]] = {}
        for beginning, payload in entries:
            payloads.setdefault(beginning, []).append(payload)
        pattern = re.compile(r"(?<![\w'’])(?:" + trie_pattern(payloads) + r")[\w'’\-]*")
        lengths = tuple(sorted({len(b) for b in payloads}))
        return cls(pattern, {b: tuple(p) for b, p in payloads.items()}, lengths)

    def hits(self, lower: str) -> Iterator[tuple[int, T]]:
        """``(offset, payload)`` for every word of ``lower`` that starts with a beginning."""
        for m in self.pattern.finditer(lower):
            word = m.group()
            for size in self.lengths:
                if size > len(word):
                    break
                for payload in self.payloads.get(word[:size], ()):
                    yield m.start(), payload

    def found(self, lower: str) -> set[T]:
        """Every payload of a beginning that some word of ``lower`` starts with."""
        out: set[T] = set()
        cache = self._by_word
        for word in self.pattern.findall(lower):
            carried = cache.get(word)
            if carried is None:
                if len(cache) > 100_000:
                    cache.clear()
                carried = cache[word] = tuple(
                    payload
                    for size in self.lengths
                    if size <= len(word)
                    for payload in self.payloads.get(word[:size], ())
                )
            out.update(carried)
        return out
