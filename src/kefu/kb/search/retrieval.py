"""Retrieval scores: a version's score is the max cosine between the query and its
passages (the multilingual embedder's, mixed with the English expert's on English
pairs), plus a small max-normalised BM25 term on the dense top candidates; an
article's score is its best version's. A lexical-only engine (no embedder) scores
BM25 alone, squashed to 0..1. Why these weights: docs/search.md."""

from __future__ import annotations

import numpy as np

from kefu.kb.search import english as en
from kefu.kb.search.bm25 import BM25Index
from kefu.kb.search.embed import Vectors, similarities
from kefu.kb.search.layout import Layout, Matrix

# Weight of max-normalised BM25 next to the dense cosine: best of those tried on the
# held-out split, and kept small because plain fusion hurt Chinese paraphrases.
LEXICAL_WEIGHT = 0.1
# Dense candidates per query that BM25 re-ranks.
RERANK_CANDIDATES = 200


def use_similarities(layout: Layout, qvecs: Vectors | None) -> Vectors | None:
    """Cosines of the queries with every passage, shape (m, rows); None without vectors."""
    if qvecs is None or layout.vectors is None or not len(layout.versions):
        return None
    return similarities(qvecs, layout.vectors)


def version_scores(
    layout: Layout, bm25: BM25Index, sims: Vectors | None, qtoks: list[list[str]],
    expert: en.ExpertScores | None = None, lexical: list[Matrix | None] | None = None,
) -> Matrix:
    """Retrieval score of every article version for each query, shape (m, V), from the
    queries' USE similarities with every passage (None: a lexical-only engine).
    ``lexical``: ``lexical_every`` of the queries, if worked out already."""
    m, n_versions = len(qtoks), len(layout.versions)
    scores = np.zeros((m, n_versions), dtype=np.float64)
    if not n_versions:
        return scores
    if sims is None:
        return _lexical_absolute(layout, bm25, qtoks, scores)
    if expert is not None and expert.passages is not None:
        sims = en.mix(sims, expert, layout.english_rows)
    scores += np.maximum.reduceat(sims, layout.version_starts, axis=1)
    if LEXICAL_WEIGHT > 0:
        _lexical_rerank(layout, bm25, qtoks, scores, lexical)
    return scores


def lexical_every(
    layout: Layout, bm25: BM25Index, qtoks: list[list[str]]
) -> list[Matrix | None] | None:
    """BM25 of every version for each query, when the re-rank takes them all (up to
    RERANK_CANDIDATES versions): it then needs no dense score to choose candidates."""
    keys = layout.keys
    if not keys or len(keys) > RERANK_CANDIDATES:
        return None
    return [np.asarray(bm25.score_keys(toks, keys)) if toks else None for toks in qtoks]


def doc_scores(layout: Layout, versions: Matrix) -> Matrix:
    """Each article's best version score, shape (m, D)."""
    if not len(layout.doc_ids):
        return np.zeros((len(versions), 0))
    retrieval: Matrix = np.maximum.reduceat(versions, layout.doc_starts, axis=1)
    return retrieval


def _lexical_absolute(
    layout: Layout, bm25: BM25Index, qtoks: list[list[str]], out: Matrix
) -> Matrix:
    """Lexical-only engines: BM25 squashed to 0..1 so it can act as confidence."""
    col = layout.column
    for r, toks in enumerate(qtoks):
        for key, s in bm25.scores(toks).items():
            out[r, col[key]] = s / (s + 5.0)
    return out


def _lexical_rerank(
    layout: Layout, bm25: BM25Index, qtoks: list[list[str]], scores: Matrix,
    every: list[Matrix | None] | None = None,
) -> None:
    """Add relative BM25 to the dense top candidates only: scoring every posting in
    Python is too slow for a large centre, and a lexical match outside the dense
    top-K is rare enough to give up. ``every``: ``lexical_every`` of the queries."""
    keys = layout.keys
    k = min(RERANK_CANDIDATES, scores.shape[1])
    for r, toks in enumerate(qtoks):
        if not toks:
            continue
        if every is not None:
            cand, bm = np.arange(len(keys)), every[r]
        else:
            cand = np.argpartition(-scores[r], k - 1)[:k]
            bm = np.asarray(bm25.score_keys(toks, [keys[c] for c in cand]))
        if bm is not None and bm.max(initial=0.0) > 0:
            scores[r, cand] += LEXICAL_WEIGHT * bm / bm.max()
