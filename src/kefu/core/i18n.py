"""zh-CN and English: gettext catalogs (Babel .po files), loaded once and looked up per call.

The .po sources are read directly, so there is no compiled .mo artefact to forget.
"""

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"
_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_CATALOG_DIRS = {"zh-CN": "zh_CN"}


@lru_cache
def _catalog(lang: str) -> dict[str, str]:
    folder = _CATALOG_DIRS.get(lang)
    if folder is None:
        return {}
    path = _LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=folder)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def translate(lang: str, message: str) -> str:
    return _catalog(normalise(lang)).get(message, message)


@lru_cache
def _translations(lang: str) -> NullTranslations:
    """Babel's gettext object for `lang`, built in memory from the .po (its plural rule
    comes from the locale: one form in Chinese, two in English)."""
    folder = _CATALOG_DIRS.get(lang)
    if folder is None:
        return NullTranslations()
    path = _LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=folder)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The plural form of a message for count `n` in `lang` ("1 ticket", "2 tickets")."""
    return str(_translations(normalise(lang)).ngettext(singular, plural, n))


def normalise(lang: str | None) -> str:
    """Map any zh variant to zh-CN and anything unknown to English."""
    if not lang:
        return DEFAULT_LANGUAGE
    lang = lang.strip().lower()
    if lang.startswith("zh"):
        return "zh-CN"
    return "en" if lang.startswith("en") else DEFAULT_LANGUAGE


def negotiate(accept_language: str | None) -> str:
    """Pick from an Accept-Language header by q-value; English when nothing matches."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        tag = tag.strip().lower()
        if (tag.startswith("zh") or tag.startswith("en")) and q > best_q:
            best, best_q = normalise(tag), q
    return best
