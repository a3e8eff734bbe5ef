"""lookalike.py and verify_claim: normalisation, look-alike detection, bounded cost."""

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.security.lookalike import (
    MAX_INPUT,
    InputKind,
    edit_distance,
    normalise_claim,
)
from kefu.security.verify import (
    ChannelKind,
    OfficialEntry,
    Registry,
    canonical_value,
    verify_claim,
)

DEMO = [
    (ChannelKind.WEB_DOMAIN, "kefu.example"),
    (ChannelKind.EMAIL_ADDRESS, "support@kefu.example"),
    (ChannelKind.TELEGRAM, "@KefuExchange"),
    (ChannelKind.X, "@KefuExchange"),
    (ChannelKind.PHONE, "+852 2345 6789"),
    (ChannelKind.AGENT_ID, "KF-0042"),
]
REGISTRY = Registry(tuple(OfficialEntry(k, *canonical_value(k, v)) for k, v in DEMO))


@pytest.mark.parametrize(("raw", "kind", "value"), [
    ("HTTPS://WWW.Kefu.Example/login?x=1#y", InputKind.DOMAIN, "kefu.example"),
    ("kefu.example.", InputKind.DOMAIN, "kefu.example"),
    ("ｋｅｆｕ．ｅｘａｍｐｌｅ", InputKind.DOMAIN, "kefu.example"),  # full-width
    ("ke\u200bfu.example", InputKind.DOMAIN, "kefu.example"),  # zero-width space
    ("xn--kfu-rdd.example", InputKind.DOMAIN, "xn--kfu-rdd.example"),
    ("kеfu.example", InputKind.DOMAIN, "xn--kfu-rdd.example"),  # Cyrillic е
    (" Support@Kefu.Example ", InputKind.EMAIL, "support@kefu.example"),
    ("@KefuExchange", InputKind.HANDLE, "kefuexchange"),
    ("https://t.me/KefuExchange", InputKind.HANDLE, "kefuexchange"),
    ("https://x.com/@KefuExchange/status/1", InputKind.HANDLE, "kefuexchange"),
    ("+852 2345-6789", InputKind.PHONE, "+85223456789"),
    ("00852 2345 6789", InputKind.PHONE, "+85223456789"),
    ("javascript:alert(1)", InputKind.INVALID, ""),
    ("", InputKind.INVALID, ""),
    ("a" * (MAX_INPUT + 1), InputKind.INVALID, ""),
])
def test_normalise(raw: str, kind: InputKind, value: str) -> None:
    claim = normalise_claim(raw)
    assert (claim.kind, claim.value) == (kind, value)


@pytest.mark.parametrize("raw", [
    "kefu.example", "https://help.kefu.example/x", "support@kefu.example", "@kefuexchange",
    "https://twitter.com/KefuExchange", "+85223456789", "2345 6789", "kf-0042",
])
def test_official(raw: str) -> None:
    result = verify_claim(raw, REGISTRY)
    assert result.verdict == "official", result
    assert result.warnings == ()


@pytest.mark.parametrize(("raw", "code"), [
    ("kеfu.example", "homoglyph"),  # Cyrillic е
    ("xn--kfu-rdd.example", "homoglyph"),
    ("k3fu.example", "homoglyph"),
    ("kefú.example", "homoglyph"),
    ("kefv.example", "typosquat"),
    ("kfeu.example", "typosquat"),  # transposition
    ("kefu.com", "other_tld"),
    ("kefu.com.hk", "other_tld"),
    ("kefu-support.com", "brand_in_name"),
    ("kefuexchange-help.net", "brand_in_name"),
    ("kefu.example.evil.com", "subdomain_trick"),
    ("kefu.help-desk.com", "subdomain_trick"),
    ("https://kefu.example@evil.com/login", "userinfo"),
    ("support@kefu-help.com", "brand_in_name"),
    ("help@kefu.example", "unlisted_address"),
    ("@KefuExchange_support", "handle_lookalike"),
    ("@KefuExchange1", "handle_lookalike"),
    ("@Kefu_Exchange", "handle_lookalike"),
    ("@KefuExchnage", "handle_lookalike"),
    ("@K3fuExchange", "handle_lookalike"),
    ("https://t.me/kefu_support", "brand_in_name"),
    ("+852 2345 6780", "phone_near"),
])
def test_lookalikes(raw: str, code: str) -> None:
    result = verify_claim(raw, REGISTRY)
    assert not result.official
    assert result.verdict == "lookalike"
    assert code in {w.code for w in result.warnings}, result.warnings


