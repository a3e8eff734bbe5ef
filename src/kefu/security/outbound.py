"""Blocks agent and bot replies that ask a customer for a secret.

Support never needs a password, 2FA code, seed phrase, private key or API secret, and
"support" asking for one is the classic exchange scam. A reply is blocked when one of
its clauses names a secret together with a request ("send", "what's your", "发给我",
"提供一下") and that clause carries no warning or negation ("never", "请勿", "任何人").
Clauses are judged separately so "we never ask for passwords, but send your 2FA code"
is still blocked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.security.normalize import normalise


@dataclass(frozen=True)
class OutboundVerdict:
    """Whether to block a reply, what secret it asked for, and why (English + 简体中文)."""

    blocked: bool
    kind: str | None
    reason: str


# Terms per kind, most specific first (the first kind found in a clause is reported).
_TERMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("seed_phrase", re.compile(
        r"\bseed\b|seed (?:phrase|words)|recovery (?:phrase|words?)|secret (?:recovery )?phrase"
        r"|mnemonic|backup phrase"
        r"|(?:12|24|twelve|twenty[- ]four)[- ](?:word|words)\b|wallet phrase"
        r"|助记词|助記詞|种子词|种子短语|恢复短语|助记|(?:12|24|十二|二十四)个?(?:单词|词)")),
    ("private_key", re.compile(r"private key|priv key|privkey|xprv|wallet key|keystore|私钥|私鑰")),
    ("api_secret", re.compile(
        r"api (?:secret|key)|secret key|api passphrase|apikey|api密钥|api 密钥|密钥|秘钥")),
    ("otp_code", re.compile(
        r"2fa|two[- ]factor|authenticator|\botp\b|one[- ]time (?:code|password|passcode)"
        r"|verification code|sms code|security code|auth code|6[- ]digit code|google code"
        r"|验证码|驗證碼|动态码|谷歌验证|安全码|校验码")),
    ("password", re.compile(r"password|passcode|\bpwd\b|\bpin\b|密码|密碼")),
)

_REQUEST = re.compile(
    r"\b(?:send|forward|paste|post|dm|text|email|give|share|provide|disclose|reveal)\b"
    r"(?! (?:you|a new|another)\b)"
    r"|\b(?:tell|show|read|spell|write) (?:me|us)\b|\btell\b|\breply with\b"
    r"|\bwhat(?:'s|’s| is| are|s) (?:your|ur|the)\b|\b(?:i|we) (?:need|require|want)\b"
    r"|\bneed you to\b|\b(?:ask|asking) (?:you )?for\b|\blet (?:me|us) know (?:your|ur|the)\b"
    r"|\bgimme\b|\bhand over\b"
    r"|发给我|发我|发过来|发一下|发来|发送给我|发送给客服|发给客服|发给专员|发到这|发送一下|提供|告诉|告知"
    r"|报一下|报给|说一下|说出|念一下|回复|私信|截图|拍照|上传|给我|给我们|是多少"
)
# Typing a seed or key anywhere is never legitimate; typing a password or 2FA code in the
# app is, so these verbs only count as a request for seeds and keys.
_ENTER = re.compile(
    r"\b(?:enter(?:ing)?|input(?:ting)?|import(?:ing)?|verify(?:ing)?|validate|confirm|submit"
    r"|type|sync|connect)\b|输入|导入|填写|填一下|核对|验证|确认"
)
# Warnings, negations, and the system sending a code TO the customer.
_WARNING = re.compile(
    r"\bnever\b|\bnot\b|n't|n’t|\bno one\b|\bnobody\b|\banyone\b|\banybody\b|\bbeware\b"
    r"|\bscam|\bphishing|\bfraud|\bavoid\b|\breset\b|\bchange\b|\bforg[eo]t|\bprotect"
    r"|\bkeep\b|\bsafe\b|\bprivate\b(?! key)|\bif (?:someone|somebody|anyone)\b|\bimpersonat"
    r"|\bwithout\b|\bonly you\b|\bunder no circumstances\b|\bwarn"
    r"|\b(?:we|i)(?:'ll| will| have| had| just|'ve)? (?:re-?)?"
    r"(?:send|sent|email(?:ed)?|text(?:ed)?) (?:you|a|an|the|it)\b"
    r"|\bto your (?:phone|email|mobile|number|inbox|device)\b|\byou(?:'ll| will)? receive"
    r"|不要|请勿|切勿|勿|千万别|别|不会|不可|不能|不得|绝不|绝对不|从不|从来不|决不|永远不|不应"
    r"|任何人|谨防|小心|警惕|诈骗|骗子|钓鱼|冒充|重置|修改|更改|忘记|保管|保密|泄露|如果有人|若有人"
    r"|已发送|发送至您|发到您|发给您|发送到您|您将收到|您会收到"
)
_CLAUSE_SPLIT = re.compile(r"[.!?;\n。！？；，,]|\bbut\b|但是|不过")

_KIND_NAMES = {
    "seed_phrase": ("seed phrase", "助记词"),
    "private_key": ("private key", "私钥"),
    "api_secret": ("API secret", "API 密钥"),
    "otp_code": ("2FA / verification code", "验证码"),
    "password": ("password", "密码"),
}


def _asked_kind(clause: str) -> str | None:
    """The secret kind a single clause asks for, or None."""
    if _WARNING.search(clause):
        return None
    for kind, term in _TERMS:
        if term.search(clause) is None:
            continue
        if _REQUEST.search(clause):
            return kind
        if kind in ("seed_phrase", "private_key") and _ENTER.search(clause):
            return kind
    return None


def _reason(kind: str) -> str:
    en, zh = _KIND_NAMES[kind]
    return (
        f"Blocked: this reply asks the customer for their {en}. Support must never request "
        "seed phrases, private keys, passwords, 2FA codes or API secrets; rephrase it. / "
        f"已拦截：该回复向客户索要{zh}。"
        "客服绝不能索取助记词、私钥、密码、验证码或 API 密钥，请修改后再发送。"
    )


def check_outbound(text: str) -> OutboundVerdict:
    """Block `text` (an agent or bot reply) when it asks the customer for a secret."""
    lower = normalise(text).lower
    for clause in _CLAUSE_SPLIT.split(lower):
        kind = _asked_kind(clause)
        if kind is not None:
            return OutboundVerdict(True, kind, _reason(kind))
    return OutboundVerdict(False, None, "")
