"""Beside every ticket: the customer's UID and whether it is verified, language, other
tickets with their status, recent security events, whether an anti-phishing code is set."""

import secrets

from conftest import (
    Desk,
    agent_client,
    customer_client,
    reference_from,
    sso_customer_client,
    submit_ticket,
)


def _panel(page: str) -> str:
    return page.split('id="customer-context"')[1].split("</section>")[0]


async def test_the_panel_shows_who_the_customer_is_and_what_happened(desk: Desk) -> None:
    uid = str(70_000_000 + secrets.randbelow(9_999_999))
    customer = await sso_customer_client(desk, uid)
    code = f"Ph{secrets.token_hex(3)}"
    saved = await customer.post("/portal/account/anti-phishing", data={"code": code})
    assert saved.status_code == 303, saved.text
    freeze = await customer.post("/portal/security/freeze", data={"confirm": "1"})
    assert freeze.status_code in (303, 422), freeze.text  # asked, whatever the exchange says
    first = reference_from(await submit_ticket(customer, subject="First one", uid=uid))
    await submit_ticket(customer, subject="Compliance one", category="compliance")
    second = reference_from(await submit_ticket(customer, subject="Second", uid="12345678"))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{first}/update", data={"status": "pending_customer"})

    panel = _panel((await agent.get(f"/console/tickets/{second}")).text)
    assert f"{uid} <span class=\"pill verified\">verified by the exchange" in panel
    assert "12345678 <span class=\"pill unverified\">typed in this ticket, not verified" in panel
    assert "Anti-phishing code</dt><dd>Set</dd>" in panel and code not in panel
    assert f'<a href="/console/tickets/{first}">{first}</a> First one' in panel
    assert 'class="status pending_customer"' in panel
    assert "another team&#39;s" in panel and "Compliance one" not in panel  # not this team's
    assert "Asked to freeze the account" in panel and "Set an anti-phishing code" in panel
    assert "Signed in through the exchange" in panel
    assert second not in panel  # the ticket itself is not among "other tickets"
    chinese = _panel((await agent.get(f"/console/tickets/{second}?lang=zh-CN")).text)
    assert "已由交易所验证" in chinese and "申请冻结账户" in chinese and "已设置" in chinese


async def test_a_new_customer_without_uid_or_history(desk: Desk) -> None:
    customer = await customer_client(desk, lang="zh-CN")
    reference = reference_from(await submit_ticket(customer, uid=""))
    panel = _panel((await (await agent_client(desk)).get(f"/console/tickets/{reference}")).text)
    assert "none on the account" in panel and "unverified" not in panel
    assert "简体中文" in panel and "Anti-phishing code</dt><dd>Not set</dd>" in panel
    assert panel.count("None.") == 2
