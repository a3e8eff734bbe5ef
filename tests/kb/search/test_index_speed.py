"""Indexing shortcuts: identical passages embedded once, big batches on worker processes,
and the head blend leaving room for articles it has not seen."""

import numpy as np
import pytest
from search_kb import ARTICLES, model_installed

from kefu.kb.search import embed
from kefu.kb.search.embed import Vectors
from kefu.kb.search.engine import SearchEngine


class CountingEmbedder:
    """Deterministic toy embedder (hashed bag of characters) that records its inputs."""

    name = "counting"
    dim = 64

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> Vectors:
        self.seen.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                out[i, hash(ch) % self.dim] += 1.0
        norms = np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return (out / norms).astype(np.float32)


def test_identical_passages_are_embedded_once() -> None:
    emb = CountingEmbedder()
    eng = SearchEngine(embedder=emb)
    shared = "where is my deposit"
    eng.add_document("a", lang="en", title="Deposits", body="", questions=[shared, "late usdt"])
    eng.add_document("b", lang="en", title="Deposits", body="", questions=[shared])
    eng.flush()
    assert emb.seen.count(shared) == 1 and emb.seen.count("Deposits") == 1
    assert {h.doc_id for h in eng.search(shared)} == {"a", "b"}


def test_head_trained_without_reembedding_indexed_questions() -> None:
    emb = CountingEmbedder()
    eng = SearchEngine(embedder=emb)
    for doc_id, lang, title, body, questions in ARTICLES:
        eng.add_document(doc_id, lang=lang, title=title, body=body, questions=questions)
    eng.flush()
    indexed = len(emb.seen)
    labelled = [(q, d) for d, _, _, _, qs in ARTICLES for q in qs]
    assert eng.fit_head(labelled)["fitted"]
    assert len(emb.seen) == indexed  # every example question was already embedded


def test_article_added_after_fit_head_is_still_found() -> None:
    eng = SearchEngine(embedder=CountingEmbedder())
    for doc_id, lang, title, body, questions in ARTICLES:
        eng.add_document(doc_id, lang=lang, title=title, body=body, questions=questions)
    eng.fit_head([(q, d) for d, _, _, _, qs in ARTICLES for q in qs])
    question = "how do i change the colour theme of the mobile app"
    eng.add_document("theme", lang="en", title="Dark mode", body="", questions=[question])
    ans = eng.answer(question)
    assert ans.hits[0].doc_id == "theme"
    assert 0.0 <= ans.confidence <= 1.0


@pytest.mark.skipif(not model_installed(), reason="embedding model not installed")
def test_parallel_encode_matches_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"my deposit number {i} has not arrived yet" for i in range(40)]
    single = embed.UseEmbedder(workers=1).encode(texts)
    monkeypatch.setattr(embed, "PARALLEL_MIN_TEXTS", 8)
    monkeypatch.setattr(embed, "PARALLEL_CHUNK", 7)
    parallel = embed.UseEmbedder(workers=2).encode(texts)
    assert parallel.shape == single.shape
    assert np.allclose(parallel, single, atol=1e-5)
