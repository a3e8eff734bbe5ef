"""Ticket notifications go out through a real SMTP server on loopback (aiosmtpd)."""

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from conftest import (
    Desk,
    customer_client,
    make_settings,
    reference_from,
    submit_ticket,
    unique_email,
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def test_confirmation_email_with_reference_over_smtp(desk: Desk,
                                                           smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    address = unique_email()
    customer = await customer_client(desk, email=address)
    await customer.post("/portal/account/anti-phishing", data={"code": "Panda2026"})
    reference = reference_from(await submit_ticket(customer, subject="提现失败 withdrawal failed"))
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=port)
    await desk.run_jobs(settings)
    mine = [m for m in inbox.messages if m["To"] == address]
    assert len(mine) == 1
    message = mine[0]
    assert reference in message["Subject"] and "提现失败" in message["Subject"]
    body = message.get_content()
    assert reference in body
    assert "Panda2026" in body  # the anti-phishing code proves the mail is ours
    assert "never ask for your password" in body
    assert message["Auto-Submitted"] == "auto-generated"


async def test_chinese_customer_gets_chinese_email(desk: Desk, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    address = unique_email()
    customer = await customer_client(desk, email=address, lang="zh-CN,zh;q=0.9")
    reference = reference_from(await submit_ticket(customer))
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=port)
    await desk.run_jobs(settings)
    message = next(m for m in inbox.messages if m["To"] == address)
    assert "我们已收到您的工单" in message["Subject"]
    assert f"您的工单号为 {reference}" in message.get_content()


async def test_unreachable_smtp_keeps_the_mail_queued_for_retry(desk: Desk) -> None:
    from sqlalchemy import select

    from kefu.core import jobs

    customer = await customer_client(desk)
    await submit_ticket(customer)
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=_free_port())
    await desk.run_jobs(settings)
    async with desk.app.state.session_factory() as db:
        waiting = (await db.execute(select(jobs.Job).where(
            jobs.Job.kind == "email.send", jobs.Job.status == "queued",
            jobs.Job.attempts >= 1))).scalars().all()
    assert waiting and all(j.last_error for j in waiting)


async def test_crlf_in_subject_cannot_inject_headers(desk: Desk,
                                                     smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    address = unique_email()
    customer = await customer_client(desk, email=address)
    await submit_ticket(customer, subject="hello\r\nBcc: victim@example.com")
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=port)
    await desk.run_jobs(settings)
    message = next(m for m in inbox.messages if m["To"] == address)
    assert message["Bcc"] is None


async def test_a_tickets_email_is_offered_to_its_channel_first_and_plain_when_declined(
        desk: Desk, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> None:
    from typing import Any

    from kefu.core.jobs import JobContext
    from kefu.notifications import service

    offered: list[dict[str, Any]] = []

    async def declines(payload: dict[str, Any], ctx: JobContext) -> bool:
        offered.append(payload)
        return False

    async def takes(payload: dict[str, Any], ctx: JobContext) -> bool:
        offered.append(payload)
        return True

    inbox, port = smtp
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=port)
    monkeypatch.setattr(service, "_ticket_mail_senders", [declines])
    address = unique_email()
    customer = await customer_client(desk, email=address)
    reference = reference_from(await submit_ticket(customer))
    await desk.run_jobs(settings)
    mine = [p for p in offered if p["ticket"] == reference]
    assert len(mine) == 1 and mine[0]["nonce"]  # the ticket, and what keeps its id stable
    assert [m["To"] for m in inbox.messages].count(address) == 1  # declined: sent plain
    monkeypatch.setattr(service, "_ticket_mail_senders", [takes])
    other = unique_email()
    await submit_ticket(await customer_client(desk, email=other))
    await desk.run_jobs(settings)
    assert other not in [m["To"] for m in inbox.messages]  # the channel sent it its own way
