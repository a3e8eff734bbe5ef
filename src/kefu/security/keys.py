"""Private keys (extended keys, WIF, raw hex) and exchange API secrets.

Spans are in normalised coordinates. Addresses (0x + 40 hex, base58/bech32 addresses)
are public and never matched. A 64-hex string is a private key OR a transaction hash
(EVM 0x + 64 hex; BTC/TRON 64 hex): traders must quote TxIDs for deposit problems, so
`is_transaction_hash` reads the words around it (see there); anything stated as a key,
or with no transaction context at all, stays a key.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from kefu.triage.chain.encoding import b58decode_check, segwit_decode
from kefu.triage.chain.extract import COINS, NETWORKS

Span = tuple[int, int]


# xprv/yprv/zprv/tprv/uprv/vprv and the multisig Yprv/Zprv/Uprv/Vprv: 111 base58 chars.
_EXTENDED = re.compile(r"(?<![1-9A-HJ-NP-Za-km-z])[xyztuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{90,120}")
# WIF: 51 chars from '5'/'9' (uncompressed) or 52 from 'K'/'L'/'c' (compressed).
_WIF = re.compile(
    r"(?<![1-9A-HJ-NP-Za-km-z])[59KLc][1-9A-HJ-NP-Za-km-z]{50,51}(?![1-9A-HJ-NP-Za-km-z])"
)
_HEX64 = re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
# Words that name a 64-hex as a transaction hash. Matched on lower-cased text.
_TX_LABEL = re.compile(
    r"tx\s?id|txn|tx\s?hash|transaction|hash|/tx/|/transaction/|(?<![a-z])tx(?![a-z])"
    r"|explorer|etherscan|tronscan|bscscan|solscan|polygonscan|arbiscan|blockchair|mempool"
    r"|blockchain\.com|confirmation|block height|交易哈希|交易id|哈希|交易号|交易编号|区块"
    r"|确认数|浏览器|链上记录|交易记录|交易单号"
)
# Words that name it a key. Matched on lower-cased text.
# The second line: what scammers who coach a victim call the key they ask for
# ("send it for verification", "to sync your wallet").
_KEY_LABEL = re.compile(
    r"private|priv\s?key|私钥|秘钥|密钥|secret|seed|wallet\s?key|(?<![a-z])key(?![a-z])"
    r"|助记词|mnemonic|keystore|导出|export|(?<![a-z])import|导入|钥匙"
    r"|verif|validat|(?<![a-z])sync|authori[sz]|restore|recover(?:y)? phrase|验证|同步|授权|恢复"
)
# Transaction context further away: what the message is about (a deposit, a withdrawal,
# a transfer on some network). It only decides when no label sits next to the hex.
# Every network and coin the fact extractor knows counts too: a network named in the
# message says what it is about.
_CHAIN_NAMES = sorted({*NETWORKS, *(c.lower() for c in COINS)}, key=len, reverse=True)
_TX_CONTEXT = re.compile(
    r"deposit|withdr[ae]w|credited|transfer|received|arriv|pending|refund|(?<![a-z])sent(?![a-z])"
    r"|not (?:show|appear)|show(?:ing)? up|network|on-?chain|blockchain|wallet address|address"
    r"|(?<![a-z])(?:bep-?2|avax|" + "|".join(re.escape(n) for n in _CHAIN_NAMES) + r")(?![a-z])"
    r"|充值|充币|提现|提币|转|到账|入账|交易|打币|汇款|未到|没到|没有到|网络|链|地址|显示"
)
_LONG_TOKEN = re.compile(r"[a-z0-9]{20,}")
_SENTENCE_END = re.compile(r"[\n。！？!?]|\.\s")
# A label followed closely by a long value introduces that value.
_NEXT_VALUE = re.compile(r"[^a-z0-9\n]{0,12}[a-z0-9]{20}")
_LABEL_WINDOW = 80
_AFTER_WINDOW = 40
_CONTEXT_LIMIT = 4000


def _blank_tokens(text: str) -> str:
    """Long letter-digit runs (hashes, addresses, ids) blanked, same length: "key" or
    "tx" inside a base58 address is no label."""
    return _LONG_TOKEN.sub(lambda m: " " * len(m[0]), text)


def _after_window(lower: str, end: int) -> str:
    """The words after the hex that may still be about it: up to the end of its sentence
    or line, and without a label that introduces the NEXT value ("…{tx}, 我的私钥是 {key}"
    names the key, not the hash)."""
    window = lower[end : end + _AFTER_WINDOW]
    stop = _SENTENCE_END.search(window)
    if stop is not None:
        window = window[: stop.start()]
    for label in _KEY_LABEL.finditer(window):
        if _NEXT_VALUE.match(lower, label.end()):
            window = window[: label.start()]
            break
    return _blank_tokens(window)


def _nearest(pattern: re.Pattern[str], before: str, after: str) -> int | None:
    """Distance from the hex to the closest match of `pattern` on either side."""
    distances = [len(before) - m.end() for m in pattern.finditer(before)]
    hit = pattern.search(after)
    if hit is not None:
        distances.append(hit.start())
    return min(distances) if distances else None


def is_transaction_hash(text: str, start: int, end: int) -> bool:
    """Whether the 64-hex at [start, end) of `text` reads as a transaction hash.

    The label nearest to it decides (a key label wins a tie). With no label next to it,
    the nearest word in the message decides: a key word keeps it a key; transaction
    context (deposit, withdrawal, a network, a coin, 充值, 提现 ...) makes it a TxID, so a
    hash and a key in one message are told apart. With neither it stays a key, as a
    bare 64-hex always was.
    """
    lower = text.lower() if len(text.lower()) == len(text) else text
    before = _blank_tokens(lower[max(0, start - _LABEL_WINDOW) : start])
    after = _after_window(lower, end)
    key = _nearest(_KEY_LABEL, before, after)
    tx = _nearest(_TX_LABEL, before, after)
    if key is not None or tx is not None:
        return key is None or (tx is not None and tx < key)
    head = _blank_tokens(lower[max(0, start - _CONTEXT_LIMIT) : start])
    tail = _blank_tokens(lower[end : end + _CONTEXT_LIMIT])
    key = _nearest(_KEY_LABEL, head, tail)
    tx = _nearest(_TX_CONTEXT, head, tail)
    return tx is not None and (key is None or tx < key)


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


def _wif_ok(candidate: str) -> bool:
    payload = b58decode_check(candidate)
    if payload is None or payload[0] not in (0x80, 0xEF):
        return False
    return len(payload) == 33 or (len(payload) == 34 and payload[-1] == 0x01)


def private_key_spans(text: str) -> list[Span]:
    """Extended private keys (any length close to 111, checksum or not), WIF, raw 64-hex."""
    spans = [m.span() for m in _EXTENDED.finditer(text)]
    spans += [m.span() for m in _WIF.finditer(text) if _wif_ok(m[0])]
    spans += [m.span() for m in _HEX64.finditer(text)
              if not is_transaction_hash(text, *m.span())]
    return spans


_ADDRESS_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(?:0[xX][0-9a-fA-F]{40}|[13TmnL2][1-9A-HJ-NP-Za-km-z]{24,34}"
    r"|(?:bc|tb|ltc|BC|TB|LTC)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87})(?![0-9A-Za-z])"
)


def public_spans(text: str) -> list[Span]:
    """Transaction hashes (as `is_transaction_hash` reads them) and addresses whose
    format checks: public values, inside which no code or card number can hide."""
    spans = [m.span() for m in _HEX64.finditer(text) if is_transaction_hash(text, *m.span())]
    for m in _ADDRESS_LIKE.finditer(text):
        token = m[0]
        if token[:2] in ("0x", "0X") or is_address(token):
            spans.append(m.span())
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
        if token is not None and _looks_random(token[0]) and not _public(text, *token.span()):
            spans.append(token.span())
    return spans


_HEX64_EXACT = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")
_EVM_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{40}")


def _public(text: str, start: int, end: int) -> bool:
    """A token that is public by nature: a transaction hash (in context) or an address
    whose format checks (EVM, base58check P2PKH/P2SH/TRON, bech32 SegWit)."""
    token = text[start:end]
    if _HEX64_EXACT.fullmatch(token):
        return is_transaction_hash(text, start, end)
    return _EVM_ADDRESS.fullmatch(token) is not None or is_address(token)


def is_address(token: str) -> bool:
    """A Bitcoin/TRON base58check address or a SegWit address (bech32/bech32m)."""
    payload = b58decode_check(token) if 25 <= len(token) <= 35 else None
    if payload is not None:
        return len(payload) == 21 and payload[0] in (0x00, 0x05, 0x6F, 0xC4, 0x41)
    lower = token.lower()
    return any(segwit_decode(hrp, lower) is not None for hrp in ("bc", "tb", "ltc"))


def _mixed_case_key(token: str) -> bool:
    return (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )
