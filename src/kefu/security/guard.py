"""The secret guard: masks secrets in inbound text and blocks replies that ask for them.

`mask_secrets` is pure and deterministic; callers store, index, log and forward only
`GuardResult.text`. Detection runs on a normalised copy (homoglyphs, fullwidth letters
and zero-width characters undone) and every finding is mapped back to the original
text, so a mask also swallows the invisible characters inside a secret.

Contracts:
- no character of a detected secret survives in `GuardResult.text`;
- text with nothing detected comes back unchanged (the same string);
- masking is idempotent: `mask_secrets(r.text).text == r.text` (masks are inert).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kefu.security.credentials import card_spans, otp_spans, passphrase_spans, password_spans
from kefu.security.keys import api_secret_spans, private_key_spans, public_spans
from kefu.security.normalize import has_invisible, normalise
from kefu.security.outbound import OutboundVerdict, check_outbound
from kefu.security.seed_phrase import chinese_seed_spans, english_seed_spans

__all__ = [
    "MASKS",
    "Finding",
    "GuardResult",
    "OutboundVerdict",
    "check_outbound",
    "mask_secrets",
    "warning_for",
]

# Highest priority first: when findings overlap, the merged one takes the most severe kind.
KINDS = ("seed_phrase", "private_key", "api_secret", "password", "otp_code", "card_number")
SEVERE_KINDS = frozenset({"seed_phrase", "private_key"})
MASKS = {
    "seed_phrase": "[seed phrase removed / 助记词已隐藏]",
    "private_key": "[private key removed / 私钥已隐藏]",
    "api_secret": "[API secret removed / API密钥已隐藏]",
    "password": "[password removed / 密码已隐藏]",
    "otp_code": "[2FA code removed / 验证码已隐藏]",
    "card_number": "[card number removed / 卡号已隐藏]",
}
# Masks are blanked out before detection so that the words inside them ("password",
# "2FA code") never act as labels on a second pass.
_BLANK = "\u2588"


@dataclass(frozen=True)
class Finding:
    """A secret of `kind` at original-text span [start, end)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class GuardResult:
    """The masked text and what was masked (spans refer to the original text)."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def masked(self) -> bool:
        return bool(self.findings)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(f.kind for f in self.findings)

    @property
    def severe(self) -> bool:
        """A seed phrase or private key was exposed: the customer's funds may need moving."""
        return not SEVERE_KINDS.isdisjoint(self.kinds)


def _blank_masks(text: str) -> str:
    for mask in MASKS.values():
        if mask in text:
            text = text.replace(mask, _BLANK * len(mask))
        if mask.lower() in text:
            text = text.replace(mask.lower(), _BLANK * len(mask))
    return text


_Detector = tuple[str, Callable[[str], list[tuple[int, int]]]]
# Detectors that read the case-preserving text (base58 and hex are case-sensitive).
_CASED: tuple[_Detector, ...] = (
    ("seed_phrase", chinese_seed_spans),
    ("private_key", private_key_spans),
    ("api_secret", api_secret_spans),
    ("api_secret", passphrase_spans),
    ("password", password_spans),
    ("otp_code", otp_spans),
    ("card_number", card_spans),
)


# Kinds whose detectors read digits and labels, which a TxID or an address may hold by
# chance ("…2fa3429…" is no 2FA code): a finding of these inside a public value is dropped.
_SHORT_KINDS = frozenset({"otp_code", "card_number", "api_secret"})


