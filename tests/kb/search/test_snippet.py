from kefu.kb.search.snippet import make_snippet, query_terms


def test_inflected_words_are_marked_like_their_stems() -> None:
    text = "Cards topped up. The policies on supplies: a topic; withdrawals are verified."
    snippet = make_snippet(text, "card top up policy supply withdrawal verify")
    for word in ("Cards", "topped", "policies", "supplies", "withdrawals", "verified"):
        assert f"<mark>{word}</mark>" in snippet
    # Starting like a query stem is not enough: "topic" does not stem to "top".
    assert "<mark>topic</mark>" not in snippet


def test_terms_worked_out_once_give_the_same_snippet() -> None:
    text = "充值未到账？Deposit not credited after 3 confirmations. 请检查网络。"
    for query in ("充值没到账", "deposit credited", "2fa", "!!!"):
        assert make_snippet(text, query_terms(query)) == make_snippet(text, query)


def test_only_ascii_letters_make_words() -> None:
    # Under IGNORECASE the Kelvin sign would match "k"; words are ASCII runs only.
    snippet = make_snippet("\u212aYC and KYC", "kyc")
    assert snippet == "\u212aYC and <mark>KYC</mark>"


def test_one_and_two_character_terms_mark_whole_words_only() -> None:
    text = "Send 5 USDT on TRC20, not 50; ID 7b is 7 bytes, go to OK page."
    snippet = make_snippet(text, "5 usdt ok 7b")
    for word in ("5", "USDT", "OK", "7b"):
        assert f"<mark>{word}</mark>" in snippet
    assert "<mark>50</mark>" not in snippet and "<mark>7</mark>" not in snippet
    assert make_snippet("ok okay", "ok") == "<mark>ok</mark> okay"
