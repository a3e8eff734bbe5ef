"""Counts read naturally in both languages: Babel's ngettext picks the plural form."""

from conftest import Desk, agent_client, customer_client, submit_ticket
from kefu.core.i18n import ngettext


def test_plural_forms_follow_each_language() -> None:
    assert ngettext("en", "%(n)s ticket", "%(n)s tickets", 1) == "%(n)s ticket"
    assert ngettext("en", "%(n)s ticket", "%(n)s tickets", 2) == "%(n)s tickets"
    assert ngettext("en", "%(n)s ticket", "%(n)s tickets", 0) == "%(n)s tickets"
    # Chinese has one form, translated (not the English plural).
    assert ngettext("zh-CN", "%(n)s ticket", "%(n)s tickets", 1) == "%(n)s 个工单"
    assert ngettext("zh-CN", "%(n)s ticket", "%(n)s tickets", 5) == "%(n)s 个工单"


async def test_the_inbox_says_1_ticket(desk: Desk) -> None:
    customer = await customer_client(desk)
    marker = "plural-check-7f3a"
    await submit_ticket(customer, subject=f"Deposit {marker}")
    agent = await agent_client(desk)
    english = await agent.get("/console", params={"view": "all", "q": marker})
    assert "1 ticket<" in english.text and "1 tickets" not in english.text
    chinese = await agent.get("/console", params={"view": "all", "q": marker, "lang": "zh-CN"})
    assert "1 个工单" in chinese.text
