"""Jinja2 pages with autoescaping and the per-request language's gettext."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kefu.core.i18n import LANGUAGES, ngettext, translate

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

STATUS_LABELS = {
    "new": "New", "open": "Open", "pending_customer": "Waiting on customer",
    "resolved": "Resolved", "closed": "Closed",
}
PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
CATEGORY_LABELS = {
    "account": "Account", "trading": "Trading", "deposit_withdrawal": "Deposit & withdrawal",
    "security": "Security", "api": "API", "compliance": "Compliance & KYC",
    "promotions": "Promotions", "other": "Other",
}
CHANNEL_LABELS = {
    "portal": "Portal", "api": "API", "email": "Email", "chat": "Live chat",
    "telegram": "Telegram", "x": "X", "facebook": "Facebook",
}


def render(
    request: Request, name: str, lang: str, context: dict[str, Any] | None = None,
    *, status_code: int = 200,
) -> HTMLResponse:
    def gettext(message: str, **values: Any) -> str:
        text = translate(lang, message)
        return text % values if values else text

    def plural(singular: str, plural_form: str, n: int, **values: Any) -> str:
        return ngettext(lang, singular, plural_form, n) % {"n": n, **values}

    base = {
        "_": gettext,
        "ngettext": plural,
        "lang": lang,
        "languages": LANGUAGES,
        "status_label": lambda s: gettext(STATUS_LABELS.get(s) or s),
        "category_label": lambda c: gettext(CATEGORY_LABELS.get(c) or c),
        "channel_label": lambda c: gettext(CHANNEL_LABELS.get(c) or c),
        "priority_label": lambda p: gettext(PRIORITY_LABELS.get(p) or p),
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
