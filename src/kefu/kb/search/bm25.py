"""An incremental in-memory BM25 (Okapi) index.

Postings are kept per term, and corpus statistics (N, total length) are updated
on every add/remove, so editing one help-centre article never rebuilds the index.
IDF is computed at query time from the live statistics.
"""

from __future__ import annotations

import math
from collections import Counter


class BM25Index:
    """BM25 over string keys; ``add`` with an existing key replaces the document."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, dict[str, int]] = {}
        self._lengths: dict[str, int] = {}
        self._terms: dict[str, tuple[str, ...]] = {}
        self._total_len = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def __contains__(self, key: object) -> bool:
        return key in self._lengths

    def add(self, key: str, tokens: list[str]) -> None:
        """Index ``tokens`` under ``key`` (replacing any previous version)."""
        if key in self._lengths:
            self.remove(key)
        counts = Counter(tokens)
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[key] = tf
        self._lengths[key] = len(tokens)
        self._terms[key] = tuple(counts)
        self._total_len += len(tokens)

    def remove(self, key: str) -> bool:
        """Drop ``key``; returns False when it was not indexed."""
        if key not in self._lengths:
            return False
        for term in self._terms.pop(key):
            posting = self._postings[term]
            del posting[key]
            if not posting:
                del self._postings[term]
        self._total_len -= self._lengths.pop(key)
        return True

    def idf(self, term: str) -> float:
        n = len(self._lengths)
        df = len(self._postings.get(term, ()))
        # The "+1" variant never goes negative for very common terms.
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, tokens: list[str]) -> dict[str, float]:
        """BM25 score of every document sharing at least one query term."""
        n = len(self._lengths)
        if not n or not tokens:
            return {}
        avgdl = self._total_len / n or 1.0
        out: dict[str, float] = {}
        for term, qtf in Counter(tokens).items():
            posting = self._postings.get(term)
            if not posting:
                continue
            idf = self.idf(term) * qtf
            for key, tf in posting.items():
                norm = self.k1 * (1.0 - self.b + self.b * self._lengths[key] / avgdl)
                out[key] = out.get(key, 0.0) + idf * tf * (self.k1 + 1.0) / (tf + norm)
        return out

    def score_keys(self, tokens: list[str], keys: list[str]) -> list[float]:
        """BM25 of the given documents only: cheap re-ranking of a candidate list."""
        n = len(self._lengths)
        if not n or not tokens:
            return [0.0] * len(keys)
        avgdl = self._total_len / n or 1.0
        terms = [(self._postings.get(t), self.idf(t) * q) for t, q in Counter(tokens).items()]
        position = {key: i for i, key in enumerate(keys)}
        distinct = len(position) == len(keys)
        norms = [
            self.k1 * (1.0 - self.b + self.b * self._lengths.get(key, 0) / avgdl) for key in keys
        ]
        out = [0.0] * len(keys)
        for posting, weight in terms:
            if not posting:
                continue
            # Walk whichever is shorter, the term's posting list or the candidates; a key
            # gets its terms added in the same order either way, so the sums are equal.
            if distinct and len(posting) < len(keys):
                pairs = ((position[k], tf) for k, tf in posting.items() if k in position)
            else:
                pairs = ((i, posting.get(k, 0)) for i, k in enumerate(keys))
            for i, tf in pairs:
                if tf:
                    out[i] += weight * tf * (self.k1 + 1.0) / (tf + norms[i])
        return out

    def search(self, tokens: list[str], limit: int = 10) -> list[tuple[str, float]]:
        """Top ``limit`` (key, score) pairs, best first."""
        ranked = sorted(self.scores(tokens).items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]
