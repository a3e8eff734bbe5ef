"""The chat widget in a real browser against a real server: a demo host page embeds it
with one line, the bot answers first, 转人工 queues the customer, an agent in a second
browser session accepts and replies, resolves, and the customer rates. Nothing is lost
or doubled across a dropped socket and a reload."""

import re
import time

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .e2e_support import Server
from .test_live_console import contexts, sign_in_agent

pytestmark = pytest.mark.e2e

QUESTION = "How do I cancel a withdrawal?"
AGENT_REPLY = "Hello, I am looking at your withdrawal now."
LIVE_MS = 10_000


def help_centre_ready(base: str, seconds: float = 120) -> None:
    """The bot answers from the help centre, whose index each server builds at start
    (seconds of CPU, more on a busy machine): the journey begins once it answers."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=30) as client:
        while time.monotonic() < deadline:
            found = client.get("/api/v1/help/suggest", params={"q": QUESTION}).json()
            if found["results"]:
                return
            time.sleep(0.5)
    raise AssertionError("the help centre's index was not ready")


def open_widget(page: Page, base: str, query: str = "") -> None:
    help_centre_ready(base)
    page.goto(f"{base}/chat/demo{query}")
    page.locator(".kefu-launcher").click()
    expect(page.locator(".kefu-panel")).to_be_visible()


def say(page: Page, text: str) -> None:
    page.locator(".kefu-input").fill(text)
    page.locator(".kefu-input").press("Enter")


def customer_texts(page: Page) -> list[str]:
    return page.locator(".kefu-from-customer .kefu-text").all_inner_texts()


def visitor_api(page: Page, base: str) -> tuple[httpx.Client, int]:
    """The server's view of this visitor's chat, with the token the widget keeps."""
    token = page.evaluate("localStorage.getItem('kefu:demo:visitor')")
    chat_id = int(page.evaluate("window.__kefuChat.current.chat.id"))
    client = httpx.Client(base_url=base, timeout=30,
                          headers={"authorization": f"Bearer {token}"})
    return client, chat_id


def server_history(page: Page, base: str) -> tuple[list[dict[str, object]], dict[str, object]]:
    client, chat_id = visitor_api(page, base)
    with client:
        answer = client.get(f"/chat/api/v1/chats/{chat_id}/messages", params={"after": 0})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    return data["messages"], data["chat"]


def agent_accepts_and_replies(agent: BrowserContext, server: Server, chat_id: int,
                              text: str) -> Page:
    """The demo deposits agent opens /console/chats, goes online (which drains the queue
    to them), accepts the chat and replies."""
    console = agent.new_page()
    sign_in_agent(console, server)
    console.goto(f"{server.base_url}/console/chats")
    console.locator("#presence").select_option("online")
    offered = console.locator(f"#list-offered a[data-chat='{chat_id}']")
    expect(offered).to_have_count(1, timeout=LIVE_MS)
    offered.click()
    console.locator("#accept").click()
    expect(console.locator("#accept")).to_be_hidden()
    console.locator("#reply").fill(text)
    console.locator("#reply").press("Enter")
    return console


def agent_resolves(console: Page) -> None:
    console.locator("#resolve").click()


def test_bot_first_then_an_agent_then_a_rating(chromium_browser: Browser,
                                               kefu_server: Server) -> None:
    base = kefu_server.base_url
    customer, agent = contexts(chromium_browser, 2)
    try:
        page = customer.new_page()
        open_widget(page, base)
        page.locator(".kefu-type[data-type=deposit_withdrawal]").click()
        say(page, QUESTION)
        answer = page.locator(".kefu-from-bot").filter(has=page.locator(".kefu-articles"))
        expect(answer).to_have_count(1, timeout=LIVE_MS)
        link = answer.locator(".kefu-articles a").first
        expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(base)}/help/articles/"))
        expect(answer.locator(".kefu-feedback-yes")).to_be_visible()

        say(page, "转人工")
        expect(page.locator(".kefu-status")).to_have_text(
            re.compile(r"You are number \d+ in the queue"), timeout=LIVE_MS)
        expect(page.locator(".kefu-feedback")).to_have_count(0)  # the bot is out of it

        chat_id = int(page.evaluate("window.__kefuChat.current.chat.id"))
        console = agent_accepts_and_replies(agent, kefu_server, chat_id, AGENT_REPLY)
        expect(page.locator(".kefu-from-agent .kefu-text")).to_have_text(AGENT_REPLY,
                                                                          timeout=LIVE_MS)
        expect(page.locator(".kefu-status")).to_have_text(re.compile(r" is helping you\.$"))

        agent_resolves(console)
        expect(page.locator(".kefu-status")).to_have_text("This chat has ended.",
                                                          timeout=LIVE_MS)
        page.locator(".kefu-star[data-score='5']").click()
        page.locator(".kefu-rating .kefu-card-submit").click()
        expect(page.locator(".kefu-rated")).to_have_text("Thank you for your rating.")
        messages, chat = server_history(page, base)
        assert chat["owner"] == "ended" and chat["rated"] is True
        assert [m["text"] for m in messages if m["author"] == "customer"] == [QUESTION, "转人工"]
        assert AGENT_REPLY in [m["text"] for m in messages if m["author"] == "agent"]
    finally:
        customer.close()
        agent.close()


def test_nothing_lost_or_doubled_across_a_dropped_socket_and_a_reload(
        chromium_browser: Browser, kefu_server: Server) -> None:
    base = kefu_server.base_url
    (customer,) = contexts(chromium_browser, 1)
    try:
        page = customer.new_page()
        open_widget(page, base)
        page.locator(".kefu-type[data-type=trading]").click()
        say(page, "first, while connected")
        expect(page.locator(".kefu-from-customer:not(.kefu-pending)")).to_have_count(1)

        # An outage: the socket drops and neither it nor the HTTP fallback gets through.
        page.route_web_socket("**/chat/ws*", lambda ws: ws.close())
        page.route("**/chat/api/v1/chats/*/messages", lambda route: route.abort())
        page.evaluate("window.__kefuChat.current.conn.ws.close()")
        say(page, "second, during the outage")
        expect(page.locator(".kefu-pending .kefu-text")).to_have_text("second, during the outage")
        expect(page.locator(".kefu-conn")).to_be_visible()

        page.reload()  # the unsent message survives it
        expect(page.locator(".kefu-pending .kefu-text")).to_have_text("second, during the outage")
        page.unroute_all()
        page.route_web_socket("**/chat/ws*", lambda ws: ws.connect_to_server())
        expect(page.locator(".kefu-pending")).to_have_count(0, timeout=40_000)
        expect(page.locator(".kefu-conn")).to_be_hidden()

        sent = ["first, while connected", "second, during the outage"]
        assert customer_texts(page) == sent
        messages, _ = server_history(page, base)
        assert [m["text"] for m in messages if m["author"] == "customer"] == sent
        seqs = [int(str(m["seq"])) for m in messages]
        assert seqs == sorted(set(seqs))

        page.reload()  # history comes back from the server, each message once
        expect(page.locator(".kefu-from-customer .kefu-text")).to_have_text(sent)
        shown = page.locator(".kefu-msg").evaluate_all(
            "items => items.map(li => li.getAttribute('data-seq'))")
        assert shown == [str(s) for s in seqs]
    finally:
        customer.close()


def test_on_a_phone_in_chinese_the_panel_fills_the_screen(chromium_browser: Browser,
                                                          kefu_server: Server) -> None:
    phone = chromium_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                         has_touch=True, locale="en-US")
    phone.set_default_timeout(20_000)
    try:
        page = phone.new_page()
        open_widget(page, kefu_server.base_url, "?lang=zh-CN")  # <html lang="zh-CN">
        expect(page.locator(".kefu-choose-title")).to_have_text("请问您遇到的是哪类问题？")
        box = page.locator(".kefu-panel").bounding_box()
        assert box is not None and (box["width"], box["height"]) == (390, 844)
        heights = page.locator(".kefu-type, .kefu-x, .kefu-lang").evaluate_all(
            "items => items.map(b => b.getBoundingClientRect().height)")
        assert min(heights) >= 44
        page.locator(".kefu-lang").click()  # the visitor's own choice, kept
        expect(page.locator(".kefu-choose-title")).to_have_text("What can we help you with?")
        assert page.evaluate("localStorage.getItem('kefu:demo:lang')") == "en"
    finally:
        phone.close()
