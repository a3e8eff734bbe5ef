"""Address encodings and their checksums: base58check, bech32/bech32m, EIP-55.

Pure functions, no I/O. Decoders return None for anything that does not verify, so a
caller can tell "not this format" from "this format with a bad checksum" by trying the
shape first (see `kefu.triage.chain.extract`).
"""

from __future__ import annotations

import hashlib

from Crypto.Hash import keccak

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58)}
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(BECH32_CHARSET)}
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def _checksum4(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def b58encode_check(payload: bytes) -> str:
    """Base58check: payload + 4 bytes of double-SHA256, leading zero bytes as '1'."""
    raw = payload + _checksum4(payload)
    number = int.from_bytes(raw, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = B58[digit] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def b58decode_check(text: str) -> bytes | None:
    """The payload of a base58check string, or None when it does not verify."""
    if not text or len(text) > 120:
        return None
    number = 0
    for ch in text:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5 or _checksum4(raw[:-4]) != raw[-4:]:
        return None
    return raw[:-4]


def _polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def convertbits(data: bytes | list[int], frombits: int, tobits: int, *, pad: bool
                ) -> list[int] | None:
    """Regroup bits (8 -> 5 to encode, 5 -> 8 to decode); None when padding is invalid."""
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad and bits:
        out.append((acc << (tobits - bits)) & maxv)
    elif not pad and (bits >= frombits or (acc << (tobits - bits)) & maxv):
        return None
    return out


def bech32_encode(hrp: str, data: list[int], const: int) -> str:
    values = _hrp_expand(hrp) + data
    polymod = _polymod(values + [0] * 6) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def bech32_decode(text: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, constant) of a valid bech32/bech32m string."""
    if len(text) > 90 or (text.lower() != text and text.upper() != text):
        return None
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        return None
    hrp = text[:pos]
    try:
        data = [_BECH32_INDEX[c] for c in text[pos + 1:]]
    except KeyError:
        return None
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        return None
    return hrp, data[:-6], const


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    """A SegWit address: bech32 for version 0, bech32m for 1..16 (BIP-173, BIP-350)."""
    five = convertbits(program, 8, 5, pad=True)
    assert five is not None  # bytes always regroup
    return bech32_encode(hrp, [version, *five],
                         BECH32_CONST if version == 0 else BECH32M_CONST)


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes] | None:
    """(witness version, program) of a valid SegWit address for `hrp`, or None."""
    decoded = bech32_decode(text)
    if decoded is None or decoded[0] != hrp or not decoded[1]:
        return None
    _, data, const = decoded
    version = data[0]
    program = convertbits(data[1:], 5, 8, pad=False)
    if program is None or version > 16 or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    if (version == 0) != (const == BECH32_CONST):
        return None
    return version, bytes(program)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def to_checksum_address(hex40: str) -> str:
    """EIP-55 mixed-case form of a 40-hex-digit address (with or without 0x)."""
    lower = hex40.lower().removeprefix("0x")
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c
                          for i, c in enumerate(lower))


def eip55_status(address: str) -> bool | None:
    """True: mixed case and the EIP-55 checksum holds; False: mixed case and it fails;
    None: all one case, which carries no checksum (valid but unchecked)."""
    body = address.removeprefix("0x").removeprefix("0X")
    if body.lower() == body or body.upper() == body:
        return None
    return to_checksum_address(body) == "0x" + body
