"""Facts about a transfer in support text, validated, and the mismatches between them.

`extract_facts(text)` is pure: it reads the text as stored (after the secret guard, so
a hex the guard took for a key is already gone) and returns what it found:

- txid: EVM hashes (0x + 64 hex), BTC/TRON hashes (64 hex), Solana signatures (base58,
  87-88 characters, only when Solana is named);
- address: EVM (EIP-55 checked when mixed case), TRON and Bitcoin base58check, SegWit
  bech32/bech32m; a string shaped like one whose checksum fails is kept with valid=False;
- network (ERC20, TRC20, BEP20 ...) and coin (USDT, BTC ...) names, canonical;
- amount ("500 USDT"), order id, memo/tag and UID, each after its label.

Flags: an address of one chain next to a network of another ("TRON address on ERC20"),
a coin or network that needs a memo with no memo given, and a failed checksum.
Every regex is bounded, and the text is cut at MAX_TEXT, so cost stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kefu.triage.chain.encoding import b58decode_check, eip55_status, segwit_decode

MAX_TEXT = 20_000
MAX_FACTS = 40

# Chain families: what an address or a hash belongs to, and what a network name means.
EVM, TRON, BTC, SOL = "evm", "tron", "btc", "sol"
NETWORKS: dict[str, tuple[str, str]] = {  # lower-case name -> (canonical, family)
    "erc20": ("ERC20", EVM), "erc-20": ("ERC20", EVM), "ethereum": ("ERC20", EVM),
    "以太坊": ("ERC20", EVM), "bep20": ("BEP20", EVM), "bep-20": ("BEP20", EVM),
    "bsc": ("BEP20", EVM), "bnb smart chain": ("BEP20", EVM), "polygon": ("POLYGON", EVM),
    "arbitrum": ("ARBITRUM", EVM), "optimism": ("OPTIMISM", EVM),
    "avalanche c-chain": ("AVAXC", EVM), "trc20": ("TRC20", TRON), "trc-20": ("TRC20", TRON),
    "tron": ("TRC20", TRON), "波场": ("TRC20", TRON), "bitcoin": ("BTC", BTC),
    "比特币": ("BTC", BTC), "solana": ("SOL", SOL), "spl": ("SOL", SOL),
    "bep2": ("BEP2", "bnb"), "bep-2": ("BEP2", "bnb"), "xrp ledger": ("XRP", "xrp"),
    "ripple": ("XRP", "xrp"), "ton": ("TON", "ton"), "stellar": ("XLM", "xlm"),
}
COINS = ("USDT", "USDC", "BTC", "ETH", "BNB", "TRX", "SOL", "XRP", "TON", "XLM", "EOS",
         "ATOM", "DOGE", "LTC", "MATIC", "POL", "DAI", "FDUSD", "ARB", "OP", "ADA", "DOT")
# Coins whose deposits are credited by memo/tag; without it the exchange cannot tell
# whose they are (see the "missing memo" help article).
# Coins that live on one chain: they say which chain a bare 64-hex hash belongs to.
COIN_FAMILY = {"BTC": BTC, "TRX": TRON, "ETH": EVM, "SOL": SOL}
MEMO_COINS = frozenset({"XRP", "XLM", "EOS", "ATOM", "TON", "HBAR"})
MEMO_NETWORKS = frozenset({"BEP2", "XRP", "XLM", "TON"})

_WORD_END = r"(?![A-Za-z0-9])"
_WORD_START = r"(?<![A-Za-z0-9])"
_HEX_TX = re.compile(_WORD_START + r"(0[xX])?([0-9a-fA-F]{64})" + _WORD_END)
_EVM_ADDR = re.compile(_WORD_START + r"0[xX][0-9a-fA-F]{40}" + _WORD_END)
_B58_ADDR = re.compile(_WORD_START + r"[13T][1-9A-HJ-NP-Za-km-z]{25,34}" + _WORD_END)
# bech32 is one case throughout: a mixed-case run ("TB1…" opening a TRON address) is not one.
_BECH32_ADDR = re.compile(
    _WORD_START + r"(?:(?:bc|tb)1[0-9a-z]{8,87}|(?:BC|TB)1[0-9A-Z]{8,87})" + _WORD_END)
_SOL_SIG = re.compile(_WORD_START + r"[1-9A-HJ-NP-Za-km-z]{86,88}" + _WORD_END)
_SOL_ADDR = re.compile(_WORD_START + r"[1-9A-HJ-NP-Za-km-z]{32,44}" + _WORD_END)
# Matched on lower-cased text without IGNORECASE: several times faster on every create.
_NETWORK = re.compile("|".join(sorted((re.escape(n) for n in NETWORKS), key=len, reverse=True)))
_COIN = re.compile(r"(?<![a-z0-9])(" + "|".join(c.lower() for c in COINS) + r")(?![a-z0-9])")
_AMOUNT = re.compile(
    r"(?<![A-Za-z0-9.,])(\d{1,3}(?:,\d{3})+(?:\.\d{1,18})?|\d{1,15}(?:\.\d{1,18})?)\s{0,2}"
    r"(" + "|".join(COINS) + ")" + _WORD_END, re.IGNORECASE)
_SEP = r"\s{0,3}(?:id|ID|号|编号)?\s{0,2}(?:is|是|为|:|：|=|#)?\s{0,3}"
_ORDER = re.compile(
    r"(?<![A-Za-z])(?:order|withdrawal id|withdrawal|deposit id|reference"
    r"|订单号|订单|提现单号|提现|流水号|单号)"
    + _SEP + r"(?P<v>[A-Za-z0-9][A-Za-z0-9\-]{5,39})" + _WORD_END, re.IGNORECASE)
_MEMO = re.compile(
    r"(?<![A-Za-z])(?:destination tag|memo|tag|备注|标签|数字标签)"
    r"\s{0,3}(?:id|ID)?\s{0,2}(?:is|是|为|:|：|=)?\s{0,3}"
    r"(?P<v>[A-Za-z0-9]{1,40})" + _WORD_END, re.IGNORECASE)
_UID = re.compile(r"(?<![A-Za-z])uid" + _SEP + r"(?P<v>\d{4,20})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    """One value found in the text. `valid` is the checksum's verdict for an address
    (None when its format carries no checksum, e.g. an all-lower-case EVM address)."""

    kind: str  # txid | address | network | coin | amount | order_id | memo | uid
    value: str
    chain: str | None = None
    valid: bool | None = None


@dataclass(frozen=True)
class Flag:
    """A mismatch for the agent to check. `code` names the message (see FLAG_TEXT)."""

    code: str  # network_mismatch | missing_memo | bad_checksum | txid_network_mismatch
    subject: str  # the address, coin or hash the flag is about
    detail: str = ""  # the networks named, or the chain found


@dataclass(frozen=True)
class Facts:
    facts: tuple[Fact, ...] = ()
    flags: tuple[Flag, ...] = ()

    def values(self, kind: str) -> list[str]:
        return [f.value for f in self.facts if f.kind == kind]

    def __bool__(self) -> bool:
        return bool(self.facts or self.flags)


@dataclass
class _Found:
    facts: list[Fact] = field(default_factory=list)
    taken: list[tuple[int, int]] = field(default_factory=list)  # spans already read

    def add(self, fact: Fact, span: tuple[int, int] | None = None) -> None:
        if span is not None:
            self.taken.append(span)
        if fact not in self.facts and len(self.facts) < MAX_FACTS:
            self.facts.append(fact)

    def free(self, span: tuple[int, int]) -> bool:
        return not any(span[0] < b and a < span[1] for a, b in self.taken)


def extract_facts(text: str, *, txid_field: str | None = None) -> Facts:
    """Every fact in `text` (plus the form's TxID field, when given) and the flags."""
    text = text[:MAX_TEXT]
    field_value = (txid_field or "").strip()[:200]
    if field_value:
        text = f"{text}\n{field_value}"
    found = _Found()
    lower = text.lower()
    if len(lower) != len(text):  # a rare length-changing lower-case: keep offsets aligned
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    networks = _networks(text, lower, found)
    coins = _coins(text, lower, found)
    families = {family for _, family in networks} or \
        {COIN_FAMILY[c] for c in coins if c in COIN_FAMILY}
    _addresses(text, found, families)
    _txids(text, found, families)
    _labelled(text, found)
    if field_value and not any(field_value in f.value or f.value in field_value
                               for f in found.facts if f.kind in ("txid", "address")):
        # The form's field says "TxID / order ID": what is no hash is the order id.
        found.add(Fact("order_id", field_value))
    return Facts(tuple(found.facts), tuple(flags_for(found.facts)))


def _networks(text: str, lower: str, found: _Found) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in _NETWORK.finditer(lower):
        name = m[0]
        # Short names are words only when standing alone ("ton" in "button" is not TON).
        if name.isascii() and not _standalone(text, m.start(), m.end()):
            continue
        canonical, family = NETWORKS[name]
        if (canonical, family) not in out:
            out.append((canonical, family))
            found.add(Fact("network", canonical, family))
    return out


def _standalone(text: str, start: int, end: int) -> bool:
    return not ((start > 0 and text[start - 1].isascii() and text[start - 1].isalnum())
                or (end < len(text) and text[end].isascii() and text[end].isalnum()))


def _coins(text: str, lower: str, found: _Found) -> list[str]:
    out: list[str] = []
    for m in _COIN.finditer(lower):
        written = text[m.start() : m.end()]
        if written != written.upper() and m[1] in ("op", "ton", "pol", "arb", "dot", "ada"):
            continue  # English words in lower case, not tickers
        coin = m[1].upper()
        if coin not in out:
            out.append(coin)
            found.add(Fact("coin", coin))
    return out


def _addresses(text: str, found: _Found, families: set[str]) -> None:
    for m in _EVM_ADDR.finditer(text):
        status = eip55_status(m[0])
        found.add(Fact("address", "0x" + m[0][2:], EVM, status), m.span())
    for m in _B58_ADDR.finditer(text):
        if not found.free(m.span()) or m[0].isdigit():
            continue
        chain = TRON if m[0][0] == "T" else BTC
        if chain == TRON and len(m[0]) != 34:
            continue  # not TRON-shaped: some other id starting with T
        payload = b58decode_check(m[0])
        versions = (0x41,) if chain == TRON else (0x00, 0x05)
        ok = payload is not None and len(payload) == 21 and payload[0] in versions
        found.add(Fact("address", m[0], chain, ok), m.span())
    for m in _BECH32_ADDR.finditer(text):
        if found.free(m.span()):
            decoded = segwit_decode(m[0][:2].lower(), m[0].lower())
            found.add(Fact("address", m[0], BTC, decoded is not None), m.span())
    for m in _SOL_SIG.finditer(text):  # 86-88 base58 characters: nothing else is shaped so
        found.add(Fact("txid", m[0], SOL), m.span())
    if SOL in families:
        for m in _SOL_ADDR.finditer(text):
            if found.free(m.span()) and not m[0].isdigit():
                found.add(Fact("address", m[0], SOL, None), m.span())


def _txids(text: str, found: _Found, families: set[str]) -> None:
    for m in _HEX_TX.finditer(text):
        if not found.free(m.span()):
            continue
        digits = m[2].lower()
        if m[1]:
            chain: str | None = EVM
        elif families & {TRON, BTC, EVM}:
            # 64 hex without 0x: TRON and BTC write it so; name the one the text names.
            chain = next(f for f in (TRON, BTC, EVM) if f in families)
        else:
            chain = None
        value = "0x" + digits if chain == EVM and m[1] else digits
        found.add(Fact("txid", value, chain), m.span())


def _labelled(text: str, found: _Found) -> None:
    for kind, pattern in (("uid", _UID), ("memo", _MEMO), ("order_id", _ORDER)):
        for m in pattern.finditer(text):
            span = m.span("v")
            value = m["v"]
            if kind != "uid" and not any(c.isdigit() for c in value):
                continue  # "memo is missing", "order was cancelled": words, no value
            if found.free(span):
                found.add(Fact(kind, value), span)
    for m in _AMOUNT.finditer(text):
        found.add(Fact("amount", f"{m[1]} {m[2].upper()}"))


def flags_for(facts: list[Fact]) -> list[Flag]:
    """The mismatches among `facts` (from one message, or a whole ticket)."""
    networks = [(f.value, f.chain or "") for f in facts if f.kind == "network"]
    coins = [f.value for f in facts if f.kind == "coin"]
    flags: list[Flag] = []
    families = {family for _, family in networks}
    named = ", ".join(name for name, _ in networks)
    for fact in facts:
        if fact.kind == "address" and fact.valid is False:
            flags.append(Flag("bad_checksum", fact.value, fact.chain or ""))
        if fact.kind == "address" and families and fact.chain and fact.chain not in families \
                and fact.chain != SOL:
            flags.append(Flag("network_mismatch", fact.value, named))
        if fact.kind == "txid" and fact.chain == EVM and fact.value.startswith("0x") \
                and families and EVM not in families and families <= {TRON, BTC, SOL}:
            flags.append(Flag("txid_network_mismatch", fact.value, named))
    has_memo = any(f.kind == "memo" for f in facts)
    needs = [c for c in coins if c in MEMO_COINS] + \
        [n for n, _ in networks if n in MEMO_NETWORKS and n not in coins]
    if needs and not has_memo:
        flags.append(Flag("missing_memo", needs[0]))
    return flags


# The agent-facing sentence of each flag (msgid, translated in messages.po).
FLAG_TEXT = {
    "network_mismatch": "%(subject)s is not an address of the network named (%(detail)s): "
                        "check for a deposit on the wrong network.",
    "bad_checksum": "%(subject)s fails its checksum: a typo, or not a real address.",
    "missing_memo": "%(subject)s needs a memo/tag, and none was given.",
    "txid_network_mismatch": "%(subject)s is an EVM transaction hash, but the network named "
                             "is %(detail)s.",
}


def searchable(value: str) -> str:
    """The form a value is searched by: hashes and hex addresses are case-blind."""
    value = value.strip()
    lower = value.lower()
    if lower.startswith("0x") or re.fullmatch(r"[0-9a-f]{64}", lower):
        return lower
    return value
