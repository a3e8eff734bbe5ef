"""In the browser, a customer is warned before a seed phrase is sent, and it never lands."""

import pytest
from mnemonic import Mnemonic
from playwright.sync_api import Browser, expect

from .e2e_support import Server

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000
SEED = Mnemonic("english").to_mnemonic(bytes(range(32, 48)))


def test_seed_phrase_is_warned_about_before_sending(kefu_server: Server,
                                                    chromium_browser: Browser) -> None:
    context = chromium_browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    base = kefu_server.base_url
    page.goto(f"{base}/portal/signup")
    page.fill("input[name=email]", "worried@example.com")
    page.fill("input[name=password]", "a long enough password")
    page.click("form.card button")
    page.wait_for_url("**/portal/tickets")
    page.goto(f"{base}/portal/tickets/new")
    page.select_option("select[name=category]", "account")
    page.fill("input[name=subject]", "Is my wallet safe?")
    page.fill("textarea[name=description]", f"My recovery words: {SEED}")
    page.click("form[data-guard] button")
    warning = page.locator(".guard-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("seed phrase")
    assert "/portal/tickets/new" in page.url  # not sent yet
    page.click("form[data-guard] button")
    page.wait_for_url("**/portal/tickets/KF-*")
    expect(page.locator("#secret-warning")).to_be_visible()
    body = page.locator("ol.thread").inner_text()
    assert SEED.split()[0] + " " + SEED.split()[1] not in body
    context.close()
