import numpy as np
import pytest

from kefu.kb.search import embed


@pytest.mark.parametrize("min_rows", [1, 10**9])
def test_similarities_is_the_plain_product_on_any_thread_count(
    monkeypatch: pytest.MonkeyPatch, min_rows: int
) -> None:
    monkeypatch.setattr(embed, "PRODUCT_THREADS_MIN_ROWS", min_rows)
    rng = np.random.default_rng(0)
    queries = rng.normal(size=(3, 16)).astype(np.float32)
    passages = rng.normal(size=(50, 16)).astype(np.float32)
    np.testing.assert_allclose(embed.similarities(queries, passages), queries @ passages.T,
                               rtol=1e-5)
