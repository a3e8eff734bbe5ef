import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from kefu.core import forked
from kefu.kb.search.head import LinearHead, TfidfBlock
from kefu.kb.search.text import char_features, word_features

ROWS = [
    ("my card has not arrived", "card"), ("when will my card arrive", "card"),
    ("card delivery is late", "card"), ("卡还没寄到", "card"),
    ("deposit not credited", "deposit"), ("my top up is missing", "deposit"),
    ("充值没有到账", "deposit"), ("topped up but balance unchanged", "deposit"),
    ("reset my 2fa", "2fa"), ("lost google authenticator", "2fa"),
    ("谷歌验证器丢了", "2fa"), ("authenticator code wrong", "2fa"),
]
TEXTS = [t for t, _ in ROWS]
QUERIES = ["card not arrived", "充值到账", "withdrawl stuk", "zzz", "2fa 2fa reset reset"]


@pytest.mark.parametrize("analyzer", [word_features, char_features])
@pytest.mark.parametrize("min_df", [1, 2])
def test_tfidf_block_computes_what_sklearn_computes(analyzer: object, min_df: int) -> None:
    block = TfidfBlock.fit(word_features if analyzer is word_features else char_features,
                           TEXTS, min_df)
    reference = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=min_df,
                                dtype=np.float32).fit(TEXTS)
    assert block.vocabulary == reference.vocabulary_
    np.testing.assert_allclose(block.idf, reference.idf_, rtol=1e-6)
    expected = reference.transform(QUERIES).toarray()
    for query, row in zip(QUERIES, expected, strict=True):
        got = np.zeros(len(block), np.float32)
        idx, values = block.row(query)
        got[idx] = values
        np.testing.assert_allclose(got, row, atol=1e-6)


def _fitted(dense_dim: int) -> tuple[LinearHead, np.ndarray | None]:
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(len(TEXTS), dense_dim)).astype(np.float32) if dense_dim else None
    head = LinearHead()
    head.fit_vocabulary(TEXTS)
    head.fit(TEXTS, [label for _, label in ROWS], dense)
    return head, dense


@pytest.mark.parametrize("dense_dim", [0, 8])
def test_query_path_matches_the_training_matrix(dense_dim: int) -> None:
    head, _ = _fitted(dense_dim)
    rng = np.random.default_rng(1)
    qdense = rng.normal(size=(len(QUERIES), dense_dim)).astype(np.float32) if dense_dim else None
    # The reference: the sparse matrix the head is trained on, times the weights.
    design = head.design(QUERIES, qdense)
    x = sparse.csr_matrix((design.data, design.indices, design.indptr), shape=design.shape)
    assert head.weights is not None
    logits = x @ head.weights.coef.T + head.weights.intercept
    expected = logits - logits.max(axis=1, keepdims=True)
    expected -= np.log(np.exp(expected).sum(axis=1, keepdims=True))
    got = head.predict_log_proba(QUERIES, qdense)
    assert got.shape == (len(QUERIES), 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_fit_in_the_child_equals_sklearn_in_this_process() -> None:
    from sklearn.linear_model import LogisticRegression

    head, dense = _fitted(8)
    design = head.design(TEXTS, dense)
    x = sparse.csr_matrix((design.data, design.indices, design.indptr), shape=design.shape)
    model = LogisticRegression(C=head.c, solver="newton-cg", max_iter=head.max_iter, tol=1e-4)
    model.fit(x, [label for _, label in ROWS])
    assert head.weights is not None and head.classes == ["2fa", "card", "deposit"]
    np.testing.assert_allclose(head.weights.coef, model.coef_, atol=1e-6)
    np.testing.assert_allclose(head.weights.intercept, model.intercept_, atol=1e-6)
    assert head.predict_proba(["my card has not arrived"], dense[:1])[0].argmax() == 1


def test_refit_on_the_same_labels_starts_from_the_last_weights() -> None:
    head, dense = _fitted(0)
    first = head.weights
    head.max_iter = 1  # one step from the optimum stays at it; from zero it would not
    head.fit(TEXTS, [label for _, label in ROWS], dense)
    assert first is not None and head.weights is not None
    np.testing.assert_allclose(head.weights.coef, first.coef, atol=1e-3)


@pytest.mark.parametrize("fork", [True, False])
def test_fits_hand_over_each_batch_weights_in_turn(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not fork:
        monkeypatch.setattr(forked, "fork_available", lambda: False)
    labels = [label for _, label in ROWS]
    part = (TEXTS[:9], labels[:9], None)  # one 2fa row: all three classes, so a warm start
    alone = LinearHead()
    alone.fit_vocabulary(TEXTS)
    alone.fit(*part)
    head = LinearHead()
    head.fit_vocabulary(TEXTS)
    fits = head.fits([part, (TEXTS, labels, None)])
    next(fits)
    assert head.weights is not None and alone.weights is not None
    np.testing.assert_allclose(head.weights.coef, alone.weights.coef, atol=1e-6)
    first = head.weights
    next(fits)
    assert head.weights is not first and head.classes == ["2fa", "card", "deposit"]
    assert head.predict_proba(["谷歌验证器丢了"], None)[0].argmax() == 0
    assert next(fits, "done") == "done"
