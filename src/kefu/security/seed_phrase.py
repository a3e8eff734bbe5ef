"""BIP-39 seed phrase detection (English, Chinese simplified, Chinese traditional).

Works on normalised text (see `normalize`) and returns spans in normalised coordinates.

English: a run of >= 12 word-list words with nothing but separators (spaces, commas,
numbering, newlines) between them is a seed phrase, checksum or not, because users
mistype. Ordinary English rarely strings 12 such words together: "the", "and", "my",
"is", "to", "I" are not in the list.

Chinese: every list entry is a single common character, so prose is full of them. A
run counts only when it is laid out like a seed (>= 12 single characters each set apart
by separators) or when a 12-24 character window passes the BIP-39 checksum AND its
characters look random rather than like prose (see `wordlists._ZIPF_SCALE`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import accumulate, pairwise

from kefu.security.wordlists import CHINESE, ENGLISH, SEED_LENGTHS, WordList, checksum_ok, wordlist

Span = tuple[int, int]

MIN_WORDS = 12
# Longest separator between two words: "\n23) " or " , 12. " with some slack.
_MAX_GAP = 12
# A window whose mean prose evidence is below this reads as random characters. Random
# windows average about -1.1 per character (sd ~1), Chinese prose well above 0.
_PROSE_MEAN_LIMIT = -0.25
# Bound on checksum evaluations per message so that a huge block of list characters
# cannot make masking slow; past it, random-looking windows are masked unchecked
# (fail closed: over-masking random characters costs nothing).
_MAX_CHECKSUMS = 4000

# Glued tokens worth splitting: at least two words (some English words are glued pairs
# like "anyone", so shorter tokens are left alone) and at most a glued 24-word seed.
_MIN_GLUED = 12
_MAX_GLUED = 24 * 8 + 16
_LONGEST_WORD = 8

_LATIN_WORD = re.compile(r"[a-z]+")
_LETTER = re.compile(r"[^\W\d_]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _gap_ok(text: str, start: int, end: int) -> bool:
    """True when text[start:end] only separates two words (no letters, not too long)."""
    return end - start <= _MAX_GAP and _LETTER.search(text, start, end) is None


def _segment(token: str, index: dict[str, int]) -> list[Span] | None:
    """Split a glued token ("inhaleovalhuge") into list words, or None when it cannot be."""
    reach: list[int | None] = [None] * (len(token) + 1)  # reach[j]: start of the word ending at j
    reach[0] = 0
    for j in range(3, len(token) + 1):
        for i in range(max(0, j - _LONGEST_WORD), j - 2):
            if reach[i] is not None and token[i:j] in index:
                reach[j] = i
                break
    if reach[-1] is None:
        return None
    spans: list[Span] = []
    end = len(token)
    while end:
        start = reach[end]
        assert start is not None  # every reached end has a reached start
        spans.append((start, end))
        end = start
    return spans[::-1]


def _english_words(lower: str, index: dict[str, int]) -> Iterator[Span | None]:
    """Spans of English list words in order; None for a word that breaks a run."""
    for match in _LATIN_WORD.finditer(lower):
        start, end = match.span()
        if match[0] in index:
            yield start, end
            continue
        # Words glued together (no spaces, or zero-width characters removed in between).
        parts = _segment(match[0], index) if _MIN_GLUED <= end - start <= _MAX_GLUED else None
        if parts is None:
            yield None
        else:
            yield from ((start + a, start + b) for a, b in parts)


def english_seed_spans(lower: str) -> list[Span]:
    """Spans of runs of >= 12 English BIP-39 words separated only by separators."""
    index = wordlist(ENGLISH).index
    spans: list[Span] = []
    run_start = run_end = count = 0
    for word in _english_words(lower, index):
        if word is not None and count and _gap_ok(lower, run_end, word[0]):
            count += 1
            run_end = word[1]
            continue
        if count >= MIN_WORDS:
            spans.append((run_start, run_end))
        count = 0
        if word is not None:
            (run_start, run_end), count = word, 1
    if count >= MIN_WORDS:
        spans.append((run_start, run_end))
    return spans


def _char_class(words: WordList) -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted(words.index)) + "]+")


_RUN_PATTERNS: dict[str, re.Pattern[str]] = {}


def _runs(text: str, words: WordList) -> Iterator[list[Span]]:
    """Groups of maximal list-character runs joined by separator-only gaps."""
    pattern = _RUN_PATTERNS.get(words.name)
    if pattern is None:
        pattern = _RUN_PATTERNS.setdefault(words.name, _char_class(words))
    group: list[Span] = []
    for match in pattern.finditer(text):
        if group and not _gap_ok(text, group[-1][1], match.start()):
            yield group
            group = []
        group.append(match.span())
    if group:
        yield group


def _layout_spans(group: list[Span]) -> list[Span]:
    """>= 12 consecutive single characters, each set apart by separators.

    A seed pasted straight after prose glues its first word to the prose ("这个快 各 以…"),
    so a multi-character run on either side of the streak lends it one character.
    """
    spans: list[Span] = []
    streak_start = -1  # index in `group` of the first single character of the streak
    padded = [(0, 0), *group, (0, 0)]  # empty sentinels close streaks at both ends
    for k in range(1, len(padded)):
        single = padded[k][1] - padded[k][0] == 1
        if single and streak_start < 0:
            streak_start = k
        if single or streak_start < 0:
            continue
        before, after = padded[streak_start - 1], padded[k]
        count = (k - streak_start) + (before[1] > before[0]) + (after[1] > after[0])
        if count >= MIN_WORDS:
            start = before[1] - 1 if before[1] > before[0] else padded[streak_start][0]
            end = after[0] + 1 if after[1] > after[0] else padded[k - 1][1]
            spans.append((start, end))
        streak_start = -1
    return spans


class _Budget:
    """Counts checksum evaluations for one message."""

    def __init__(self) -> None:
        self.left = _MAX_CHECKSUMS

    def passes(self, indices: list[int]) -> bool:
        if self.left <= 0:
            return True
        self.left -= 1
        return checksum_ok(indices)


def _plausible_window(chars: list[str], glued: list[int], i: int, n: int) -> bool:
    """A seed is typed either glued together or with a separator after every word, and
    rarely repeats a character; prose mixes glued runs with punctuation and repeats."""
    glued_gaps = glued[i + n - 1] - glued[i]
    if glued_gaps not in (0, n - 1):
        return False
    return len(set(chars[i : i + n])) >= n - 1 - n // 20


def _checksum_spans(text: str, group: list[Span], words: WordList, budget: _Budget) -> list[Span]:
    """Random-looking windows of 12-24 list characters that pass the BIP-39 checksum."""
    positions = [p for start, end in group for p in range(start, end)]
    chars = [text[p] for p in positions]
    prefix = list(accumulate((words.prose_score[c] for c in chars), initial=0.0))
    # glued[k] counts the gaps before token k that are empty (token k-1 touches token k).
    glued = list(accumulate((int(b - a == 1) for a, b in pairwise(positions)), initial=0))
    spans: list[Span] = []
    for n in SEED_LENGTHS:
        limit = n * _PROSE_MEAN_LIMIT
        candidates = [i for i in range(len(chars) - n + 1) if prefix[i + n] - prefix[i] < limit]
        for i in candidates:
            if not _plausible_window(chars, glued, i, n):
                continue
            if budget.passes([words.index[c] for c in chars[i : i + n]]):
                spans.append((positions[i], positions[i + n - 1] + 1))
    return spans


def _distinct_chars(text: str, group: list[Span]) -> int:
    """Distinct characters in a group; too few means no window can look random, and
    checking that first keeps "的的的…" or "验证码验证码…" from costing a checksum scan."""
    seen: set[str] = set()
    for start, end in group:
        seen.update(text[start:end])
        if len(seen) >= MIN_WORDS:
            break
    return len(seen)


def chinese_seed_spans(text: str) -> list[Span]:
    """Spans of Chinese (simplified or traditional) seed phrases in normalised text."""
    if _CJK.search(text) is None:
        return []
    spans: list[Span] = []
    budget = _Budget()
    for name in CHINESE:
        words = wordlist(name)
        for group in _runs(text, words):
            if sum(end - start for start, end in group) < MIN_WORDS:
                continue
            spans.extend(_layout_spans(group))
            if _distinct_chars(text, group) >= MIN_WORDS - 1:
                spans.extend(_checksum_spans(text, group, words, budget))
    return spans


def seed_phrase_spans(text: str, lower: str) -> list[Span]:
    """All seed-phrase spans (normalised coordinates) in `text` / its lower-cased `lower`."""
    return english_seed_spans(lower) + chinese_seed_spans(text)
