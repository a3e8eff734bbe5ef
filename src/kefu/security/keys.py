"""Private keys (extended keys, WIF, raw hex) and exchange API secrets.

Spans are in normalised coordinates. Addresses (0x + 40 hex, base58/bech32 addresses)
are public and never matched; a 64-hex string labelled as a transaction hash is left
alone because traders must quote TxIDs for deposit problems.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

Span = tuple[int, int]

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}

# xprv/yprv/zprv/tprv/uprv/vprv and the multisig Yprv/Zprv/Uprv/Vprv: 111 base58 chars.
_EXTENDED = re.compile(r"(?<![1-9A-HJ-NP-Za-km-z])[xyztuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{90,120}")
# WIF: 51 chars from '5'/'9' (uncompressed) or 52 from 'K'/'L'/'c' (compressed).
_WIF = re.compile(
    r"(?<![1-9A-HJ-NP-Za-km-z])[59KLc][1-9A-HJ-NP-Za-km-z]{50,51}(?![1-9A-HJ-NP-Za-km-z])"
)
_HEX64 = re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
# Labels that make a 64-hex a transaction hash rather than a key.
_TX_LABEL = re.compile(
    r"tx\s?id|txn|tx\s?hash|transaction|hash|/tx/|交易哈希|交易id|哈希|txhash|交易号|交易编号|区块",
    re.IGNORECASE,
)
_KEY_LABEL = re.compile(
    r"private|priv\s?key|私钥|秘钥|密钥|secret|seed|wallet\s?key", re.IGNORECASE
)
_LABEL_WINDOW = 60

_SECRET_LABEL = re.compile(
    r"secret|\bkey\b|api[\s_\-]?key|apikey|access[\s_\-]?key|private[\s_\-]?key|pass\s?phrase|token|"
    r"私钥|密钥|秘钥|口令|api密钥|签名密钥",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
_SECRET_VALUE_WINDOW = 80
_MIN_ENTROPY_BITS = 3.0
# Binance-style keys: 64 mixed-case alphanumerics; distinctive enough without a label.
_BARE_KEY64 = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


def b58decode_check(text: str) -> bytes | None:
    """The payload of a base58check string, or None when it does not verify."""
    number = 0
    for ch in text:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


def _wif_ok(candidate: str) -> bool:
    payload = b58decode_check(candidate)
    if payload is None or payload[0] not in (0x80, 0xEF):
        return False
    return len(payload) == 33 or (len(payload) == 34 and payload[-1] == 0x01)


def _labelled_tx(text: str, start: int, end: int) -> bool:
    """True when the hex at [start, end) is introduced (or followed) as a TxID, not a key."""
    before = text[max(0, start - _LABEL_WINDOW) : start]
    after = text[end : end + 30]
    tx = [m.end() for m in _TX_LABEL.finditer(before)]
    keys = [m.end() for m in _KEY_LABEL.finditer(before)]
    if keys and (not tx or keys[-1] > tx[-1]):
        return False  # the nearest label calls it a key
    return bool(tx) or (_TX_LABEL.search(after) is not None and _KEY_LABEL.search(after) is None)


def private_key_spans(text: str) -> list[Span]:
    """Extended private keys (any length close to 111, checksum or not), WIF, raw 64-hex."""
    spans = [m.span() for m in _EXTENDED.finditer(text)]
    spans += [m.span() for m in _WIF.finditer(text) if _wif_ok(m[0])]
    spans += [m.span() for m in _HEX64.finditer(text) if not _labelled_tx(text, *m.span())]
    return spans


def entropy_bits(token: str) -> float:
    """Shannon entropy per character of `token`."""
    counts = Counter(token)
    total = len(token)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _looks_random(token: str) -> bool:
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and entropy_bits(token) >= _MIN_ENTROPY_BITS


def api_secret_spans(text: str) -> list[Span]:
    """High-entropy tokens after a secret/API-key/passphrase label, and bare 64-char keys."""
    spans: list[Span] = []
    for label in _SECRET_LABEL.finditer(text):
        spans += _tokens_after(text, label.end())
    spans += [m.span() for m in _BARE_KEY64.finditer(text) if _mixed_case_key(m[0])]
    return spans


def _tokens_after(text: str, start: int) -> list[Span]:
    """Random-looking tokens that begin within the value window after a label."""
    spans: list[Span] = []
    # endpos bounds the search (a label far from any token must not scan the whole text);
    # each hit is then re-matched without endpos so a long token is masked in full.
    for hit in _TOKEN.finditer(text, start, start + _SECRET_VALUE_WINDOW + 128):
        if hit.start() > start + _SECRET_VALUE_WINDOW:
            break
        token = _TOKEN.match(text, hit.start())
        if token is not None and _looks_random(token[0]):
            spans.append(token.span())
    return spans


def _mixed_case_key(token: str) -> bool:
    return (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )
