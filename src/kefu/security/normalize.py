"""Text normalisation for secret detection, keeping a map back to the original text.

Users (and scammers coaching them) defeat naive matching with fullwidth letters,
Cyrillic/Greek look-alikes, combining marks and invisible characters. Detectors run on a
normalised copy; every span they report is mapped back to the original text so that the
mask covers the original characters, invisible ones included.

Contract: `normalise(text)` never changes the caller's text; `NormText.orig_span(a, b)`
maps a half-open span of the normalised text to the smallest half-open span of the
original text that produced it.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

# Invisible characters that only serve to split a word for a matcher: zero-width
# space/non-joiner/joiner, word joiner, BOM, soft hyphen, Mongolian vowel separator,
# invisible operators and bidi controls.
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
)

# Look-alike letters that NFKC leaves alone (a subset of Unicode confusables.txt that
# covers the Latin letters used by BIP-39 words, base58 and hex).
_CONFUSABLES = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y",
    "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ɡ": "g", "ո": "n", "ս": "u", "к": "k", "м": "m", "н": "h",
    "т": "t", "г": "r", "п": "n", "ь": "b", "ґ": "r",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q",
    "Ԝ": "W", "Ү": "Y", "Ԁ": "D", "Ӏ": "I",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "η": "n",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes
    "ɑ": "a", "ı": "i", "ȷ": "j", "ɩ": "i", "ʏ": "y", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n",
    "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w",
    "ᴢ": "z",
}


@lru_cache(maxsize=65536)
def _normalise_char(ch: str) -> str:
    """One character's normalised form ('' when it is invisible)."""
    if ch in _INVISIBLE:
        return ""
    if ch.isascii():
        return ch
    decomposed = unicodedata.normalize("NFKD", ch)
    # Drop combining marks so "abándon" or "a\u0301bandon" reads as "abandon".
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = unicodedata.normalize("NFKC", stripped)
    return "".join(_CONFUSABLES.get(c, c) for c in out if c not in _INVISIBLE)


@dataclass(frozen=True)
class NormText:
    """A normalised view of `original`; `starts[i]` is where original char i begins in `text`.

    `starts` is None when normalisation kept every character one-to-one.
    """

    original: str
    text: str
    lower: str
    starts: tuple[int, ...] | None

    def _orig_index(self, pos: int) -> int:
        """Index of the original character that produced normalised position `pos`."""
        if self.starts is None:
            return pos
        # Deleted characters share a start with their successor; bisect_right picks the
        # last original character starting at or before `pos`, which is the producer.
        return bisect_right(self.starts, pos) - 1

    def orig_span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span covering normalised span [start, end) (end > start)."""
        return self._orig_index(start), self._orig_index(end - 1) + 1


def _lowered(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower-case to two code points; keep offsets aligned instead.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def has_invisible(text: str) -> bool:
    """True when `text` contains a character that `normalise` deletes."""
    return not _INVISIBLE.isdisjoint(text)


def normalise(original: str, *, invisible_as_space: bool = False) -> NormText:
    """Normalise `original` (invisibles removed, NFKC, marks stripped, look-alikes mapped).

    With `invisible_as_space`, invisible characters become spaces instead: between Chinese
    characters they are a separator nobody types in prose, i.e. a seed-phrase layout.
    """
    if original.isascii():
        return NormText(original, original, _lowered(original), None)
    table = {ord(c): _normalise_char(c) for c in set(original)}
    if invisible_as_space:
        table.update({ord(c): " " for c in _INVISIBLE & set(original)})
    text = original.translate(table)
    if len(text) == len(original) and all(len(r) == 1 for r in table.values()):
        return NormText(original, text, _lowered(text), None)
    lengths = [len(table[ord(c)]) for c in original]
    starts = tuple(accumulate(lengths, initial=0))[:-1]
    return NormText(original, text, _lowered(text), starts)
