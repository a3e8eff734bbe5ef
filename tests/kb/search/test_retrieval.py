import pytest
from search_kb import shared_engine

from kefu.kb.search import retrieval
from kefu.kb.search.engine import SearchEngine
from kefu.kb.search.text import normalize, words


@pytest.fixture
def engine() -> SearchEngine:
    return shared_engine()


def test_bm25_of_every_version_worked_out_early_scores_like_the_candidates(
    engine: SearchEngine,
) -> None:
    engine.flush()
    layout, bm25 = engine._layout, engine._docs.bm25
    queries = ["withdrawal fee too high", "充值一直没有到账", "!!!", "kyc documents"]
    qtoks = [words(normalize(q)) for q in queries]
    qvecs = engine.embedder.encode(queries) if engine.embedder is not None else None
    sims = retrieval.use_similarities(layout, qvecs)
    assert len(layout.keys) <= retrieval.RERANK_CANDIDATES
    every = retrieval.lexical_every(layout, bm25, qtoks)
    assert every is not None and every[2] is None  # nothing to look up in "!!!"
    early = retrieval.version_scores(layout, bm25, sims, qtoks, None, every)
    late = retrieval.version_scores(layout, bm25, sims, qtoks, None, None)
    assert (early == late).all()
