"""What a search returns: the best articles, each in the reader's language where it
exists, with a highlighted snippet, and the bot's confidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kefu.kb.search.layout import Layout, Matrix
from kefu.kb.search.snippet import make_snippet, query_terms


@dataclass(frozen=True)
class Hit:
    """One article found: the version shown, its score, an HTML snippet with <mark>s."""

    doc_id: str
    score: float
    lang: str
    title: str
    snippet: str


@dataclass(frozen=True)
class Answer:
    """Hits and the bot's confidence (the top score); ``declined``: below the threshold,
    hand over to a human."""

    query: str
    hits: list[Hit]
    confidence: float
    declined: bool


def top_hits(
    layout: Layout, query: str, docs: Matrix, versions: Matrix, lang: str, limit: int
) -> list[Hit]:
    """The ``limit`` (at most 100) best-scoring articles with a positive score, from one
    query's article scores ``docs`` (D,) and version scores ``versions`` (V,); each hit is
    the article's best version in ``lang``, else its best version."""
    limit = max(0, min(limit, 100))
    order = np.argsort(-docs, kind="stable")[:limit]
    terms = query_terms(query)
    hits = []
    for d in order:
        if docs[d] <= 0.0:
            break
        cands = list(layout.versions_of(int(d)))
        same = [v for v in cands if layout.versions[v].lang == lang]
        best = max(same or cands, key=lambda v: versions[v])
        version = layout.versions[best]
        text = version.body or version.title
        hits.append(
            Hit(version.doc_id, float(docs[d]), version.lang, version.title,
                make_snippet(text, terms))
        )
    return hits
