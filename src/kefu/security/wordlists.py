"""BIP-39 word lists (from the `mnemonic` package) and the BIP-39 checksum.

Only the languages exchange users here actually paste are loaded: English and Chinese
(simplified and traditional). Both Chinese lists are ordered by character frequency,
which `rarity` uses to tell random characters (a seed) from ordinary prose.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from mnemonic import Mnemonic

ENGLISH = "english"
CHINESE = ("chinese_simplified", "chinese_traditional")
SEED_LENGTHS = (12, 15, 18, 21, 24)

# Zipf's law puts the rank-r character at about 1/(8.2 r) of running Chinese text; a
# seed draws each of the 2048 characters with probability 1/2048. The log of their
# ratio, log(2048 / (8.2 (r + 1))) = log(250 / (r + 1)), is the per-character evidence
# that a character came from prose rather than from a random seed.
_ZIPF_SCALE = 250.0


@dataclass(frozen=True)
class WordList:
    """One BIP-39 language: word -> index, and (for Chinese) word -> prose evidence."""

    name: str
    index: dict[str, int]
    prose_score: dict[str, float]


@cache
def wordlist(name: str) -> WordList:
    """The word list for a `mnemonic` language name (loaded once)."""
    words = Mnemonic(name).wordlist
    index = {w: i for i, w in enumerate(words)}
    score = {w: math.log(_ZIPF_SCALE / (i + 1)) for i, w in enumerate(words)}
    return WordList(name, index, score)


def checksum_ok(indices: Sequence[int]) -> bool:
    """True when the word indices form a BIP-39 mnemonic with a valid checksum."""
    count = len(indices)
    if count not in SEED_LENGTHS:
        return False
    packed = 0
    for i in indices:
        packed = (packed << 11) | i
    checksum_bits = count // 3
    entropy_bits = 11 * count - checksum_bits
    entropy = (packed >> checksum_bits).to_bytes(entropy_bits // 8, "big")
    expected = hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits)
    return expected == packed & ((1 << checksum_bits) - 1)
