import numpy as np
from search_kb import Recording

from kefu.kb.search.documents import DOC_TEXT_CHARS, Documents


def _docs() -> Documents:
    docs = Documents()
    docs.add("fees", lang="en", title="Fees", body="Withdrawal fees by network.",
             questions=["why so expensive", "fee too high"], queue=True)
    docs.add("fees", lang="zh", title="手续费", body="", questions=["手续费", "Fees"], queue=True)
    docs.add("kyc", lang="en", title="KYC", body="", questions=["fee too high"], queue=True)
    return docs


def test_passages_are_questions_title_and_lead_each_once() -> None:
    docs = _docs()
    en = docs.by_doc["fees"]["en"]
    assert en.passages() == ["why so expensive", "fee too high", "Fees",
                             "Fees Withdrawal fees by network."]
    assert docs.by_doc["fees"]["zh"].passages() == ["手续费", "Fees"]


def test_each_distinct_passage_is_embedded_once_and_mapped_back() -> None:
    docs, model = _docs(), Recording()
    docs.embed_pending(model)
    assert sorted(model.seen) == sorted(set(model.seen))
    assert not docs.pending
    for version in docs.versions():
        expected = model.encode(version.passages())
        np.testing.assert_array_equal(docs.vectors[version.key], expected)


def test_replace_and_remove_drop_what_was_kept_of_a_version() -> None:
    docs, model = _docs(), Recording()
    docs.embed_pending(model)
    docs.add("fees", lang="en", title="Fees", body="x" * (DOC_TEXT_CHARS + 5), questions=[],
             queue=True)
    key = docs.by_doc["fees"]["en"].key
    assert key not in docs.vectors and key in docs.pending
    assert len(docs.by_doc["fees"]["en"].body) == DOC_TEXT_CHARS
    assert docs.remove("fees", "en") and not docs.remove("fees", "en")
    assert key not in docs.pending and key not in docs.bm25
    assert "fees" in docs and len(docs) == 2
    assert docs.remove("fees", None)
    assert "fees" not in docs and [v.doc_id for v in docs.versions()] == ["kyc"]


def test_english_vectors_only_for_versions_the_expert_has_not_seen() -> None:
    docs, expert = _docs(), Recording()
    assert docs.embed_english(expert)
    first = len(expert.seen)
    assert "手续费" not in expert.seen  # the expert embeds English passages only
    assert not docs.embed_english(expert) and len(expert.seen) == first
    docs.add("kyc", lang="en", title="Identity", body="", questions=[], queue=False)
    assert docs.embed_english(expert) and expert.seen[first:] == ["Identity"]
