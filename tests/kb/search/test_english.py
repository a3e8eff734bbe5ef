"""The English expert: MiniLM beside USE, mixed in only where query and passage are English."""

import numpy as np
import pytest

from kefu.kb.search import engine as engine_module
from kefu.kb.search import english as en
from kefu.kb.search import retrieval
from kefu.kb.search.embed import Vectors
from kefu.kb.search.engine import SearchEngine


class Hashed:
    """Toy English expert: a hashed bag of words that records its inputs."""

    name = "words"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> Vectors:
        self.seen.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hash(word) % self.dim] += 1.0
        out[:, 0] += 0.01  # no all-zero rows
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


class Blind:
    """A USE stand-in that cannot tell English texts apart (it only sees CJK characters)."""

    name, dim = "blind", 16

    def encode(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        for i, text in enumerate(texts):
            for ch in text:
                if "\u4e00" <= ch <= "\u9fff":
                    out[i, 1 + hash(ch) % (self.dim - 1)] += 1.0
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


DOCS = [
    ("authenticator", "en", "Security", ["reset my authenticator app", "lost 2fa phone"]),
    ("fees", "en", "Costs", ["withdrawal fee too high", "why so expensive to withdraw"]),
    ("deposit", "zh", "充值", ["充值未到账", "充币一直没到账"]),
]


def _engine(expert: Hashed | None) -> SearchEngine:
    eng = SearchEngine(embedder=Blind(), english=expert)
    for doc_id, lang, title, questions in DOCS:
        eng.add_document(doc_id, lang=lang, title=title, body="", questions=questions)
    return eng


@pytest.fixture
def no_lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    # BM25 alone would separate the English articles; these tests look at the dense mix.
    monkeypatch.setattr(retrieval, "LEXICAL_WEIGHT", 0.0)


def _scores(eng: SearchEngine, query: str) -> dict[str, float]:
    docs, _ = eng.score_queries([query])
    return dict(zip(eng._layout.doc_ids, docs[0].tolist(), strict=True))


@pytest.mark.usefixtures("no_lexical")
def test_expert_separates_english_articles_the_multilingual_model_cannot() -> None:
    plain = _scores(_engine(None), "authenticator app reset")
    assert plain["authenticator"] == pytest.approx(plain["fees"])
    mixed = _scores(_engine(Hashed(64)), "authenticator app reset")
    assert mixed["authenticator"] > mixed["fees"] + 0.1


@pytest.mark.usefixtures("no_lexical")
def test_chinese_queries_score_as_without_the_expert() -> None:
    expert = Hashed(64)
    for query in ["充值一直没到账", "authenticator 充值未到账 deposit"]:
        assert _scores(_engine(expert), query) == pytest.approx(_scores(_engine(None), query))


def test_encode_english_leaves_other_rows_zero() -> None:
    expert = Hashed(32)
    vecs = en.encode_english(expert, ["lost my phone", "谷歌验证器丢了", "where is my USDT"])
    assert en.nonzero_rows(vecs).tolist() == [True, False, True]
    assert expert.seen == ["lost my phone", "where is my USDT"]


def test_mix_changes_english_pairs_only() -> None:
    sims = np.full((2, 3), 0.2, dtype=np.float32)
    queries = np.asarray([[1.0], [0.0]], dtype=np.float32)  # English, then Chinese
    expert = en.ExpertScores(queries, np.full((2, 3), 0.8, dtype=np.float32))
    mixed = en.mix(sims, expert, np.asarray([True, False, True]))
    np.testing.assert_allclose(mixed, [[0.5, 0.2, 0.5], [0.2, 0.2, 0.2]], rtol=1e-6)


def test_expert_is_off_above_its_article_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(en, "MAX_ARTICLES", 2)
    expert = Hashed(32)
    eng = _engine(expert)
    eng.flush()
    assert eng._layout.english is None and expert.seen == []
    eng.remove_document("fees")
    eng.flush()  # back under the limit: what it had not seen is embedded now
    assert eng._layout.english is not None
    assert "reset my authenticator app" in expert.seen


def test_the_default_expert_is_loaded_only_when_a_small_centre_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[Hashed] = []

    def load() -> Hashed:
        loads.append(Hashed(32))
        return loads[-1]

    monkeypatch.setattr(engine_module, "default_embedder", Blind)
    monkeypatch.setattr(en, "default_english_embedder", load)
    monkeypatch.setattr(en, "MAX_ARTICLES", 2)
    eng = SearchEngine()
    for doc_id, lang, title, questions in DOCS:
        eng.add_document(doc_id, lang=lang, title=title, body="", questions=questions)
    eng.search("withdrawal fee too high")
    eng.fit_head([(q, d) for d, _, _, qs in DOCS for q in qs] * 3)
    eng.search("reset my authenticator app")
    assert loads == []  # three articles: over the limit, the model was never loaded
    eng.remove_document("fees")
    eng.search("reset my authenticator app")
    assert len(loads) == 1 and "reset my authenticator app" in loads[0].seen
    assert eng.english is loads[0]


def test_head_trains_on_both_dense_blocks() -> None:
    expert = Hashed(32)
    eng = _engine(expert)
    eng.flush()
    indexed = eng._layout.english
    report = eng.fit_head([(q, d) for d, _, _, qs in DOCS for q in qs] * 3)
    assert report["fitted"]
    assert eng.head is not None
    dense = eng.head._dense_coef
    assert dense is not None and dense.shape[1] == Blind.dim + expert.dim
    assert eng._layout.english is indexed  # the calibration's hidden rows are put back
    assert eng.search("my authenticator app needs a reset")[0].doc_id == "authenticator"
    assert eng.search("充值没有到账")[0].doc_id == "deposit"


def test_similarity_mixes_the_expert_for_english_pairs_only() -> None:
    use, expert = Blind(), Hashed(64)
    eng = SearchEngine(embedder=use, english=expert)
    a, b = "reset my authenticator", "reset authenticator please"
    expected = 0.5 * float(use.encode([a])[0] @ use.encode([b])[0]) + 0.5 * float(
        expert.encode([a])[0] @ expert.encode([b])[0])
    assert eng.similarity(a, b) == pytest.approx(expected, abs=1e-6)
    zh = "充值未到账"
    assert eng.similarity(zh, "充币没到账") == pytest.approx(
        float(use.encode([zh])[0] @ use.encode(["充币没到账"])[0]), abs=1e-6)


def _minilm() -> en.MiniLmEmbedder:
    model = en.default_english_embedder()
    if not isinstance(model, en.MiniLmEmbedder):
        pytest.skip("MiniLM packages not installed")
    return model


def test_minilm_vectors_are_unit_length_and_rank_paraphrases_first() -> None:
    model = _minilm()
    vecs = model.encode(["How do I reset my password?", "I forgot my password",
                         "My card was stolen"])
    assert vecs.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2


def test_minilm_does_not_pad_short_texts() -> None:
    # The shipped tokenizer file pads to 128 tokens: 10x slower and a diluted mean.
    model = _minilm()
    assert len(model._tokenizer.encode("hello").ids) == 3  # [CLS] hello [SEP]
    single = model.encode(["where is my withdrawal"])[0]
    batch = model.encode(["where is my withdrawal", "a much longer question " * 20])[0]
    np.testing.assert_allclose(single, batch, atol=1e-5)