@pytest.mark.parametrize("raw", ["google.com", "@elonmusk", "+1 212 555 0100", "okx.com",
                                 "someone@gmail.com"])
def test_unrelated_is_plainly_not_official(raw: str) -> None:
    assert verify_claim(raw, REGISTRY).verdict == "not_official"


def test_empty_registry_never_claims_official() -> None:
    assert verify_claim("kefu.example", Registry()).verdict == "not_official"


def test_canonical_value_refuses_the_wrong_kind() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        canonical_value(ChannelKind.WEB_DOMAIN, "@KefuExchange")
    with pytest.raises(ValueError, match="country code"):
        canonical_value(ChannelKind.PHONE, "2345 6789")


def test_worst_case_input_is_fast() -> None:
    nasty = ["a-" * 250, "." * MAX_INPUT, "@" + "a" * 500, "1" * MAX_INPUT,
             ("xn--" + "a" * 59 + ".") * 8, "k" * 63 + "." + "e" * 63 + ".com"]
    started = time.perf_counter()
    for raw in nasty:
        verify_claim(raw, REGISTRY)
    assert time.perf_counter() - started < 0.5


@given(st.text(max_size=MAX_INPUT + 50))
def test_any_text_gets_an_answer(raw: str) -> None:
    result = verify_claim(raw, REGISTRY)
    assert result.verdict in {"official", "lookalike", "not_official", "invalid"}
    assert len(result.warnings) <= 5


@given(prefix=st.sampled_from(["", "www.", "help.", "https://", "http://www.", "HTTPS://App."]),
       suffix=st.sampled_from(["", "/", "/login?next=/x", ".", ":443/a"]),
       upper=st.lists(st.booleans(), min_size=12, max_size=12))
def test_official_domain_in_any_dress_is_official(prefix: str, suffix: str,
                                                  upper: list[bool]) -> None:
    host = "".join(c.upper() if u else c for c, u in zip("kefu.example", upper, strict=True))
    if suffix == "." and prefix.startswith("http"):
        suffix = ""
    assert verify_claim(prefix + host + suffix, REGISTRY).official


HOMOGLYPHS = {"k": ["к", "κ"], "e": ["е", "ε", "3"], "u": ["υ", "ս"]}


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2)), min_size=4, max_size=4))
def test_homoglyph_swaps_are_never_official(choices: list[tuple[bool, int]]) -> None:
    label = ""
    for ch, (swap, pick) in zip("kefu", choices, strict=True):
        options = HOMOGLYPHS.get(ch)
        label += options[pick % len(options)] if swap and options else ch
    result = verify_claim(f"{label}.example", REGISTRY)
    if label == "kefu":
        assert result.official
    else:
        assert result.verdict == "lookalike"


@given(st.text(max_size=40), st.text(max_size=40))
def test_edit_distance_is_symmetric_and_bounded(a: str, b: str) -> None:
    d = edit_distance(a, b, limit=100)
    assert d == edit_distance(b, a, limit=100)
    assert (d == 0) == (a == b)
    assert d <= max(len(a), len(b))


@given(st.text(min_size=1, max_size=30), st.characters())
def test_one_insertion_is_distance_one(a: str, extra: str) -> None:
    assert edit_distance(a, a + extra) == 1
