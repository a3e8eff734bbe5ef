"""Customer pages in zh-CN and English, chosen by the user or by Accept-Language."""

import re
from pathlib import Path

from conftest import Desk, customer_client
from kefu.core.i18n import negotiate, translate

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "kefu" / "web" / "templates"


def test_negotiate_prefers_the_highest_quality_supported_language() -> None:
    assert negotiate("zh-TW,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert negotiate("fr-FR,en;q=0.5,zh;q=0.4") == "en"
    assert negotiate("de, fr") == "en"
    assert negotiate(None) == "en"
    assert negotiate("en;q=bogus, zh") == "zh-CN"


def test_every_template_string_has_a_chinese_translation() -> None:
    pattern = re.compile(r"""_\(\s*(?:"([^"]+)"|'([^']+)')""")
    missing = set()
    for path in TEMPLATES.rglob("*.html"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) or match.group(2)
            if translate("zh-CN", text) == text and text not in {"API"}:
                missing.add(f"{path.name}: {text}")
    assert not missing, sorted(missing)


async def test_pages_follow_accept_language_and_the_chosen_language(desk: Desk) -> None:
    client = desk.client()
    chinese = await client.get("/portal/login", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-CN"' in chinese.text and "登录" in chinese.text
    english = await client.get("/portal/login", headers={"accept-language": "en-US"})
    assert "Log in" in english.text
    chosen = await client.post("/lang", data={"lang": "zh-CN", "next": "/portal/login"})
    assert chosen.status_code == 303
    after = await client.get("/portal/login", headers={"accept-language": "en-US"})
    assert "登录" in after.text


async def test_ticket_form_in_chinese(desk: Desk) -> None:
    customer = await customer_client(desk, lang="zh-CN")
    page = await customer.get("/portal/tickets/new", headers={"accept-language": "zh-CN"})
    for text in ("提交工单", "问题类别", "充值与提现", "请勿填写您的密码"):
        assert text in page.text
