"""Recognises security incidents (account stolen, unauthorised withdrawal, suspicious login)
in any channel's text, so they reach the security team first whatever category was picked.

Phrase lists, not regular expressions: matching cost stays linear in the text whatever a
sender types.
"""

import unicodedata

# Each entry is a set of fragments that must all appear (after normalisation).
_EN = (
    ("account", "stolen"), ("account", "hacked"), ("been hacked",), ("got hacked",),
    ("account", "compromised"), ("unauthorized withdrawal",), ("unauthorised withdrawal",),
    ("withdrawal", "i did not make"), ("withdrawal", "i didn't make"),
    ("withdrawal", "wasn't me"), ("suspicious login",), ("suspicious log-in",),
    ("someone logged in",), ("someone logged into",), ("login from", "not me"),
    ("funds", "stolen"), ("stole my",), ("drained",),
)
_ZH = (
    ("被盗",), ("盗号",), ("被黑",), ("未授权",), ("未经授权",), ("异常登录",), ("陌生设备",),
    ("非本人",), ("不是我本人",), ("不是我操作",), ("被转走",), ("被人提走",), ("被提走",),
    ("资产", "丢失"), ("被人登录",),
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:20_000]).lower()
    return " ".join(text.replace("’", "'").split())


def is_security_incident(text: str) -> bool:
    normalised = _normalise(text)
    return any(all(part in normalised for part in parts) for parts in _EN + _ZH)
