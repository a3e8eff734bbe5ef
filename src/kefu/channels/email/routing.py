"""Which category and priority a new email starts with: subject (and opening) keywords
over the mailbox's defaults, and an urgency tag in the subject."""

import re

from kefu.tickets.models import Category, Priority

# First match wins: a stolen account outranks a withdrawal it mentions.
KEYWORDS: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (Category.SECURITY, ("账户被盗", "账号被盗", "被盗", "盗号", "未经授权", "hacked",
                         "compromised", "stolen", "unauthorized", "unauthorised",
                         "phishing", "钓鱼")),
    (Category.DEPOSIT_WITHDRAWAL, ("充值未到账", "提现失败", "充值", "提现", "提币", "到账",
                                   "deposit", "withdrawal", "withdraw")),
    (Category.COMPLIANCE, ("kyc", "实名", "身份认证", "冻结", "frozen", "compliance")),
    (Category.API, ("api key", "api密钥", "websocket", "rate limit")),
)
_URGENT = re.compile(r"[\[【(（]\s*(紧急|urgent)\s*[\]】)）]", re.IGNORECASE)


def route(subject: str, opening: str, *, category: str, priority: str
          ) -> tuple[Category, Priority]:
    """The category and priority of a new ticket from mail with this subject and first
    lines, on a mailbox with these defaults."""
    haystack = f"{subject}\n{opening[:500]}".lower()
    chosen = Category(category)
    for candidate, words in KEYWORDS:
        if any(word in haystack for word in words):
            chosen = candidate
            break
    level = Priority.URGENT if _URGENT.search(subject) else Priority(priority)
    return chosen, level
