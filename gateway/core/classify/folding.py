"""Lower-casing that keeps every character where it was.

Matching lower-cased text with case-sensitive patterns is several times faster than
case-insensitive matching, but only if offsets still point into the original message.
"""

from __future__ import annotations


def lower_in_place(text: str) -> str:
    """``text.lower()``, except letters whose lower case is longer stay as they are."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
