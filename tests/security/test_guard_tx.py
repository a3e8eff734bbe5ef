"""The guard tells a transaction hash from a private key by its context."""

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kefu.security.guard import MASKS, mask_secrets
from kefu.security.guard_eval import caught
from kefu.security.guard_samples import wif
from kefu.security.guard_tx_samples import (
    CHAINS,
    address,
    fresh_tx_messages,
    key_in_tx_context,
    tx_messages,
)
from kefu.security.keys import is_transaction_hash

hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)

TX_PHRASES = (
    "deposit not credited 0x{h} on ERC20",
    "我的提现一直没到 {h} 帮忙查一下",
    "My USDT deposit (TRC20) has not arrived.\n\n{h}\n\nplease check",
    "充值未到账\n{h}",
    "withdrawal to 0x52908400098527886E0F7030069857D2E4169EE7 missing, {h}",
    "see https://etherscan.io/tx/0x{h}",
    "从 TVWh95hNbixpEYvLRKxWNuzNgM7sK5oc65 转过来的为什么没显示？{h}",
)
KEY_PHRASES = (
    "{h}",
    "my private key {h}",
    "充值没到账，私钥是{h}",
    "deposit missing. private key:\n0x{h}",
    "{h} is my private key, the deposit did not arrive",
    "提现没到，钱包导出的是 {h}",
    "not the txid, this is my key {h}",
    "my wallet export shows {h}, is that the right one?",
    "USDT deposit missing, secret: {h}",
    "deposit not arrived, support on telegram told me to send this for verification: {h}",
    "提现没到账，对方说要同步钱包 {h}",
)


@given(hex64, st.sampled_from(TX_PHRASES))
def test_a_hash_in_transaction_context_is_kept(h: str, phrase: str) -> None:
    text = phrase.format(h=h)
    result = mask_secrets(text)
    assert not result.masked, result
    assert result.text is text


@given(hex64, st.sampled_from(KEY_PHRASES))
def test_a_hex_stated_as_a_key_or_without_context_stays_masked(h: str, phrase: str) -> None:
    result = mask_secrets(phrase.format(h=h))
    assert "private_key" in result.kinds
    assert h not in result.text
    assert MASKS["private_key"] in result.text


def test_a_key_and_a_hash_in_one_message_are_told_apart() -> None:
    rng = random.Random(3)
    key, tx = rng.randbytes(32).hex(), rng.randbytes(32).hex()
    text = f"充值没到账，交易哈希 0x{tx}\n另外我的私钥是 {key} 会不会有问题"
    result = mask_secrets(text)
    assert tx in result.text and key not in result.text
    assert result.kinds == {"private_key"} and result.severe


def test_the_nearest_label_decides() -> None:
    h = "ab" * 32
    text = f"hash key {h}"
    assert not is_transaction_hash(text, len("hash key "), len(text))
    text = f"private key? no: tx hash {h}"
    assert is_transaction_hash(text, len(text) - 64, len(text))


def test_a_label_inside_an_address_is_no_label() -> None:
    # "key" hidden in a base58 run must not turn the TxID next to it into a key.
    h = "cd" * 32
    text = f"deposit from T93key8xWvNnpLsDq8m2ZtRb7aG4cHfJk {h}"
    assert not mask_secrets(text).masked


def test_digits_inside_a_hash_or_an_id_are_no_2fa_code() -> None:
    for text in ("充USDT的时候忘记填MEMO了，哈希：e04e746387d938ab2fa34299d478a1acc71b2880fb62"
                 "e3f1c973756d8dbc170a", "提现 D02fa3429f1d856c 显示已完成"):
        assert not mask_secrets(text).masked, text
    assert mask_secrets("2fa 123456").kinds == {"otp_code"}  # a code on its own still is


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c.name)
def test_addresses_after_a_secret_word_are_public(chain: object) -> None:
    rng = random.Random(11)
    for _ in range(20):
        addr = address(chain, rng)  # type: ignore[arg-type]
        text = f"I sent the token to {addr} yesterday"
        if addr.startswith(("r", "UQ", "EQ")) or len(addr) in (43, 44):
            continue  # no checksum to tell these from a secret: judged as before
        assert not mask_secrets(text).masked, text


def test_a_wif_key_in_a_deposit_message_is_masked() -> None:
    key = wif(random.Random(2).randbytes(32), compressed=True)
    result = mask_secrets(f"deposit tx missing, wallet {key}")
    assert result.kinds == {"private_key"}


def test_generated_sets_meet_the_targets_on_a_fresh_seed() -> None:
    messages = tx_messages(seed=424242, per_template=20) + fresh_tx_messages(seed=424242)
    flagged = [m.text for m in messages if mask_secrets(m.text).masked]
    assert len(flagged) / len(messages) <= 0.005, flagged
    keys = key_in_tx_context(seed=424242, n=200)
    assert all(caught(s, mask_secrets(s.text)) for s in keys)


def test_messages_are_generated_from_the_seed() -> None:
    assert tx_messages(5, per_template=2) == tx_messages(5, per_template=2)
    assert tx_messages(5, per_template=2) != tx_messages(6, per_template=2)


def test_a_key_word_far_away_does_not_take_a_hash_with_context() -> None:
    rng = random.Random(21)
    tx, key = rng.randbytes(32).hex(), rng.randbytes(32).hex()
    text = (f"deposit not credited 0x{tx} on ERC20, sent 250 USDT yesterday\n"
            f"support asked for my wallet, my private key is {key}")
    result = mask_secrets(text)
    assert tx in result.text and key not in result.text


@given(hex64, hex64, st.sampled_from(["\n", "，", " and ", ". "]))
def test_a_label_that_introduces_the_next_value_is_not_about_the_hash(
        tx: str, key: str, joint: str) -> None:
    assume(tx != key)
    result = mask_secrets(f"我的提现一直没到 {tx} 帮忙查一下{joint}我的私钥是 0x{key}")
    assert tx in result.text and key not in result.text
    assert "private_key" in mask_secrets(f"{tx} is my private key").kinds


@given(hex64, st.sampled_from(["Ripple", "波场", "TON", "以太坊", "Polygon", "Solana"]))
def test_a_network_name_alone_is_context(h: str, network: str) -> None:
    assert not mask_secrets(f"{h} <- this one. {network}. pls fix").masked
