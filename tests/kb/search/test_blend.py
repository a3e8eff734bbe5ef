import numpy as np

from kefu.kb.search.blend import Blend
from kefu.kb.search.head import LinearHead


def test_without_a_fitted_head_retrieval_scores_pass_through() -> None:
    retrieval = np.asarray([[1.2, -0.1, 0.5]])
    blend = Blend()
    np.testing.assert_array_equal(blend.apply(retrieval, ["q"], None, None, None, clip=True),
                                  [[1.0, 0.0, 0.5]])
    assert blend.apply(retrieval, ["q"], None, None, None, clip=False) is retrieval
    assert blend.sparse(["q"]) is None


def test_head_classes_point_at_layout_columns_and_gone_articles_at_none() -> None:
    blend = Blend(LinearHead(classes=["kyc", "gone", "fees"]))
    blend.map_columns(["fees", "kyc", "new"])
    assert blend.columns.tolist() == [1, -1, 0]


def test_dense_features_add_the_expert_block_only_when_trained_with_it() -> None:
    use = np.ones((2, 3), np.float32)
    english = np.full((2, 2), 0.5, np.float32)
    assert Blend(english=False).dense(use, english) is use
    assert Blend(english=True).dense(use, None) is use
    both = Blend(english=True).dense(use, english)
    assert both is not None and both.shape == (2, 5) and both.dtype == np.float32
