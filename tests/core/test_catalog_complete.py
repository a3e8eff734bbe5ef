"""Every string a template translates has its Chinese: no English left in the zh-CN UI."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

SRC = Path(__file__).resolve().parents[2] / "src" / "kefu"
CATALOG = SRC / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
# _("…") and ngettext("…", …): the literal first argument, in either quote.
LITERAL = re.compile(r"""(?:\b_|\bngettext)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
# Labels kept in template dictionaries and passed to _() by variable.
DICT_LABEL = re.compile(r"""\{%\s*set\s+\w+\s*=\s*\{(.*?)\}\s*%\}""", re.S)
DICT_VALUE = re.compile(r""":\s*"([^"]+)\"""")


def _translated() -> set[str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
            if m.id and (m.string if isinstance(m.string, str) else all(m.string))}


def _used() -> dict[str, str]:
    used: dict[str, str] = {}
    for template in (SRC / "web" / "templates").rglob("*.html"):
        text = template.read_text("utf-8")
        for match in LITERAL.finditer(text):
            used.setdefault(match.group(1) or match.group(2), template.name)
        for block in DICT_LABEL.findall(text):
            for label in DICT_VALUE.findall(block):
                used.setdefault(label, template.name)
    return used


def test_every_template_string_has_a_chinese_translation() -> None:
    used, translated = _used(), _translated()
    assert len(used) > 200  # the scan found the templates' strings
    missing = {text: where for text, where in used.items() if text not in translated}
    assert missing == {}


def test_every_status_priority_and_category_label_is_translated() -> None:
    from kefu.web.templating import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS

    labels = {*STATUS_LABELS.values(), *PRIORITY_LABELS.values(), *CATEGORY_LABELS.values()}
    assert labels - _translated() == set()
