"""Facts found in support text: each format, its checksum, and the mismatch flags."""

import random

from hypothesis import example, given
from hypothesis import strategies as st

from kefu.triage.chain.encoding import B58, b58encode_check, segwit_encode, to_checksum_address
from kefu.triage.chain.extract import Fact, extract_facts, flags_for, searchable

body20 = st.binary(min_size=20, max_size=20)
hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)


def _addresses(text: str) -> list[Fact]:
    return [f for f in extract_facts(text).facts if f.kind == "address"]


def _flag_codes(text: str) -> set[str]:
    return {f.code for f in extract_facts(text).flags}


@given(body20)
def test_evm_address_with_its_checksum(body: bytes) -> None:
    address = to_checksum_address(body.hex())
    one_case = address[2:] in (address[2:].lower(), address[2:].upper())
    assert _addresses(f"sent to {address} on ERC20") == [
        Fact("address", address, "evm", None if one_case else True)]


@given(body20, st.sampled_from([(0x41, "tron", "TRC20"), (0x00, "btc", "BTC"),
                                (0x05, "btc", "Bitcoin")]))
def test_base58check_addresses_and_a_typo(body: bytes, kind: tuple[int, str, str]) -> None:
    version, chain, network = kind
    address = b58encode_check(bytes([version]) + body)
    expected = [Fact("address", address, chain, True)]
    assert _addresses(f"提币到 {address}（{network}）没到") == expected
    i = len(address) // 2
    typo = address[:i] + next(c for c in B58 if c != address[i]) + address[i + 1:]
    facts = _addresses(f"withdrawal to {typo} via {network}")
    assert facts == [Fact("address", typo, chain, False)]
    assert "bad_checksum" in _flag_codes(f"withdrawal to {typo} via {network}")


@given(st.sampled_from([(0, 20), (0, 32), (1, 32)]), st.data())
def test_segwit_addresses(shape: tuple[int, int], data: st.DataObject) -> None:
    version, size = shape
    address = segwit_encode("bc", version, data.draw(st.binary(min_size=size, max_size=size)))
    assert _addresses(f"BTC withdrawal to {address} missing") == [
        Fact("address", address, "btc", True)]
    typo = address[:-1] + ("q" if address[-1] != "q" else "p")
    assert _addresses(f"to {typo}") == [Fact("address", typo, "btc", False)]


@given(hex32, st.sampled_from([("TRC20", "tron"), ("比特币", "btc"), ("ERC20", "evm")]))
def test_txids_take_the_chain_the_text_names(digits: str, named: tuple[str, str]) -> None:
    network, chain = named
    evm = extract_facts(f"deposit 0x{digits.upper()} on {network}").values("txid")
    assert evm == ["0x" + digits]  # the EVM form, lower case
    bare = [f for f in extract_facts(f"{network} 充值没到账 {digits}").facts if f.kind == "txid"]
    assert bare == [Fact("txid", digits, chain)]


def test_solana_signatures() -> None:
    rng = random.Random(4)
    signature = "".join(rng.choice(B58) for _ in range(88))
    assert extract_facts(f"SOL deposit {signature}").values("txid") == [signature]


def test_labelled_values_amounts_networks_and_coins() -> None:
    text = ("UID: 12345678. I deposited 1,250.50 USDT via TRC20, memo 889911, order id "
            "W2024120612345, amount 0.5 ETH too")
    facts = extract_facts(text)
    assert facts.values("uid") == ["12345678"]
    assert facts.values("memo") == ["889911"]
    assert facts.values("order_id") == ["W2024120612345"]
    assert facts.values("amount") == ["1,250.50 USDT", "0.5 ETH"]
    assert facts.values("network") == ["TRC20"]
    assert set(facts.values("coin")) == {"USDT", "ETH"}
    zh = extract_facts("订单号：D20241206001，提现 300 USDT，标签：12345")
    assert zh.values("order_id") == ["D20241206001"] and zh.values("memo") == ["12345"]


def test_words_are_not_values() -> None:
    facts = extract_facts("my memo is missing and the order was cancelled; the button broke")
    assert not facts.values("memo") and not facts.values("order_id")
    assert not facts.values("network")  # "button" holds no TON


@given(body20)
@example(b"\x0bO" + bytes(18))  # "TB115…": a TRON address that opens like testnet bech32
def test_a_tron_address_on_erc20_is_flagged(body: bytes) -> None:
    address = b58encode_check(b"\x41" + body)
    facts = extract_facts(f"I withdrew USDT on ERC20 to {address}")
    assert [(f.code, f.subject, f.detail) for f in facts.flags] == [
        ("network_mismatch", address, "ERC20")]
    assert not extract_facts(f"I withdrew USDT on TRC20 to {address}").flags


def test_an_evm_address_on_trc20_and_an_evm_hash_on_tron_are_flagged() -> None:
    address = to_checksum_address("11" * 20)
    assert _flag_codes(f"sent USDT TRC20 to {address}") == {"network_mismatch"}
    assert _flag_codes(f"TRC20 deposit 0x{'ab' * 32}") == {"txid_network_mismatch"}


def test_a_memo_coin_without_a_memo_is_flagged_and_a_memo_clears_it() -> None:
    assert _flag_codes("deposited 500 XRP, not credited") == {"missing_memo"}
    assert _flag_codes("deposited 500 XRP, tag 1234567, not credited") == set()
    first = extract_facts("deposited 500 XRP, not credited")
    later = extract_facts("sorry, the destination tag is 1234567")
    assert flags_for([*first.facts, *later.facts]) == []


def test_the_form_field_is_a_txid_or_an_order_id() -> None:
    assert extract_facts("deposit missing", txid_field="W123456789").values("order_id") == [
        "W123456789"]
    digits = "cd" * 32
    facts = extract_facts("deposit missing", txid_field=digits)
    assert facts.values("txid") == [digits] and not facts.values("order_id")


@given(st.text(max_size=300))
def test_any_text_is_read_without_error(text: str) -> None:
    extract_facts(text)


def test_search_form_is_case_blind_for_hex_only() -> None:
    assert searchable("0xABcd") == "0xabcd" and searchable("AB" * 32) == "ab" * 32
    assert searchable("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t") == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
