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


def customer_files_ticket(context: BrowserContext, base: str) -> str:
    """A customer signs up and files a ticket (form posts, as the browser would send them)."""
    signup = context.request.post(f"{base}/portal/signup", form={
        "email": "macro-trader@example.com", "password": "a long enough password",
        "name": "Test Trader"})
    assert signup.ok, signup.status
    filed = context.request.post(f"{base}/portal/tickets/new", max_redirects=0, form={
        "category": "deposit_withdrawal", "subject": "USDT deposit missing",
        "description": "I sent 250 USDT on TRC-20 two hours ago and it has not arrived."})
    assert filed.status == 303, filed.status
    return filed.headers["location"].split("/portal/tickets/")[1].split("?")[0]


def test_agent_assigns_uses_a_macro_and_the_keyboard(chromium_browser: Browser,
                                                     kefu_server: Server,
                                                     contexts: list[BrowserContext]) -> None:
    base = kefu_server.base_url
    reference = customer_files_ticket(_context(chromium_browser, contexts), base)
    page = _context(chromium_browser, contexts).new_page()
    agent_logs_in(page, kefu_server)

    page.goto(f"{base}/console/macros")
    form = page.locator("#macro-form")
    form.locator("input[name=title]").fill("Deposit credited")
    form.locator("textarea[name=body_en]").fill(
        "Hello {customer_name}, {ticket_reference} is credited. {agent_name}")
    form.locator("textarea[name=body_zh]").fill("{customer_name} 您好，{ticket_reference} 已到账。")
    form.locator("select[name=set_status]").select_option("pending_customer")
    form.locator("button").click()
    expect(page.locator("#macros")).to_contain_text("Deposit credited")

    page.goto(f"{base}/console/tickets/{reference}")
    update = page.locator("form#update")
    update.locator("select[name=assignee_id]").select_option(label="Demo Agent")
    update.locator("button").click()
    expect(page.locator("[role=alert]")).to_have_count(0)
    expect(update.locator("select[name=assignee_id] option:checked")).to_have_text("Demo Agent")
    expect(page.locator("#customer-context")).to_contain_text("Test Trader")

    page.keyboard.press("?")
    expect(page.locator("dialog#shortcuts")).to_be_visible()
    expect(page.locator("dialog#shortcuts")).to_contain_text("Write an internal note")
    page.keyboard.press("Escape")
    expect(page.locator("dialog#shortcuts")).to_be_hidden()

    box = page.locator("#reply textarea[name=body]")
    page.keyboard.press("r")
    expect(box).to_be_focused()
    page.keyboard.type("/credited")
    expect(page.locator("#macro-suggestions")).to_contain_text("Deposit credited")
    page.keyboard.press("Enter")
    expect(box).to_have_value(f"Hello Test Trader, {reference} is credited. Demo Agent")
    page.locator("#reply button").click()
    expect(page.locator(".meta .status")).to_have_text("Waiting on customer")
    expect(page.locator(".message.agent .body").last).to_contain_text("is credited")

    page.keyboard.press("n")
    expect(box).to_be_focused()
    expect(page.locator("#reply input[name=internal]")).to_be_checked()
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    expect(page.locator(".meta .status")).to_have_text("Resolved")
    page.keyboard.press("j")
    expect(page).to_have_url(f"{base}/console?view=team_unassigned&notice=queue_empty")


def test_bulk_change_of_ticked_tickets(chromium_browser: Browser, kefu_server: Server,
                                       contexts: list[BrowserContext]) -> None:
    base = kefu_server.base_url
    customer = _context(chromium_browser, contexts)
    first = customer_files_ticket(customer, base)
    second = customer.request.post(f"{base}/portal/tickets/new", max_redirects=0, form={
        "category": "deposit_withdrawal", "subject": "Second deposit missing",
        "description": "Another deposit of 10 USDT has not arrived either."})
    second_ref = second.headers["location"].split("/portal/tickets/")[1].split("?")[0]
    page = _context(chromium_browser, contexts).new_page()
    agent_logs_in(page, kefu_server)
    page.goto(f"{base}/console?view=all")
    for reference in (first, second_ref):
        page.locator(f"input[name=ref][value='{reference}']").check()
    bulk = page.locator("form#bulk")
    bulk.locator("select[name=priority]").select_option("urgent")
    bulk.locator("select[name=assignee_id]").select_option(label="Demo Agent")
    bulk.locator("button").click()
    expect(page.locator("[role=status]")).to_have_text("2 tickets changed.")
    for reference in (first, second_ref):
        row = page.locator("table.list tr", has_text=reference)
        expect(row.locator(".priority")).to_have_text("Urgent")
        expect(row).to_contain_text("agent@kefu.local")
