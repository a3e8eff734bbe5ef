"""Secret guard: masking of seed phrases, keys, API secrets, passwords, 2FA codes, cards."""

from __future__ import annotations

import random
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.security.guard import MASKS, GuardResult, mask_secrets, warning_for
from kefu.security.guard_samples import (
    SEED_LANGS,
    STRENGTHS,
    mnemonic_words,
    seed_evasions,
    seed_sample,
    wif,
    xprv_from_seed,
)
from kefu.security.seed_phrase import english_seed_spans

ABANDON_12 = "abandon " * 11 + "about"  # the BIP-39 test vector (valid checksum)


def only_kind(result: GuardResult, kind: str) -> None:
    assert result.kinds == {kind}, result


def test_plain_english_seed_is_masked_whole() -> None:
    result = mask_secrets(f"my seed is {ABANDON_12} pls help")
    only_kind(result, "seed_phrase")
    assert result.text == f"my seed is {MASKS['seed_phrase']} pls help"
    assert result.severe


@pytest.mark.parametrize(
    "layout",
    [
        "1. {w} ",
        "{w}, ",
        "{w}\n",
        "{w}、",
    ],
)
def test_seed_layouts(layout: str) -> None:
    words = ABANDON_12.split()
    text = "words: " + "".join(layout.format(w=w) for w in words)
    result = mask_secrets(text)
    only_kind(result, "seed_phrase")
    assert "abandon" not in result.text and "about" not in result.text


def test_numbered_with_circled_digits_and_homoglyphs() -> None:
    circled = [chr(0x2460 + i) for i in range(12)]
    words = ["аbаndоn"] * 11 + ["аbоut"]  # Cyrillic а/о
    text = " ".join(f"{c}{w}" for c, w in zip(circled, words, strict=True))
    only_kind(mask_secrets(text), "seed_phrase")


def test_fullwidth_and_zero_width() -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in ABANDON_12)
    only_kind(mask_secrets(fullwidth), "seed_phrase")
    zero_width = ABANDON_12.replace("aban", "ab\u200ban").replace(" ", "\u2060")
    result = mask_secrets(zero_width)
    only_kind(result, "seed_phrase")
    assert result.text == MASKS["seed_phrase"]


def test_mistyped_seed_without_checksum_is_still_masked() -> None:
    text = "seed: " + " ".join(["zoo"] * 12)
    only_kind(mask_secrets(text), "seed_phrase")


def test_eleven_words_are_not_a_seed() -> None:
    assert not mask_secrets("abandon " * 10 + "about").masked


def test_chinese_seed_no_spaces_and_spaced() -> None:
    rng = random.Random(3)
    for lang in ("chinese_simplified", "chinese_traditional"):
        words = mnemonic_words(lang, 128, rng)
        for text in (f"我的助记词是{''.join(words)}，帮我看看", " ".join(words)):
            result = mask_secrets(text)
            only_kind(result, "seed_phrase")
            assert "".join(words) not in result.text.replace(" ", "")


