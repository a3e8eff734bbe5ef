from kefu.kb.search.text import (
    MAX_QUERY_CHARS,
    char_features,
    char_ngrams,
    detect_lang,
    features,
    normalize,
    stem,
    trim,
    word_features,
    words,
)


def test_userdict_keeps_exchange_terms_whole() -> None:
    toks = words(normalize("我的谷歌验证器丢了，提币失败，还要实名认证"))
    assert "谷歌验证器" in toks
    assert "提币失败" in toks
    assert "实名认证" in toks
    assert "器" not in toks


def test_english_words_are_stemmed_and_stopwords_dropped() -> None:
    assert words(normalize("My withdrawals were cancelled")) == ["withdrawal", "cancel"]
    assert stem("verified") == "verify"
    assert stem("cards") == "card"


def test_detect_lang() -> None:
    assert detect_lang("how do I reset 2FA") == "en"
    assert detect_lang("充值未到账怎么办") == "zh"
    assert detect_lang("谷歌验证器 not working on my phone") == "zh"
    assert detect_lang("🙂🙂") == "en"


def test_normalize_nfkc_lower_and_capped() -> None:
    assert normalize("  ＵＳＤＴ　Deposit ") == "usdt deposit"
    assert len(normalize("x" * 20_000)) == MAX_QUERY_CHARS


def test_char_ngrams_give_typo_overlap() -> None:
    a, b = set(char_ngrams("withdrawal")), set(char_ngrams("withdrawl"))
    assert len(a & b) / len(a | b) > 0.4
    assert "充值" in char_ngrams("充值")


def test_features_mix_words_bigrams_and_grams() -> None:
    assert word_features("Card arrival") == ["card", "arrival", "card arrival"]
    assert "car" in char_features("Card arrival")
    feats = features("Card arrival")
    assert "w:card arrival" in feats and "#car" in feats


def test_trim_keeps_case_and_punctuation_and_caps_length() -> None:
    assert trim("  Reset   my 2FA?\n\tPlease ") == "Reset my 2FA? Please"
    assert len(trim("word " * 1000)) == MAX_QUERY_CHARS
    assert trim(" \u3000 ") == ""
