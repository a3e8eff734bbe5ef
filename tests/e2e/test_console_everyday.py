"""The console and the portal in Chromium as people use them every day: a phone-width
menu, no 404 (favicon included) while browsing, and assignment to a demo agent."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .e2e_support import Server

pytestmark = pytest.mark.e2e

AGENT_EMAIL = "agent@kefu.local"
TIMEOUT_MS = 20_000
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def contexts(chromium_browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    expect.set_options(timeout=TIMEOUT_MS)
    yield made
    for context in made:
        context.close()


def _context(browser: Browser, made: list[BrowserContext], *, lang: str = "en-US",
             phone: bool = False) -> BrowserContext:
    context = browser.new_context(locale=lang, viewport=PHONE if phone else None)
    context.set_default_timeout(TIMEOUT_MS)
    made.append(context)
    return context


def _menu_rows(page: Page) -> int:
    """How many rows the top bar's items (brand, menu entries, language) sit on."""
    tops = page.evaluate("""() => {
        const items = [...document.querySelectorAll(
            'header.top > .brand, header.top nav > *, header.top > form.lang')];
        return items.filter(e => e.getClientRects().length)
                    .map(e => Math.round(e.getBoundingClientRect().top));
    }""")
    rows: list[int] = []
    for top in sorted(tops):
        if not rows or top - rows[-1] > 8:
            rows.append(top)
    return len(rows)


def _not_found_while(page: Page) -> list[str]:
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    return missing


def agent_logs_in(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/console/login")
    page.fill("input[name=email]", AGENT_EMAIL)
    page.fill("input[name=password]", server.demo_password(AGENT_EMAIL))
    page.click("form[action='/console/login'] button")
    expect(page).to_have_url(f"{server.base_url}/console")


def test_phone_width_menus_fit_on_two_rows(chromium_browser: Browser, kefu_server: Server,
                                           contexts: list[BrowserContext]) -> None:
    base = kefu_server.base_url
    for lang in ("en", "zh-CN"):
        phone = _context(chromium_browser, contexts, lang=lang, phone=True)
        page = phone.new_page()
        missing = _not_found_while(page)
        for path in ("/", "/help", "/portal/login"):
            page.goto(f"{base}{path}")
            assert _menu_rows(page) <= 2, (lang, path, _menu_rows(page))
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        agent_logs_in(page, kefu_server)
        for path in ("/console", "/console/account"):
            page.goto(f"{base}{path}")
            assert _menu_rows(page) <= 2, (lang, path, _menu_rows(page))
        page.wait_for_load_state("networkidle")
        assert missing == [], missing  # the favicon among them
