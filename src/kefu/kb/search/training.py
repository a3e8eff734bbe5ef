"""Training the head: its examples and their dense features, the held-out split, and the
calibration of the decline threshold. ``SearchEngine.fit_head`` runs these in order."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from kefu.kb.search import english as en
from kefu.kb.search.blend import head_dense
from kefu.kb.search.documents import Documents
from kefu.kb.search.embed import Embedder, Vectors
from kefu.kb.search.head import Batch
from kefu.kb.search.layout import Layout, Matrix
from kefu.kb.search.text import trim

Rows = list[tuple[str, str]]

# Labels that name no article in labelled data sets (out-of-scope questions).
OOS_LABELS = frozenset({"oos", "out_of_scope", "none", ""})
# Share of each article's labelled questions held out to calibrate the threshold.
HELD_OUT_SHARE = 0.15


class Examples:
    """The head's training data for one fit: labelled rows plus every article's own
    questions and titles, with dense features that reuse the index's passage vectors
    (and those encoded earlier in the same fit) instead of embedding them again."""

    def __init__(self, docs: Documents, embedder: Embedder | None,
                 english: Embedder | None) -> None:
        """``english``: the expert, when the head's dense block includes its vectors."""
        self._docs = docs
        self._embedder = embedder
        self._english = english
        self._use_cache = _indexed_vectors(docs, docs.vectors)
        self._english_cache = _indexed_vectors(docs, docs.english_vectors)

    @property
    def dense_dim(self) -> int:
        dim = self._embedder.dim if self._embedder else 0
        return dim + (self._english.dim if self._english is not None else 0)

    def texts(self) -> list[str]:
        """Every article's own questions and titles (for the head's vocabulary)."""
        return [trim(text) for version in self._docs.versions()
                for text in [*version.questions, version.title]]

    def batch(self, rows: Rows, exclude: set[str]) -> Batch:
        """``rows`` plus every article's own questions and titles but those in ``exclude``."""
        examples = dict.fromkeys(rows)
        for version in self._docs.versions():
            for text in [*version.questions, version.title]:
                norm = trim(text)
                if norm and norm not in exclude:
                    examples[(norm, version.doc_id)] = None
        texts = [t for t, _ in examples]
        return texts, [d for _, d in examples], self._dense(texts)

    def _dense(self, texts: list[str]) -> Vectors | None:
        if self._embedder is None:
            return None
        use = _cached(self._use_cache, texts, self._embedder.encode)
        expert = self._english
        if expert is None:
            return use
        english = _cached(self._english_cache, texts,
                          lambda missing: en.encode_english(expert, missing))
        return head_dense(use, english)


def _indexed_vectors(docs: Documents, by_version: dict[str, Vectors]) -> dict[str, Vectors]:
    """Passage vectors already in the index, by text."""
    cache: dict[str, Vectors] = {}
    for version in docs.versions():
        vecs = by_version.get(version.key)
        if vecs is None:
            continue
        for text, vec in zip(version.passages(), vecs, strict=True):
            if text == trim(text):  # the head embeds trimmed texts
                cache[text] = vec
    return cache


def _cached(
    cache: dict[str, Vectors], texts: list[str], encode: Callable[[list[str]], Vectors]
) -> Vectors:
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing:
        cache.update(zip(missing, encode(missing), strict=True))
    return np.stack([cache[t] for t in texts])


def stratified_split(rows: Rows, share: float, seed: int) -> tuple[Rows, Rows]:
    """(kept, held out): ``share`` of each label's rows held out (labels with ≥ 3 rows only)."""
    by_label: dict[str, Rows] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not security
    train: Rows = []
    held: Rows = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = int(len(group) * share) if len(group) >= 3 else 0
        held.extend(group[:k])
        train.extend(group[k:])
    return train, held


def calibrate(
    layout: Layout, score: Callable[[list[str]], Matrix], held: Rows, oos: list[str]
) -> tuple[float, dict[str, float]]:
    """The threshold maximising right decisions (answer iff the top article is right) when
    ``score`` (article scores of texts over ``layout``) ranks the held-out questions and
    the out-of-scope ones, and how often the top article was right."""
    texts = [t for t, _ in held] + oos
    full, full_english = layout.vectors, layout.english
    # Hide the held-out questions' own passages, or retrieval finds each
    # one verbatim and the threshold comes out far too optimistic.
    hidden = set(texts)
    mask = np.asarray([t in hidden for t in layout.passage_texts], dtype=np.bool_)
    if full is not None:
        layout.vectors = np.where(mask[:, None], np.float32(0.0), full)
    if full_english is not None:
        layout.english = np.where(mask[:, None], np.float32(0.0), full_english)
    try:
        docs = score(texts)
    finally:
        layout.vectors, layout.english = full, full_english
    top = docs.argmax(axis=1)
    conf = docs.max(axis=1)
    gold = [d for _, d in held] + [None] * len(oos)
    right = np.asarray([layout.doc_ids[i] == g for i, g in zip(top, gold, strict=True)])
    best_t, best_ok = 0.0, -1
    for t in np.unique(np.round(conf, 3)):
        ok = int(np.sum(right & (conf >= t)) + np.sum(~right & (conf < t)))
        if ok > best_ok:
            best_t, best_ok = float(t), ok
    return best_t, {"held_out": len(held), "held_out_top1": float(right[: len(held)].mean())}