@pytest.mark.parametrize(
    "text",
    [
        "我的花呗还款日是几号，为什么我的额度突然降低了",
        "I am still waiting on my card, it has been two weeks and nothing arrived.",
        "Can you help me? I would like to know about the exchange rate for my transfer today.",
        "My deposit of 0.5 BTC has not arrived. TxID: "
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
        "交易哈希 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 还没到账",
        "send to 0x52908400098527886E0F7030069857D2E4169EE7 please",
        "BTC address bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq and "
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        "order id 4111111111111111 was cancelled",
        "my password is not working",
        "I forgot my password, how do I reset it?",
        "密码错误怎么办",
        "验证码收不到，已经等了5分钟",
        "my 2FA code does not work",
        "please call me at 13800138000",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    result = mask_secrets(text)
    assert not result.masked, result
    assert result.text is text


def test_private_keys() -> None:
    rng = random.Random(5)
    key = rng.randbytes(32)
    xprv = xprv_from_seed(rng.randbytes(64))
    for secret in (key.hex(), "0x" + key.hex(), wif(key, compressed=True),
                   wif(key, compressed=False), xprv):
        result = mask_secrets(f"my key: {secret} thanks")
        only_kind(result, "private_key")
        assert secret not in result.text
        assert result.text == f"my key: {MASKS['private_key']} thanks"


def test_hex_labelled_as_key_beats_tx_word_further_away() -> None:
    hex_key = "ab" * 32
    only_kind(mask_secrets(f"not the txid, this is my private key {hex_key}"), "private_key")


def test_bad_wif_checksum_is_not_a_key() -> None:
    assert not mask_secrets("5" + "H" * 50).masked


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("API Key: vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "vmPUZE6mv9"),
        ("secret = NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", "NhqPtmd"),
        ("OKX secretkey: 3F1E2D4C5B6A79880F1E2D3C4B5A6978 passphrase: MyPass!23", "MyPass!23"),
        ("我的API密钥是 a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6", "a1b2c3d4"),
    ],
)
def test_api_secrets(text: str, secret: str) -> None:
    result = mask_secrets(text)
    assert "api_secret" in result.kinds
    assert secret not in result.text


@pytest.mark.parametrize(
    ("text", "kept", "kind"),
    [
        ("my password is hunter2", "my password is ", "password"),
        ("password: xxx", "password: ", "password"),
        ("密码是abc123", "密码是", "password"),
        ("密码：Qwe!2024，谢谢", "密码：", "password"),
        ("2FA code 123456", "2FA code ", "otp_code"),
        ("google authenticator code is 123 456", "google authenticator code is ", "otp_code"),
        ("验证码 123456", "验证码 ", "otp_code"),
        ("谷歌验证码：123456", "谷歌验证码：", "otp_code"),
        ("短信验证码是 654321", "短信验证码是 ", "otp_code"),
    ],
)
def test_password_and_otp_keep_the_words(text: str, kept: str, kind: str) -> None:
    result = mask_secrets(text)
    only_kind(result, kind)
    assert result.text.startswith(kept)
    assert result.text == kept + MASKS[kind] + text[result.findings[0].end :]
    assert not result.severe


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"]
)
def test_card_numbers(card: str) -> None:
    result = mask_secrets(f"I paid with card {card} yesterday")
    only_kind(result, "card_number")
    assert result.text == f"I paid with card {MASKS['card_number']} yesterday"


def test_card_needs_luhn_and_prefix() -> None:
    assert not mask_secrets("card 4111 1111 1111 1112").masked  # Luhn fails
    assert not mask_secrets("number 9111111111111111").masked  # no network prefix


def test_zero_width_inside_key_is_swallowed_by_the_mask() -> None:
    hex_key = "cd" * 16 + "\u200b" + "ef" * 16
    result = mask_secrets(f"key {hex_key} end")
    assert result.text == f"key {MASKS['private_key']} end"


def test_every_generated_seed_layout_is_caught() -> None:
    rng = random.Random(11)
    for lang in SEED_LANGS:
        for strength in STRENGTHS:
            for evasion in seed_evasions(lang):
                sample = seed_sample(lang, strength, evasion, rng)
                result = mask_secrets(sample.text)
                assert "seed_phrase" in result.kinds, sample
                for start, end in sample.spans:
                    assert any(f.start <= start and end <= f.end for f in result.findings)


def test_warning_texts() -> None:
    zh = warning_for(["seed_phrase", "password"], "zh-CN")
    assert "助记词" in zh and "新钱包" in zh and "修改密码" in zh
    en = warning_for({"otp_code"}, "en")
    assert "2FA" in en and "never ask" in en
    assert warning_for([], "en") == ""


# --- property tests ---------------------------------------------------------------

