import numpy as np

from kefu.kb.search.documents import Documents
from kefu.kb.search.hits import top_hits
from kefu.kb.search.layout import build_layout


def test_hits_take_the_readers_language_else_the_best_version() -> None:
    docs = Documents()
    docs.add("a", lang="en", title="Deposits", body="Deposit <b>late</b>", questions=[],
             queue=False)
    docs.add("a", lang="zh", title="充值", body="", questions=[], queue=False)
    docs.add("b", lang="en", title="Fees", body="", questions=[], queue=False)
    docs.add("c", lang="en", title="Cards", body="", questions=[], queue=False)
    layout = build_layout(docs, None, None)
    doc_scores = np.asarray([0.5, 0.7, 0.0])
    version_scores = np.asarray([0.5, 0.2, 0.7, 0.0])  # a/en, a/zh, b/en, c/en
    zh = top_hits(layout, "deposit", doc_scores, version_scores, "zh", 5)
    assert [(h.doc_id, h.lang, h.title) for h in zh] == [("b", "en", "Fees"),
                                                         ("a", "zh", "充值")]
    en = top_hits(layout, "deposit", doc_scores, version_scores, "en", 1)
    assert [(h.doc_id, h.lang, h.score) for h in en] == [("b", "en", 0.7)]
    hit = top_hits(layout, "deposit", doc_scores, version_scores, "en", 5)[1]
    assert hit.snippet == "<mark>Deposit</mark> &lt;b&gt;late&lt;/b&gt;"
    assert top_hits(layout, "deposit", doc_scores, version_scores, "en", -3) == []
