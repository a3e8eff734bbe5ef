import time

import pytest
from search_kb import ARTICLES, model_installed, shared_engine

from kefu.kb.search.engine import SearchEngine


@pytest.fixture
def engine() -> SearchEngine:
    return shared_engine()


@pytest.fixture
def has_model() -> bool:
    return model_installed()


def top(engine: SearchEngine, query: str, **kw: object) -> tuple[str, str]:
    hits = engine.search(query, **kw)  # type: ignore[arg-type]
    assert hits, query
    return hits[0].doc_id, hits[0].lang


def test_zh_query_finds_zh_version(engine: SearchEngine) -> None:
    assert top(engine, "谷歌验证器丢失了") == ("2fa-reset", "zh")
    assert top(engine, "充值一直没有到账") == ("deposit-missing", "zh")
    assert top(engine, "实名认证要什么证件") == ("kyc", "zh")


def test_en_query_finds_en_version(engine: SearchEngine) -> None:
    assert top(engine, "lost my authenticator phone") == ("2fa-reset", "en")
    assert top(engine, "withdrawal fee too high") == ("withdraw-fee", "en")
    assert top(engine, "my deposit is missing") == ("deposit-missing", "en")


def test_lang_parameter_picks_version(engine: SearchEngine) -> None:
    assert top(engine, "reset 2FA", lang="zh") == ("2fa-reset", "zh")


def test_cross_lingual_with_dense_model(engine: SearchEngine, has_model: bool) -> None:
    if not has_model:
        pytest.skip("multilingual model not installed")
    # Only an English version exists, and vice versa.
    assert top(engine, "如何创建子账户") == ("sub-account", "en")
    assert top(engine, "what is the funding rate") == ("funding-rate", "zh")


def test_snippet_marks_and_escapes_html(engine: SearchEngine) -> None:
    hit = engine.search("2FA reset request", lang="en")[0]
    assert hit.doc_id == "2fa-reset"
    assert "<mark>" in hit.snippet
    assert "<b>" not in hit.snippet and "&lt;b&gt;" in hit.snippet
    assert "&amp;" in hit.snippet
    zh = engine.search("谷歌验证器")[0]
    assert "<mark>谷歌验证器</mark>" in zh.snippet


@pytest.mark.parametrize(
    "query",
    ["", "   ", "🙂🚀🔥", "x" * 10_000, "谷歌验证器 reset 充值 deposit",
     "'; DROP TABLE articles; --", "<script>alert(1)</script> deposit",
     "\x00\x01\u202e", "?" * 500],
)
def test_bad_input_never_raises_or_stalls(engine: SearchEngine, query: str) -> None:
    start = time.perf_counter()
    ans = engine.answer(query)
    assert time.perf_counter() - start < 2.0
    assert 0.0 <= ans.confidence <= 1.0
    for hit in ans.hits:
        assert "<script>" not in hit.snippet


def test_empty_and_emoji_queries_are_empty(engine: SearchEngine) -> None:
    assert engine.search("") == []
    assert engine.answer("🙂🚀").declined


def test_add_remove_document() -> None:
    eng = SearchEngine(use_model=False)
    assert eng.search("deposit") == []
    for doc_id, lang, title, body, questions in ARTICLES:
        eng.add_document(doc_id, lang=lang, title=title, body=body, questions=questions)
    assert top(eng, "deposit not arrived")[0] == "deposit-missing"
    assert eng.remove_document("deposit-missing", lang="en")
    assert top(eng, "usdt", lang="en") == ("deposit-missing", "zh")
    assert eng.remove_document("deposit-missing")
    assert not eng.remove_document("deposit-missing")
    assert all(h.doc_id != "deposit-missing" for h in eng.search("deposit 充值"))


def test_fit_head_learns_and_declines_out_of_scope(has_model: bool) -> None:
    eng = SearchEngine() if has_model else SearchEngine(use_model=False)
    for doc_id, lang, title, body, questions in ARTICLES:
        eng.add_document(doc_id, lang=lang, title=title, body=body, questions=questions)
    labelled = [(q, d) for d, _, _, _, qs in ARTICLES for q in qs] * 3
    labelled += [("what's the weather in Paris", "oos"), ("tell me a joke", "oos")] * 10
    report = eng.fit_head(labelled)
    assert report["fitted"]
    ans = eng.answer("怎么重置谷歌验证器")
    assert ans.hits[0].doc_id == "2fa-reset"
    assert 0.0 <= ans.confidence <= 1.0
    assert ans.confidence > eng.answer("what's the weather in Paris").confidence


def test_similarity_is_symmetric(engine: SearchEngine) -> None:
    a, b = "充值未到账", "充币一直没到账"
    assert engine.similarity(a, b) == pytest.approx(engine.similarity(b, a), abs=1e-5)
    assert engine.similarity(a, b) > engine.similarity(a, "如何创建子账户")

