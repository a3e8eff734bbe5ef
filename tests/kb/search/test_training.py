import numpy as np
from search_kb import Recording

from kefu.kb.search.documents import Documents
from kefu.kb.search.layout import build_layout
from kefu.kb.search.training import Examples, calibrate, stratified_split


def test_stratified_split_holds_out_a_share_of_each_label_reproducibly() -> None:
    rows = [(f"q{label}{i}", label) for label, n in (("a", 20), ("b", 7), ("c", 2))
            for i in range(n)]
    train, held = stratified_split(rows, 0.15, seed=0)
    assert stratified_split(rows, 0.15, seed=0) == (train, held)
    assert sorted(train + held) == sorted(rows) and not set(train) & set(held)
    per_label = {label: sum(1 for _, g in held if g == label) for label in "abc"}
    assert per_label == {"a": 3, "b": 1, "c": 0}  # a label with < 3 rows keeps them all
    assert stratified_split(rows, 0.15, seed=1)[1] != held


def _indexed() -> tuple[Documents, Recording]:
    docs, model = Documents(), Recording()
    docs.add("fees", lang="en", title="Fees", body="", questions=["fee too  high"], queue=True)
    docs.add("kyc", lang="en", title="KYC", body="", questions=["verify me"], queue=True)
    docs.embed_pending(model)
    return docs, model


def test_examples_reuse_indexed_vectors_and_skip_excluded_texts() -> None:
    docs, model = _indexed()
    indexed = len(model.seen)
    examples = Examples(docs, model, None)
    assert examples.dense_dim == model.dim
    texts, labels, dense = examples.batch([("new question", "kyc")], exclude={"verify me"})
    assert list(zip(texts, labels, strict=True)) == [
        ("new question", "kyc"), ("fee too high", "fees"), ("Fees", "fees"), ("KYC", "kyc")]
    # Only what the index does not hold as such is embedded: the new question, and the
    # trimmed form of a question the index embedded with its double space.
    assert model.seen[indexed:] == ["new question", "fee too high"]
    assert dense is not None and dense.shape == (4, model.dim)
    examples.batch([("new question", "kyc")], exclude=set())
    assert model.seen[indexed:] == ["new question", "fee too high"]


def test_calibration_hides_held_out_passages_and_picks_the_best_cut() -> None:
    docs, model = _indexed()
    layout = build_layout(docs, model.dim, None)
    indexed = layout.vectors
    seen: list[np.ndarray] = []

    def score(texts: list[str]) -> np.ndarray:
        assert layout.vectors is not None
        seen.append(layout.vectors.copy())
        # Rows: the held-out question (right, sure), then two out-of-scope ones.
        return np.asarray([[0.1, 0.9], [0.6, 0.2], [0.3, 0.4]])

    threshold, report = calibrate(layout, score, [("verify me", "kyc")], ["joke", "weather"])
    assert layout.vectors is indexed  # put back
    hidden = [t == "verify me" for t in layout.passage_texts]
    assert not seen[0][hidden].any() and seen[0][[not h for h in hidden]].any()
    assert 0.6 < threshold <= 0.9
    assert report == {"held_out": 1, "held_out_top1": 1.0}
