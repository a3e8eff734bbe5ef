"""Text handling shared by every index: language detection, normalisation, tokens.

Chinese runs go through jieba with an exchange-term user dictionary (plain jieba
splits 谷歌验证器 into 谷歌/验证/器, which ruins both recall and precision);
Latin runs become lower-cased, lightly stemmed word tokens. Character n-grams
are offered separately so that typos ("withdrawl") still share features.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

# Queries longer than this are truncated: nothing a trader types needs more,
# and it bounds the cost of a hostile 10,000-character query.
MAX_QUERY_CHARS = 512

USERDICT_PATH = Path(__file__).with_name("userdict.txt")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_RUN_RE = re.compile(f"([{_CJK}]+)|([a-z0-9]+(?:['.][a-z0-9]+)*)")
_LATIN_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_SPACE_RE = re.compile(r"\s+")

# Function words carry no topic; dropping them keeps BM25 from matching "my".
_EN_STOP = """a an and are as at be been but by can could do does did for from had has have
how i if in into is it its me my of on or our so than that the their them then there these this
those to was we were what when where which who why will with would you your am im i'm"""
_ZH_STOP = """的 了 吗 呢 吧 啊 呀 是 在 我 你 他 她 它 我们
怎么 如何 什么 为什么 请问 一下 可以 能 有 和 与 或"""
EN_STOPWORDS = frozenset(_EN_STOP.split())
ZH_STOPWORDS = frozenset(_ZH_STOP.split())

_SUFFIXES = ("ational", "ation", "ings", "ing", "edly", "ied", "ies", "ed", "es", "ly", "s")


def detect_lang(text: str) -> str:
    """Return "zh" when CJK characters make up a real share of the letters, else "en"."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    cjk = sum(1 for ch in letters if _CJK_RE.match(ch))
    # A single Chinese term inside English ("谷歌验证器 not working") still
    # signals a Chinese-speaking user, so the bar is deliberately low.
    return "zh" if cjk / len(letters) >= 0.2 or cjk >= 4 else "en"


def normalize(text: str, *, max_chars: int = MAX_QUERY_CHARS) -> str:
    """NFKC (full-width → half-width), lower-case, collapse whitespace, cap length."""
    text = unicodedata.normalize("NFKC", text[: max_chars * 2])
    return _SPACE_RE.sub(" ", text.lower()).strip()[:max_chars]


def trim(text: str) -> str:
    """Raw text for the embedders and the head: whitespace-collapsed and length-capped,
    case and punctuation kept (USE is cased)."""
    return " ".join(text[: MAX_QUERY_CHARS * 2].split())[:MAX_QUERY_CHARS]


# Cached: snippets and BM25 stem the same article words query after query (on the
# demo help centre ~170 stems a query, a third of the time outside the encoders).
@lru_cache(maxsize=1 << 15)
def stem(word: str) -> str:
    """A tiny suffix stripper: enough to join card/cards, verify/verified, top/topping."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ied", "ies"):
                return base + "y"
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2]:
                return base[:-1]  # topped → top, cancelled → cancel
            return base
    return word


_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """A private jieba tokenizer with the exchange user dictionary (loaded once)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with _jieba_lock:
        tok.initialize()
        if USERDICT_PATH.exists():  # absent only in a broken install: segment anyway
            tok.load_userdict(str(USERDICT_PATH))
    return tok


def cut_chinese(run: str) -> list[str]:
    """Segment one run of CJK characters."""
    return [w for w in _jieba().lcut(run, HMM=True) if w.strip()]


def words(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Word tokens of already-normalised text: jieba words for Chinese, stems for Latin."""
    out: list[str] = []
    for m in _RUN_RE.finditer(text):
        cjk, latin = m.group(1), m.group(2)
        if cjk:
            out.extend(w for w in cut_chinese(cjk) if not (drop_stopwords and w in ZH_STOPWORDS))
        elif latin and not (drop_stopwords and latin in EN_STOPWORDS):
            out.append(stem(latin))
    return out


def char_ngrams(text: str, lo: int = 2, hi: int = 4) -> list[str]:
    """Character n-grams within word boundaries (typo tolerance), CJK uni+bi-grams."""
    out: list[str] = []
    for m in _RUN_RE.finditer(text):
        cjk, latin = m.group(1), m.group(2)
        if cjk:
            out.extend(cjk)
            out.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
            continue
        padded = f" {latin} "
        for n in range(lo, hi + 1):
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def word_features(text: str) -> list[str]:
    """Words (stopwords kept: "can I" vs "I can't" matters to intent) and word bigrams."""
    toks = words(normalize(text), drop_stopwords=False)
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def char_features(text: str) -> list[str]:
    """Char 2–5-grams for typo tolerance."""
    return char_ngrams(normalize(text), 2, 5)


def features(text: str) -> list[str]:
    """All sparse features of the learned head, prefixed by kind."""
    return ["w:" + t for t in word_features(text)] + ["#" + g for g in char_features(text)]


def latin_word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stem) of every Latin word in original text, for highlighting."""
    return [(m.start(), m.end(), stem(m.group(0).lower())) for m in _LATIN_WORD_RE.finditer(text)]
