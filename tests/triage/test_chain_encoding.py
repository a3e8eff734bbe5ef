"""Address encodings and checksums: round trips, published vectors, every typo caught."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.triage.chain.encoding import (
    B58,
    BECH32_CHARSET,
    b58decode_check,
    b58encode_check,
    eip55_status,
    segwit_decode,
    segwit_encode,
    to_checksum_address,
)

payloads = st.binary(min_size=1, max_size=40)


@given(payloads)
def test_base58check_round_trips(payload: bytes) -> None:
    assert b58decode_check(b58encode_check(payload)) == payload


@given(st.binary(min_size=20, max_size=20), st.sampled_from([0x00, 0x05, 0x41]),
       st.data())
def test_base58check_catches_a_changed_character(body: bytes, version: int,
                                                 data: st.DataObject) -> None:
    text = b58encode_check(bytes([version]) + body)
    i = data.draw(st.integers(0, len(text) - 1))
    other = data.draw(st.sampled_from([c for c in B58 if c != text[i]]))
    changed = text[:i] + other + text[i + 1:]
    assert b58decode_check(changed) != bytes([version]) + body


@given(st.sampled_from([(0, 20), (0, 32), (1, 32)]), st.data())
def test_segwit_round_trips_and_catches_a_typo(shape: tuple[int, int],
                                               data: st.DataObject) -> None:
    version, size = shape
    program = data.draw(st.binary(min_size=size, max_size=size))
    address = segwit_encode("bc", version, program)
    assert address.startswith("bc1q" if version == 0 else "bc1p")
    assert segwit_decode("bc", address) == (version, program)
    assert segwit_decode("bc", address.upper()) == (version, program)
    i = data.draw(st.integers(4, len(address) - 1))
    other = data.draw(st.sampled_from([c for c in BECH32_CHARSET if c != address[i]]))
    assert segwit_decode("bc", address[:i] + other + address[i + 1:]) is None


def test_bech32_and_bech32m_are_not_interchangeable() -> None:
    # A version-1 program with a bech32 (not bech32m) checksum is refused (BIP-350).
    from kefu.triage.chain.encoding import BECH32_CONST, bech32_encode, convertbits

    five = convertbits(bytes(32), 8, 5, pad=True)
    assert five is not None
    assert segwit_decode("bc", bech32_encode("bc", [1, *five], BECH32_CONST)) is None


@given(st.binary(min_size=20, max_size=20), st.data())
def test_eip55_round_trips_and_catches_a_flipped_case(body: bytes, data: st.DataObject) -> None:
    address = to_checksum_address(body.hex())
    assert eip55_status(address) is (None if address[2:].lower() == address[2:] or
                                     address[2:].upper() == address[2:] else True)
    assert eip55_status(address.lower()) is None  # one case carries no checksum
    letters = [i for i, c in enumerate(address) if i > 1 and c.isalpha()]
    if len(letters) >= 2:
        i = data.draw(st.sampled_from(letters))
        flipped = address[:i] + address[i].swapcase() + address[i + 1:]
        if flipped[2:].lower() != flipped[2:] and flipped[2:].upper() != flipped[2:]:
            assert eip55_status(flipped) is False


@pytest.mark.parametrize("address", [  # the examples in EIP-55 itself
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
])
def test_published_eip55_vectors(address: str) -> None:
    assert eip55_status(address) is True
    assert to_checksum_address(address.lower()) == address


def test_published_bitcoin_and_tron_vectors() -> None:
    assert segwit_encode("bc", 0, bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")) \
        == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173
    assert segwit_decode(
        "bc", "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297") is not None
    tron = b58decode_check("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")  # USDT's TRC20 contract
    assert tron is not None and tron[0] == 0x41 and len(tron) == 21
    assert b58decode_check("1BoatSLRHtKNngkdXEeobR76b53LETtpyT") is not None
