import numpy as np
import pytest

from kefu.kb.search.head import LinearHead

ROWS = [
    ("my card has not arrived", "card"), ("when will my card arrive", "card"),
    ("card delivery is late", "card"), ("卡还没寄到", "card"),
    ("deposit not credited", "deposit"), ("my top up is missing", "deposit"),
    ("充值没有到账", "deposit"), ("topped up but balance unchanged", "deposit"),
    ("reset my 2fa", "2fa"), ("lost google authenticator", "2fa"),
    ("谷歌验证器丢了", "2fa"), ("authenticator code wrong", "2fa"),
]


@pytest.mark.parametrize("dense_dim", [0, 8])
def test_query_path_matches_sklearn_transform(dense_dim: int) -> None:
    texts = [t for t, _ in ROWS]
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(len(texts), dense_dim)).astype(np.float32) if dense_dim else None
    head = LinearHead()
    head.fit_vocabulary(texts)
    head.fit(texts, [label for _, label in ROWS], dense)
    queries = ["card not arrived", "充值到账", "withdrawl stuk", "zzz", "2fa 2fa reset reset"]
    qdense = rng.normal(size=(len(queries), dense_dim)).astype(np.float32) if dense_dim else None
    # The reference: sklearn's transform, the sparse matrix the head was trained on.
    logits = head._features(queries, qdense) @ head._model.coef_.T + head._model.intercept_
    expected = logits - logits.max(axis=1, keepdims=True)
    expected -= np.log(np.exp(expected).sum(axis=1, keepdims=True))
    got = head.predict_log_proba(queries, qdense)
    assert got.shape == (len(queries), 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)
