"""The whole support loop in a real browser against a real server.

A customer signs up and files a deposit ticket with a screenshot; an agent finds it in
the inbox, answers and resolves it; the customer sees the answer and rates it.
"""

import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .e2e_support import Server

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"KF-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
CUSTOMER_EMAIL = "trader@example.com"
CUSTOMER_PASSWORD = "a long enough password"
AGENT_EMAIL = "agent@kefu.local"
ACTION_TIMEOUT_MS = 20_000  # generous: a loaded CI box; the happy path takes ~6 s in all
REPLY = "We found your deposit: it was credited to your spot account at 10:42 UTC."


def write_png(path: Path, width: int = 8, height: int = 8) -> Path:
    """A small, valid RGB PNG (a red square), built without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def customer_files_ticket(page: Page, base: str, screenshot: Path) -> str:
    page.goto(f"{base}/portal/signup")
    page.fill("input[name=email]", CUSTOMER_EMAIL)
    page.fill("input[name=name]", "Test Trader")
    page.fill("input[name=password]", CUSTOMER_PASSWORD)
    page.click("form[action='/portal/signup'] button")
    expect(page).to_have_url(f"{base}/portal/tickets")

    page.goto(f"{base}/portal/tickets/new")
    form = page.locator("form[action='/portal/tickets/new']")
    form.locator("select[name=category]").select_option("deposit_withdrawal")
    form.locator("input[name=subject]").fill("USDT deposit not credited")
    form.locator("textarea[name=description]").fill(
        "I sent 250 USDT on TRC-20 two hours ago and my balance has not changed.")
    form.locator("input[name=uid]").fill("12345678")
    form.locator("input[name=txid]").fill("a1b2c3d4e5f60718293a4b5c6d7e8f90")
    form.locator("select[name=platform]").select_option("web")
    form.locator("input[name=attachments]").set_input_files(str(screenshot))
    form.locator("button").click()

    expect(page.locator("[role=status]")).to_contain_text("Your ticket number is KF-")
    # The notice is for this visit only: its parameter leaves the address bar, and a reload
    # does not thank the customer again.
    expect(page).to_have_url(re.compile(r"/portal/tickets/KF-[A-Z0-9-]+$"))
    page.reload()
    expect(page.locator(".meta .ref")).to_be_visible()
    expect(page.locator("[role=status]")).to_have_count(0)
    expect(page.locator(".attachment a")).to_have_text(screenshot.name)
    assert_downloads(page, base, screenshot)
    reference = page.locator(".meta .ref").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    assert page.url.startswith(f"{base}/portal/tickets/{reference}")
    return reference


def assert_downloads(page: Page, base: str, original: Path) -> None:
    """The attachment link serves the uploaded bytes, as a download, to this session."""
    link = page.locator(".attachment a", has_text=original.name)
    href = link.get_attribute("href")
    assert href and href.startswith("/attachments/"), href
    response = page.request.get(f"{base}{href}")
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.body() == original.read_bytes()


def agent_resolves_ticket(page: Page, server: Server, reference: str, attachment: Path) -> None:
    base = server.base_url
    page.goto(f"{base}/console/login")
    page.fill("input[name=email]", AGENT_EMAIL)
    page.fill("input[name=password]", server.demo_password(AGENT_EMAIL))
    page.click("form[action='/console/login'] button")
    expect(page).to_have_url(f"{base}/console")

    # The default view is "All open".
    expect(page.locator("nav.tabs a.active")).to_have_text("All open")
    link = page.locator("table.list a", has_text=reference)
    expect(link).to_have_count(1)
    link.click()
    expect(page).to_have_url(f"{base}/console/tickets/{reference}")
    expect(page.locator(".attachment a")).to_have_text(attachment.name)
    assert_downloads(page, base, attachment)

    reply = page.locator("form#reply")
    reply.locator("textarea[name=body]").fill(REPLY)
    reply.locator("select[name=status]").select_option("resolved")
    reply.locator("button").click()
    expect(page).to_have_url(f"{base}/console/tickets/{reference}")
    expect(page.locator(".error")).to_have_count(0)
    expect(page.locator(".meta .status")).to_have_text("Resolved")
    expect(page.locator(".message.agent .body")).to_have_text(REPLY)


def test_customer_and_agent_complete_a_ticket(chromium_browser: Browser, kefu_server: Server,
                                              tmp_path: Path) -> None:
    # chromium_browser comes first: without Chromium the test skips before a server starts.
    browser = chromium_browser
    base = kefu_server.base_url
    screenshot = write_png(tmp_path / "deposit-screenshot.png")
    customer = browser.new_context(locale="en-US")
    agent = browser.new_context(locale="en-US")
    for context in (customer, agent):
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    try:
        portal = customer.new_page()
        reference = customer_files_ticket(portal, base, screenshot)

        agent_resolves_ticket(agent.new_page(), kefu_server, reference, screenshot)

        portal.reload()
        expect(portal.locator(".message.agent .body")).to_have_text(REPLY)
        expect(portal.locator(".meta .status")).to_have_text("Resolved")
        rate = portal.locator("form#rate")
        rate.locator("input[name=score][value='5']").check()
        rate.locator("textarea[name=comment]").fill("Quick and clear, thank you.")
        rate.locator("button").click()
        expect(portal).to_have_url(f"{base}/portal/tickets/{reference}")
        expect(portal.get_by_text("You rated this ticket 5 / 5")).to_be_visible()
        expect(portal.locator("form#rate")).to_have_count(0)

        portal.goto(f"{base}/portal/tickets")
        expect(portal.locator("table.list a", has_text=reference)).to_have_count(1)
        portal.goto(f"{base}/portal/tickets/{reference}")
        portal.screenshot(path=str(tmp_path / "final.png"), full_page=True)
    finally:
        customer.close()
        agent.close()
