"""Generated positives for the secret guard evaluation (and the property tests).

Every sample records where each piece of secret material sits in its text, so a
detection only counts when every piece is covered by a mask. Keys are computed the
real way (BIP-32 master xprv via HMAC-SHA512("Bitcoin seed"), WIF and xprv with
base58check), so the validators are exercised, not bypassed.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from mnemonic import Mnemonic

from kefu.triage.chain.encoding import b58encode_check

Span = tuple[int, int]

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х",
              "i": "і", "s": "ѕ", "j": "ј", "k": "κ", "v": "ν", "t": "τ"}
CIRCLED = [chr(0x2460 + i) for i in range(20)] + [chr(0x3251 + i) for i in range(4)]
SEED_LANGS = ("english", "chinese_simplified", "chinese_traditional")
STRENGTHS = (128, 160, 192, 224, 256)


@dataclass(frozen=True)
class Sample:
    """A message with secret material of `kind` at `spans`."""

    kind: str
    text: str
    spans: tuple[Span, ...]


class _Builder:
    """Appends text while remembering where secret pieces went."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.spans: list[Span] = []

    def add(self, text: str, *, secret: bool = False) -> None:
        if secret:
            self.spans.append((self.size, self.size + len(text)))
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def wif(key: bytes, *, compressed: bool) -> str:
    return b58encode_check(b"\x80" + key + (b"\x01" if compressed else b""))


def xprv_from_seed(seed: bytes) -> str:
    """BIP-32 master extended private key for a BIP-39 seed."""
    digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
    key, chain = digest[:32], digest[32:]
    payload = bytes.fromhex("0488ade4") + b"\0" + b"\0" * 4 + b"\0" * 4 + chain + b"\0" + key
    return b58encode_check(payload)


def _disguise(word: str, rng: random.Random, evasion: str) -> str:
    if evasion == "zero_width" and len(word) > 1:
        cut = rng.randrange(1, len(word))
        return word[:cut] + rng.choice(ZERO_WIDTH) + word[cut:]
    if evasion == "homoglyph":
        return "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.5 else c for c in word)
    if evasion == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in word)
    if evasion == "upper":
        return word.upper()
    return word


def _separator(i: int, evasion: str, rng: random.Random) -> tuple[str, str]:
    """(text before word i, text after it) for a layout."""
    layouts = {
        "numbered_dot": (f"{i + 1}. ", " "), "numbered_paren": (f"{i + 1}) ", "\n"),
        "circled": (CIRCLED[i], " "), "comma": ("", ", "), "ideographic_comma": ("", "、"),
        "newline": ("", "\n"), "fullwidth_space": ("", "\u3000"), "no_space": ("", ""),
        "zero_width_gap": ("", rng.choice(ZERO_WIDTH)),
    }
    return layouts.get(evasion, ("", " "))


EN_SEED_TEMPLATES = (
    "Hi support, my wallet was drained. My seed phrase is {s}. Please help!",
    "{s}",
    "I can't open my wallet, here are my words:\n{s}\nwhat should I do?",
    "is this correct? {s} thanks",
    "Recovery phrase: {s}",
)
ZH_SEED_TEMPLATES = (
    "你好，我的助记词是{s}，请帮我找回资产",
    "{s}",
    "客服你好，钱包打不开了，助记词：{s} 怎么办",
    "帮我看看这个{s}是不是对的",
    "我的钱包恢复词是\n{s}\n谢谢",
)


@cache
def _mnemonic(lang: str) -> Mnemonic:
    return Mnemonic(lang)