def _detect(text: str, lower: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) in normalised coordinates, unmerged."""
    found = [("seed_phrase", s, e) for s, e in english_seed_spans(lower)]
    for kind, detector in _CASED:
        found += [(kind, s, e) for s, e in detector(text)]
    # A code is a word of its own: digits glued to ASCII letters or digits ("D02fa3429f")
    # are part of an id or a hash, never a 2FA code.
    found = [(kind, s, e) for kind, s, e in found
             if kind != "otp_code" or not (_glued(text, s - 1) or _glued(text, e))]
    if any(kind in _SHORT_KINDS for kind, _, _ in found):
        public = public_spans(text)
        found = [(kind, s, e) for kind, s, e in found
                 if kind not in _SHORT_KINDS or not _overlaps(s, e, public)]
    return found


def _glued(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def _merge(findings: list[Finding]) -> tuple[Finding, ...]:
    """Overlapping findings become one, of the highest-priority kind among them."""
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, f.kind, key=KINDS.index)
            merged[-1] = Finding(kind, last.start, max(last.end, f.end))
        else:
            merged.append(f)
    return tuple(merged)


def _apply(text: str, findings: tuple[Finding, ...]) -> str:
    parts: list[str] = []
    cursor = 0
    for f in findings:
        parts += [text[cursor : f.start], MASKS[f.kind]]
        cursor = f.end
    parts.append(text[cursor:])
    return "".join(parts)


def mask_secrets(text: str) -> GuardResult:
    """Mask every seed phrase, private key, API secret, password, 2FA code and card number."""
    norm = normalise(text)
    found = _detect(_blank_masks(norm.text), _blank_masks(norm.lower))
    spans = [(kind, *norm.orig_span(s, e)) for kind, s, e in found if e > s]
    if has_invisible(text):
        gapped = normalise(text, invisible_as_space=True)
        spans += [
            ("seed_phrase", *gapped.orig_span(s, e))
            for s, e in chinese_seed_spans(_blank_masks(gapped.text))
        ]
    findings = _merge([Finding(kind, s, e) for kind, s, e in spans])
    if not findings:
        return GuardResult(text, ())
    return GuardResult(_apply(text, findings), findings)


_NAMES = {
    "en": {
        "seed_phrase": "a recovery (seed) phrase",
        "private_key": "a private key",
        "api_secret": "an API secret",
        "password": "a password",
        "otp_code": "a 2FA / verification code",
        "card_number": "a card number",
    },
    "zh": {
        "seed_phrase": "助记词",
        "private_key": "私钥",
        "api_secret": "API 密钥",
        "password": "密码",
        "otp_code": "验证码",
        "card_number": "银行卡号",
    },
}
_ADVICE = {
    "en": {
        "seed_phrase": "Anyone who has seen it can empty your wallet: create a new wallet now "
        "and move your funds to it.",
        "private_key": "Anyone who has seen it can spend from that wallet: move your funds to "
        "a new wallet now.",
        "api_secret": "Delete this API key in your account settings and create a new one.",
        "password": "Please change your password now.",
        "otp_code": "If you did not request this code, change your password and reset 2FA.",
        "card_number": "If you are worried, contact your card issuer.",
    },
    "zh": {
        "seed_phrase": "看到它的人可以转走您钱包里的全部资产：请立即创建新钱包并把资产转移过去。",
        "private_key": "看到它的人可以动用该钱包：请立即把资产转移到新钱包。",
        "api_secret": "请立即在账户设置中删除该 API 密钥并重新创建。",
        "password": "请立即修改密码。",
        "otp_code": "如果不是您本人申请的验证码，请立即修改密码并重置二次验证。",
        "card_number": "如有顾虑，请联系发卡银行。",
    },
}


def warning_for(kinds: Iterable[str], lang: str) -> str:
    """Customer-facing warning for masked `kinds`; '' when there are none.

    `lang` "zh-CN" (any "zh…" tag) gives Simplified Chinese, anything else English.
    Unknown kinds are ignored.
    """
    key = "zh" if lang.lower().startswith("zh") else "en"
    present = [k for k in KINDS if k in set(kinds)]
    if not present:
        return ""
    names = _NAMES[key]
    advice = " ".join(_ADVICE[key][k] for k in present)
    if key == "zh":
        what = "、".join(names[k] for k in present)
        return (
            f"为保护您的资产，我们已隐藏您发送的{what}。"
            f"客服绝不会索要助记词、私钥、密码、验证码或 API 密钥。{advice}"
        )
    what = ", ".join(names[k] for k in present)
    return (
        f"To protect you, we hid {what} from your message. Support will never ask for your "
        f"seed phrase, private key, password, 2FA code or API secret. {advice}"
    )
