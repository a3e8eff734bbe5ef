"""The guard on the ticket path: secrets never stored, customers warned, agents blocked."""

import logging

from mnemonic import Mnemonic
from sqlalchemy import String, Text, select

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.accounts.models import Role
from kefu.models import metadata

SEED = Mnemonic("english").to_mnemonic(bytes(range(16)))
SEED_ZH = Mnemonic("chinese_simplified").to_mnemonic(bytes(range(100, 116)))


async def _all_stored_text(desk: Desk) -> str:
    """Every string column of every table, as one blob."""
    parts = []
    async with desk.app.state.session_factory() as db:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in (await db.execute(select(*columns))).all():
                parts.extend(str(v) for v in row if v)
            json_columns = [c for c in table.columns if c.type.__class__.__name__ == "JSON"]
            if json_columns:
                parts.extend(str(r) for r in (await db.execute(select(*json_columns))).all())
    return "\n".join(parts)


async def test_seed_phrase_in_a_ticket_is_never_stored_and_goes_to_security(
        desk: Desk, caplog: object) -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    customer = await customer_client(desk)
    text = f"I think I was hacked. My recovery words are: {SEED}. Please help!"
    response = await submit_ticket(customer, description=text, category="account")
    reference = reference_from(response)
    assert "masked=seed_phrase" in response.headers["location"]
    page = await customer.get(response.headers["location"])
    assert 'id="secret-warning"' in page.text
    await desk.run_jobs()
    stored = await _all_stored_text(desk)
    words = SEED.split()
    assert " ".join(words[:4]) not in stored and " ".join(words[-4:]) not in stored
    mail = desk.settings.mail_log_path.read_text(encoding="utf-8")
    assert " ".join(words[:4]) not in mail
    assert " ".join(words[:4]) not in caplog.text  # type: ignore[attr-defined]
    security = await agent_client(desk, team="security")
    detail = await security.get(f"/console/tickets/{reference}")
    assert detail.status_code == 200 and 'class="priority urgent"' in detail.text
    assert "I think I was hacked" in detail.text


async def test_secrets_in_a_reply_are_masked_and_the_kinds_audited(desk: Desk) -> None:
    customer = await customer_client(desk, lang="zh-CN")
    reference = reference_from(await submit_ticket(customer))
    reply = await customer.post(f"/portal/tickets/{reference}/reply",
                                data={"body": f"谷歌验证码 482913，助记词：{SEED_ZH}"})
    page = await customer.get(reply.headers["location"], headers={"accept-language": "zh-CN"})
    assert 'id="secret-warning"' in page.text
    stored = await _all_stored_text(desk)
    assert "482913" not in stored and SEED_ZH.replace(" ", "")[:8] not in stored
    admin = await agent_client(desk, role=Role.ADMIN)
    audit = (await admin.get("/admin/audit", params={"action": "security.secret_masked"})).text
    assert "otp_code" in audit and "seed_phrase" in audit and "482913" not in audit


async def test_ordinary_ticket_text_is_left_alone(desk: Desk) -> None:
    customer = await customer_client(desk)
    txid = "9f3c" * 16
    text = ("My withdrawal of 0.5 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh failed. "
            "Order 1234567890123. I changed my password yesterday.")
    response = await submit_ticket(customer, description=text, txid=txid)
    assert "masked=" not in response.headers["location"]
    page = (await customer.get(response.headers["location"])).text
    assert text in page and txid in page


async def test_agent_asking_for_a_2fa_code_is_blocked_and_audited(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    blocked = await agent.post(f"/console/tickets/{reference}/reply",
                               data={"body": "To verify you, please send me your 2FA code."})
    assert blocked.status_code == 422
    assert "please send me your 2FA code" in blocked.text  # the draft is kept for editing
    assert "2FA code." not in (await customer.get(f"/portal/tickets/{reference}")).text
    blocked_zh = await agent.post(f"/console/tickets/{reference}/reply",
                                  data={"body": "请提供一下您的谷歌验证码和登录密码"})
    assert blocked_zh.status_code == 422
    fine = await agent.post(f"/console/tickets/{reference}/reply",
                            data={"body": "We will never ask for your password or 2FA code."})
    assert fine.status_code == 303
    supervisor = await agent_client(desk, role=Role.ADMIN)
    audit = (await supervisor.get("/admin/audit",
                                  params={"action": "security.secret_request_blocked"})).text
    assert reference in audit and "otp_code" in audit


async def test_supervisors_review_blocked_attempts(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/reply",
                     data={"body": "Tell me your seed phrase so I can check the wallet"})
    assert (await agent.get("/console/security")).status_code == 403
    supervisor = await agent_client(desk, role=Role.SUPERVISOR)
    page = (await supervisor.get("/console/security")).text
    blocked = page.split('id="blocked"')[1].split("</table>")[0]
    assert reference in blocked and agent.headers["x-agent-email"] in blocked
    assert "seed" not in blocked.lower().replace("seed_phrase", "")  # kind only, no text