_FILLER = st.text(
    alphabet=st.sampled_from(list("abcdefghij klmnop 0123456789,.!?的是我你好请帮忙\n")),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=_FILLER,
    after=_FILLER,
    lang=st.sampled_from(SEED_LANGS),
    strength=st.sampled_from(STRENGTHS),
    evasion_pick=st.integers(min_value=0, max_value=20),
    rng_seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_mnemonic_anywhere_is_masked(
    before: str, after: str, lang: str, strength: int, evasion_pick: int, rng_seed: int
) -> None:
    rng = random.Random(rng_seed)
    evasions = seed_evasions(lang)
    sample = seed_sample(lang, strength, evasions[evasion_pick % len(evasions)], rng)
    offset = len(before) + 1
    text = before + " " + sample.text + " " + after
    result = mask_secrets(text)
    assert "seed_phrase" in result.kinds
    for start, end in sample.spans:
        assert any(f.start <= start + offset and end + offset <= f.end for f in result.findings)
    if lang == "english":
        # no seed word survives: what is left reads as fewer than 12 list words
        surviving = english_seed_spans(result.text.lower())
        assert surviving == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_secrets(text)
    assert mask_secrets(once.text).text == once.text


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(MASKS.values())), st.sampled_from(["", "password: ", "2FA code "]))
def test_masks_are_inert(mask: str, prefix: str) -> None:
    text = f"{prefix}{mask} and 123456"
    assert mask_secrets(text).text == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120))
def test_unmasked_text_comes_back_unchanged(text: str) -> None:
    result = mask_secrets(text)
    if not result.masked:
        assert result.text == text
    for f in result.findings:
        assert 0 <= f.start < f.end <= len(text)


# --- resource use -----------------------------------------------------------------

_ADVERSARIAL = [
    "a" * 100_000,
    "1" * 100_000,
    "1 " * 50_000,
    "4111 " * 20_000,
    "abandon " * 12_500,
    "abandonx " * 11_111,
    "0x" + "f" * 99_998,
    "password: " * 10_000,
    "password" * 12_500,
    "secret " * 14_285,
    "2FA code " * 11_111,
    "密码是" * 33_333,
    "验证码" * 33_333,
    "\u200b" * 100_000,
    "的" * 100_000,
    "的 " * 50_000,
    "xprv" * 25_000,
    "K" * 100_000,
    "a-" * 50_000,
    "a\u200b" * 50_000,
]


def _module_patterns() -> list[re.Pattern[str]]:
    from kefu.security import credentials, keys, seed_phrase

    # Patterns that scan whole inbound messages; `*_VALUE` ones are only ever anchored
    # at a label (re.match) and are checked that way below.
    patterns = [
        value
        for module in (credentials, keys, seed_phrase)
        for name, value in vars(module).items()
        if isinstance(value, re.Pattern) and not name.endswith("_VALUE")
    ]
    mask_secrets("的")  # builds the per-language character-class patterns
    return patterns + list(seed_phrase._RUN_PATTERNS.values())


@pytest.mark.parametrize("text", _ADVERSARIAL, ids=[t[:12] for t in _ADVERSARIAL])
def test_no_regex_is_slow_on_adversarial_input(text: str) -> None:
    """Every pattern, scanned over 100,000 adversarial characters, takes < 50 ms."""
    for pattern in _module_patterns():
        elapsed = min(_scan_seconds(pattern, text) for _ in range(3))  # best of 3: CI noise
        assert elapsed < 0.05, f"{pattern.pattern[:60]}: {elapsed * 1000:.1f} ms"


def _scan_seconds(pattern: re.Pattern[str], text: str) -> float:
    started = time.perf_counter()
    for _ in pattern.finditer(text):
        pass
    pattern.match(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("text", _ADVERSARIAL, ids=[t[:12] for t in _ADVERSARIAL])
def test_anchored_value_patterns_are_bounded(text: str) -> None:
    from kefu.security import credentials

    for pattern in (credentials._PASSWORD_VALUE, credentials._OTP_VALUE):
        started = time.perf_counter()
        for position in range(0, len(text), 100):
            pattern.match(text, position)
        assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize("text", _ADVERSARIAL, ids=[t[:12] for t in _ADVERSARIAL])
def test_masking_stays_linear_on_adversarial_input(text: str) -> None:
    """End to end (regexes plus Python post-processing) stays bounded on 100,000 chars."""
    mask_secrets(text)  # warm caches
    started = time.perf_counter()
    mask_secrets(text)
    assert time.perf_counter() - started < 1.0
