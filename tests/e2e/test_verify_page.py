"""The official-channel checker in a real browser: official, look-alike, and Chinese UI."""

import pytest
from playwright.sync_api import Browser, expect

from .e2e_support import Server

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000


def test_verify_page_tells_official_from_lookalike(kefu_server: Server,
                                                   chromium_browser: Browser) -> None:
    context = chromium_browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{kefu_server.base_url}/verify")
    page.fill("input[name=value]", "https://www.kefu.example/help")
    page.press("input[name=value]", "Enter")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "official")

    page.fill("input[name=value]", "https://kefu-example-support.com/login")
    page.press("input[name=value]", "Enter")
    expect(verdict).not_to_have_attribute("data-verdict", "official")

    page.fill("input[name=value]", "@KefuExchange_support")
    page.press("input[name=value]", "Enter")
    expect(verdict).to_have_attribute("data-verdict", "lookalike")
    expect(page.locator("body")).to_contain_text("never ask")
    context.close()

    chinese = chromium_browser.new_context(locale="zh-CN",
                                           extra_http_headers={"accept-language": "zh-CN"})
    zh_page = chinese.new_page()
    zh_page.set_default_timeout(TIMEOUT_MS)
    zh_page.goto(f"{kefu_server.base_url}/verify?value=support%40kefu.example")
    expect(zh_page.locator("#verdict")).to_have_attribute("data-verdict", "official")
    expect(zh_page.locator("html")).to_have_attribute("lang", "zh-CN")
    chinese.close()
