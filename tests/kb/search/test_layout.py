import numpy as np
from search_kb import Recording

from kefu.kb.search.documents import Documents
from kefu.kb.search.layout import build_layout


def _docs() -> Documents:
    docs = Documents()
    docs.add("b", lang="zh", title="提币", body="", questions=["提币慢"], queue=True)
    docs.add("b", lang="en", title="Withdrawals", body="", questions=["slow withdrawal"],
             queue=True)
    docs.add("a", lang="en", title="Deposits", body="Confirmations", questions=[], queue=True)
    return docs


def test_rows_run_article_by_article_then_version_then_passage() -> None:
    docs, model = _docs(), Recording()
    docs.embed_pending(model)
    layout = build_layout(docs, model.dim, None)
    assert layout.doc_ids == ["a", "b"]
    assert [(v.doc_id, v.lang) for v in layout.versions] == [("a", "en"), ("b", "zh"),
                                                             ("b", "en")]
    assert list(layout.versions_of(0)) == [0] and list(layout.versions_of(1)) == [1, 2]
    assert layout.version_starts.tolist() == [0, 2, 4]
    assert layout.version_doc.tolist() == [0, 1, 1]
    assert layout.passage_texts == ["Deposits", "Deposits Confirmations", "提币慢", "提币",
                                    "slow withdrawal", "Withdrawals"]
    assert layout.vectors is not None and layout.vectors.shape == (6, model.dim)
    assert layout.vectors.flags.c_contiguous
    assert layout.column == {key: i for i, key in enumerate(layout.keys)}
    assert layout.english is None


def test_a_version_without_vectors_holds_one_zero_row() -> None:
    docs, model = _docs(), Recording()
    docs.embed_pending(model)
    docs.add("c", lang="en", title="Cards", body="", questions=[], queue=True)  # not embedded
    layout = build_layout(docs, model.dim, None)
    assert layout.vectors is not None
    assert layout.passage_texts[-1] == "" and not layout.vectors[-1].any()
    lexical = build_layout(docs, None, None)
    assert lexical.vectors is None and len(lexical.passage_texts) == 7


def test_english_block_is_zero_where_the_expert_has_no_vectors() -> None:
    docs, model, expert = _docs(), Recording(), Recording()
    docs.embed_pending(model)
    docs.embed_english(expert)
    layout = build_layout(docs, model.dim, expert.dim)
    assert layout.english is not None and layout.english.shape == (6, expert.dim)
    assert layout.english_rows.tolist() == [True, True, False, False, True, True]
    np.testing.assert_array_equal(layout.english[4:], docs.english_vectors["b\x1fen"])
