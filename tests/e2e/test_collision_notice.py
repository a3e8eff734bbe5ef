"""The collision notice in real browsers: an agent with a ticket open sees that another
agent opened it too, and that they are typing a reply."""

import pytest
from playwright.sync_api import Browser, Page, expect

from .e2e_support import Server
from .test_live_console import TIMEOUT_MS, customer_files, mark_page

pytestmark = pytest.mark.e2e

LIVE_MS = 8_000


def sign_in(page: Page, server: Server, email: str) -> None:
    page.goto(f"{server.base_url}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", server.demo_password(email))
    page.click("form[action='/console/login'] button")
    expect(page).to_have_url(f"{server.base_url}/console")


def test_an_agent_sees_another_open_the_ticket_and_type(chromium_browser: Browser,
                                                        kefu_server: Server) -> None:
    base = kefu_server.base_url
    contexts = [chromium_browser.new_context(locale=locale)
                for locale in ("en-US", "en-US", "zh-CN")]
    for context in contexts:
        context.set_default_timeout(TIMEOUT_MS)
    customer, agent_context, admin_context = contexts
    try:
        reference = customer_files(customer.new_page(), base, "Collision: USDT missing")
        agent = agent_context.new_page()
        sign_in(agent, kefu_server, "agent@kefu.local")
        agent.goto(f"{base}/console/tickets/{reference}")
        mark_page(agent)
        notice = agent.locator(".live-presence")
        expect(notice).to_be_hidden()

        admin = admin_context.new_page()
        sign_in(admin, kefu_server, "admin@kefu.local")
        admin.goto(f"{base}/console/tickets/{reference}")
        mark_page(admin)
        expect(notice).to_have_text("Demo Admin is viewing this ticket.", timeout=LIVE_MS)
        # The one who came second learns of the first at once, in their own language.
        expect(admin.locator(".live-presence")).to_have_text("Demo Agent 正在查看此工单。",
                                                           timeout=LIVE_MS)

        admin.locator("#reply textarea[name=body]").press_sequentially("We are checking")
        expect(notice).to_have_text("Demo Admin is typing a reply…", timeout=LIVE_MS)

        admin.goto(f"{base}/console")  # leaves the ticket
        expect(notice).to_be_hidden(timeout=LIVE_MS)
    finally:
        for context in contexts:
            context.close()