def mnemonic_words(lang: str, strength: int, rng: random.Random) -> list[str]:
    """Words of a valid mnemonic; what `Mnemonic.generate` does, but from a seeded rng."""
    return _mnemonic(lang).to_mnemonic(rng.randbytes(strength // 8)).split(" ")


def seed_sample(lang: str, strength: int, evasion: str, rng: random.Random) -> Sample:
    """A generated mnemonic laid out with `evasion`, inside a support message."""
    words = mnemonic_words(lang, strength, rng)
    chinese = lang.startswith("chinese") or rng.random() < 0.3
    templates = ZH_SEED_TEMPLATES if chinese else EN_SEED_TEMPLATES
    before, after = rng.choice(templates).split("{s}")
    out = _Builder()
    out.add(before)
    for i, word in enumerate(words):
        lead, trail = _separator(i, evasion, rng)
        out.add(lead)
        out.add(_disguise(word, rng, evasion), secret=True)
        if i < len(words) - 1:
            out.add(trail)
    out.add(after)
    return Sample("seed_phrase", out.text(), tuple(out.spans))


def seed_evasions(lang: str) -> tuple[str, ...]:
    common = ("plain", "numbered_dot", "numbered_paren", "circled", "comma",
              "ideographic_comma", "newline", "zero_width", "zero_width_gap")
    if lang == "english":
        return (*common, "homoglyph", "fullwidth", "upper")
    return (*common, "no_space", "fullwidth_space")


def _embed(kind: str, template: str, values: list[str]) -> Sample:
    """Fill {0}, {1}… of `template` with secret `values`, recording their spans."""
    out = _Builder()
    rest = template
    for i, value in enumerate(values):
        head, rest = rest.split("{" + str(i) + "}", 1)
        out.add(head)
        out.add(value, secret=True)
    out.add(rest)
    return Sample(kind, out.text(), tuple(out.spans))


KEY_TEMPLATES = (
    "here is my private key {0} please recover my funds",
    "私钥：{0}",
    "{0}",
    "my wallet export shows {0}, is that the right one?",
    "我的私钥是{0}帮我看下",
    "Private key:\n{0}",
)


def private_key_sample(rng: random.Random) -> Sample:
    key = rng.randbytes(32)
    form = rng.choice(("hex", "0xhex", "wif_c", "wif_u", "xprv", "xprv"))
    if form == "xprv":
        value = xprv_from_seed(Mnemonic.to_seed(" ".join(mnemonic_words("english", 128, rng))))
    elif form.startswith("wif"):
        value = wif(key, compressed=form == "wif_c")
    else:
        value = ("0x" if form == "0xhex" else "") + key.hex()
    if rng.random() < 0.2:
        cut = rng.randrange(1, len(value))
        value = value[:cut] + rng.choice(ZERO_WIDTH) + value[cut:]
    return _embed("private_key", rng.choice(KEY_TEMPLATES), [value])


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


API_TEMPLATES: tuple[tuple[str, Callable[[random.Random], list[str]]], ...] = (
    ("API Key: {0}\nSecret Key: {1}", lambda r: [_alnum(r, 64), _alnum(r, 64)]),
    ("my binance api secret is {0}", lambda r: [_alnum(r, 64)]),
    ("apikey={0} secret={1}", lambda r: [_alnum(r, 64), _alnum(r, 64)]),
    ("apikey: {0}\nsecretkey: {1}\npassphrase: {2}",
     lambda r: [str(uuid.UUID(bytes=r.randbytes(16))), r.randbytes(16).hex().upper(),
                _alnum(r, 8) + "!"]),
    ("OKX API: key {0}, secret key {1}, passphrase is {2}",
     lambda r: [str(uuid.UUID(bytes=r.randbytes(16))), r.randbytes(16).hex().upper(),
                "Tr" + _alnum(r, 6) + "#1"]),
    ("API密钥：{0}", lambda r: [_alnum(r, 64)]),
    ("这是我的密钥 {0} 帮我看看为什么下单失败", lambda r: [_alnum(r, 64)]),
    ("Secret: {0} 口令：{1}", lambda r: [r.randbytes(16).hex().upper(), _alnum(r, 10)]),
)


def api_secret_sample(rng: random.Random) -> Sample:
    template, make = rng.choice(API_TEMPLATES)
    return _embed("api_secret", template, make(rng))


def _password(rng: random.Random) -> str:
    base = rng.choice(("hunter", "Abc", "qwerty", "Bitcoin", "moon", "Passw0rd", "zhang"))
    return base + str(rng.randrange(10, 99999)) + rng.choice(("", "!", "@", "#", "."))


PASSWORD_TEMPLATES = (
    "my password is {0}", "password: {0}", "密码是{0}", "登录密码：{0}，帮我看看为什么登不上",
    "pwd={0}", "资金密码为 {0}", "I changed my password to {0} but still locked",
    "Login: trader88 / password: {0}",
)
OTP_TEMPLATES = (
    "2FA code {0}", "google authenticator code is {0}", "验证码 {0}", "谷歌验证码：{0}",
    "短信验证码是 {0}", "here is the verification code: {0}", "my 2fa is {0} please hurry",
    "SMS code {0}", "邮箱验证码{0}，麻烦尽快处理",
)
CARD_TEMPLATES = (
    "my card {0} was charged twice", "卡号 {0}", "Card number: {0}",
    "I paid with {0} but the deposit is missing", "用这张卡{0}买的币没到账",
)
_IINS = ("4", "51", "52", "53", "54", "55", "2221", "2720", "34", "37", "62", "3528", "3589",
         "6011", "65")


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        candidate = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(candidate))
        )
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable: one check digit always fits")


def card_number(rng: random.Random) -> str:
    digits = _luhn_complete(rng.choice(_IINS), rng.choice((15, 16, 16, 16, 19)), rng)
    style = rng.choice(("", " ", "-"))
    if not style:
        return digits
    return style.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _otp(rng: random.Random) -> str:
    code = f"{rng.randrange(10**6):06d}"
    return code if rng.random() < 0.7 else code[:3] + " " + code[3:]


def credential_samples(rng: random.Random, n: int) -> Iterator[Sample]:
    for _ in range(n):
        yield _embed("password", rng.choice(PASSWORD_TEMPLATES), [_password(rng)])
        yield _embed("otp_code", rng.choice(OTP_TEMPLATES), [_otp(rng)])
        yield _embed("card_number", rng.choice(CARD_TEMPLATES), [card_number(rng)])


def positives(seed: int = 7, per_case: int = 8, per_kind: int = 300) -> list[Sample]:
    """All generated positives: every seed language x length x evasion, keys, secrets."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not key material
    samples = [
        seed_sample(lang, strength, evasion, rng)
        for lang in SEED_LANGS
        for strength in STRENGTHS
        for evasion in seed_evasions(lang)
        for _ in range(per_case)
    ]
    samples += [private_key_sample(rng) for _ in range(per_kind)]
    samples += [api_secret_sample(rng) for _ in range(per_kind)]
    samples += list(credential_samples(rng, per_kind))
    return samples
