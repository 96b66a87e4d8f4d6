"""Per-language normalisation that lets one lexicon entry match how families really write.

Families type without æ, ø, å, ä and ö ("dreper deg", "sjalvmord", "doden"), double or drop
letters ("kniven"/"knivven", "pillar"/"piller") and inflect every word. So both the
lexicon and the message go through the same folding: lower case, diacritics folded to
plain letters (æ→ae, ø→o, å→a, ä→a, ö→o), "aa" (the old spelling of å) read as "a".
Doubled letters stay: collapsing them makes Norwegian "hoppe" (jump) English "hope". The
lexicon is also stemmed with the Snowball stemmer of its language, so "drepe" matches
"dreper", "drepte" and "drept" as a word beginning. Offsets always point into the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import snowballstemmer

_FOLD = str.maketrans(
    {
        "æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ê": "e",
        "ü": "u", "á": "a", "à": "a", "ó": "o", "ò": "o", "í": "i", "ú": "u", "ð": "d",
        "’": "'", "`": "'",
    }
)  # fmt: skip
WORD = re.compile(r"[^\W\d_]+(?:['’][a-z]+)?|\d+")

_STEMMERS = {"nb": "norwegian", "nn": "norwegian", "da": "danish", "sv": "swedish", "en": "english"}


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The folded form of one lower-case word: no diacritics, "aa" as "a"."""
    return word.translate(_FOLD).replace("aa", "a")


def stem(word: str, language: str) -> str:
    """The Snowball stem of ``word`` in ``language`` (nb, nn, da, sv, en)."""
    return str(_stemmer(_STEMMERS[language]).stemWord(word))


@lru_cache(maxsize=8)
def _stemmer(name: str) -> Any:
    return snowballstemmer.stemmer(name)


class Token(NamedTuple):
    """One word of the message: its folded form and where it stands in the text."""

    folded: str
    start: int
    end: int


_FOLDED: dict[str, str] = {}
_new_token = tuple.__new__


def tokens(lower: str) -> list[Token]:
    """The words of a lower-cased message, folded, with their offsets."""
    out: list[Token] = []
    append = out.append
    cache = _FOLDED
    find = lower.find
    end = 0
    # ``findall`` runs in C. Between two words stand only characters no word starts
    # with, so the next occurrence of a word after the previous one is where it matched.
    for word in WORD.findall(lower):
        folded = cache.get(word)
        if folded is None:
            if len(cache) > 200_000:
                cache.clear()
            folded = cache[word] = fold(word)
        start = find(word, end)
        end = start + len(word)
        append(_new_token(Token, (folded, start, end)))
    return out


def folded_words(lower: str) -> Iterator[str]:
    """Just the folded words, for feature extraction."""
    for m in WORD.finditer(lower):
        yield fold(m.group())
