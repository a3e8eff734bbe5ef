"""Passwords, 2FA/OTP codes and API passphrases stated as such; payment card numbers.

Spans are in normalised coordinates and cover only the secret value, so "my password
is hunter2" keeps "my password is". A value must follow its label closely, and words
that describe a password ("is wrong", "是什么") are never taken for one.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

_PASSWORD_LABEL = re.compile(
    r"password|passwd|pass word|passcode|\bpwd\b|\bpw\b|\bpin(?: code)?\b|密码|密碼|口令",
    re.IGNORECASE,
)
_PASSPHRASE_LABEL = re.compile(r"pass\s?phrase|api口令", re.IGNORECASE)
# connector then value; every quantifier is bounded so a long input cannot backtrack.
_PASSWORD_VALUE = re.compile(
    r"[ \t]{0,3}(?P<conn>(?:is now|is|was|are)(?![A-Za-z'’])|=|:|：|＝|是|为|為|就是|改成了|改成"
    r"|changed to|set to|to(?![A-Za-z]))?"
    r"[ \t:：=＝\"'“”‘’]{0,3}(?P<val>[\x21-\x7e]{1,64})"
)
_TRAILING = ".,!?;:)]}>\"'"
# Words that follow "password is/:" when people describe a password instead of giving it.
_NOT_A_VALUE = frozenset(
    [
        "not", "wrong", "incorrect", "correct", "invalid", "the", "a", "an", "my", "your", "too",
        "being", "still", "also", "now", "reset", "expired", "blocked", "locked", "working",
        "changed", "forgotten", "forgot", "lost", "same", "different", "required", "needed", "set",
        "ok", "fine", "right", "weak", "strong", "short", "long", "and", "or", "but", "if", "for",
        "to", "please", "help", "again", "there", "here", "this", "that", "it", "which", "what",
        "how", "why", "does", "doesn't", "isn't", "never", "always", "been", "stolen", "hacked",
        "compromised", "case", "sensitive", "unknown", "empty"
    ]
)
_SHORT_CONNECTORS = frozenset({"=", ":", "：", "＝", "是", "为", "為", "就是", "改成了", "改成"})

# Matched against lower-cased text without IGNORECASE and with no leading \b, so that
# the regex engine can skip ahead on the first character (3-5x faster on long input).
_OTP_LABEL = re.compile(
    r"2fa(?: code)?|two[- ]?factor(?: authentication)?(?: code)?"
    r"|google auth(?:enticator)?(?: code)?|authenticator(?: app)?(?: code)?|ga code"
    r"|otp\b(?: code)?|one[- ]time (?:code|password|passcode)"
    r"|verification code|sms code|security code|auth code|mfa code|email code"
    r"|confirmation code|2-step code"
    r"|谷歌验证码|谷歌验证器|谷歌验证|google验证码|短信验证码|邮箱验证码|手机验证码|验证码|驗證碼"
    r"|动态码|动态密码|安全码|校验码|二次验证码|谷歌码|ga码|身份验证码"
)
_OTP_VALUE = re.compile(r"[^\d\n]{0,24}?(?<!\d)(?P<val>\d{3}[ \-]\d{3}|\d{4,8})(?!\d)")

# Letters on either side mean an address or an id ("0x5290…E0F7"), not a card.
_CARD_CANDIDATE = re.compile(r"(?<![0-9A-Za-z\-])\d[\d \-]{11,40}\d(?![0-9A-Za-z])")
_CARD_EXCLUDE = re.compile(
    r"order|订单|单号|uid|编号|txid|ticket|工单|reference|ref\b", re.IGNORECASE
)
_MAX_LUHN = 2000


def _value_ok(value: str, connector: str | None) -> bool:
    """Whether a token after a password label is a password rather than a description."""
    if len(value) < 3 or value.lower() in _NOT_A_VALUE:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    inner_upper = any(c.isupper() for c in value[1:])
    if connector in _SHORT_CONNECTORS:
        return True
    if connector is None:
        # "密码abc123" / "password hunter2": only a token that looks like a password.
        return has_digit and len(value) >= 6
    return has_digit or has_symbol or inner_upper


def _labelled_values(text: str, labels: re.Pattern[str]) -> list[Span]:
    spans: list[Span] = []
    for label in labels.finditer(text):
        found = _PASSWORD_VALUE.match(text, label.end())
        if found is None:
            continue
        # Judge the value without sentence punctuation but mask all of it: a trailing
        # "!" may belong to the password, and hiding a full stop costs nothing.
        if _value_ok(found["val"].rstrip(_TRAILING), found["conn"]):
            spans.append(found.span("val"))
    return spans


def password_spans(text: str) -> list[Span]:
    """Values given after a password label ("password: x", "密码是x")."""
    return _labelled_values(text, _PASSWORD_LABEL)


def passphrase_spans(text: str) -> list[Span]:
    """Values given after an API passphrase label (OKX-style keys need one)."""
    return _labelled_values(text, _PASSPHRASE_LABEL)


def otp_spans(text: str) -> list[Span]:
    """4-8 digit codes (or "123 456") shortly after a 2FA/OTP/验证码 label."""
    spans: list[Span] = []
    lower = text.lower()
    if len(lower) != len(text):  # a rare length-changing lower-case: stay aligned
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for label in _OTP_LABEL.finditer(lower):
        found = _OTP_VALUE.match(text, label.end())
        if found is not None:
            spans.append(found.span("val"))
    return spans


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if position % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iin_ok(digits: str) -> bool:
    """A card-network prefix: Visa, Mastercard, Amex, UnionPay, JCB, Discover."""
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"
        or 51 <= two <= 55
        or 2221 <= four <= 2720
        or two in (34, 37, 62, 65)
        or 3528 <= four <= 3589
        or four == 6011
        or 644 <= int(digits[:3]) <= 649
    )


def _groups(candidate: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each separator-delimited digit group in `candidate`."""
    out: list[tuple[int, int, str]] = []
    for m in re.finditer(r"\d+", candidate):
        out.append((offset + m.start(), offset + m.end(), m[0]))
    return out


def _card_in(groups: list[tuple[int, int, str]], budget: list[int]) -> list[Span]:
    """Spans of consecutive groups that spell a Luhn-valid 13-19 digit card number."""
    spans: list[Span] = []
    for i, first in enumerate(groups):
        digits = ""
        for last in groups[i : i + 8]:
            digits += last[2]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and iin_ok(digits):
                budget[0] -= 1
                if budget[0] < 0 or luhn_ok(digits):
                    spans.append((first[0], last[1]))
    return spans


def card_spans(text: str) -> list[Span]:
    """Luhn-valid 13-19 digit numbers with a card-network prefix, not labelled as an order id."""
    spans: list[Span] = []
    budget = [_MAX_LUHN]  # past it, candidates are masked unchecked (fail closed)
    for cand in _CARD_CANDIDATE.finditer(text):
        before = text[max(0, cand.start() - 24) : cand.start()]
        if _CARD_EXCLUDE.search(before):
            continue
        spans += _card_in(_groups(cand[0], cand.start()), budget)
    return spans
