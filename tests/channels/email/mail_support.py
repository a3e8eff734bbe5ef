"""What the email tests share: a mail sink and the built-in receiver on loopback ports, a
mailbox made through the admin pages, mail to send, and what the mailbox received."""

import asyncio
import contextlib
import email
import email.policy
import html
import re
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import httpx
import pytest
from aiosmtpd.controller import Controller

from conftest import Desk, agent_client
from kefu.accounts.models import Role
from kefu.channels.email.receiver import serve


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raws: list[bytes] = []  # as received on the wire
        self.envelopes: list[list[str]] = []  # RCPT TO of each, whatever the headers say

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        self.raws.append(raw)
        self.envelopes.append(list(envelope.rcpt_tos))  # type: ignore[attr-defined]
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture(name="sink")
def sink_fixture() -> Iterator[tuple[Sink, int]]:
    inbox, port = Sink(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(name="receiver")
async def receiver_fixture(desk: Desk) -> AsyncIterator[int]:
    port, ready = _free_port(), asyncio.Event()
    task = asyncio.create_task(serve(desk.settings, desk.app.state.session_factory,
                                     host="127.0.0.1", port=port, ready=ready))
    await ready.wait()
    yield port
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture(name="admin")
async def admin_fixture(desk: Desk) -> httpx.AsyncClient:
    return await agent_client(desk, role=Role.ADMIN)


async def _mailbox(admin: httpx.AsyncClient, *, team: str = "General support",
                   category: str = "other", priority: str = "normal") -> tuple[str, str]:
    page = (await admin.get("/admin/mailboxes")).text
    team_id = re.search(rf'<option value="(\d+)">{re.escape(html.escape(team))}</option>', page)
    assert team_id is not None
    address = f"support-{secrets.token_hex(3)}@exchange.example"
    made = await admin.post("/admin/mailboxes", data={
        "address": address, "name": "Exchange Support", "team_id": team_id.group(1),
        "category": category, "priority": priority})
    assert made.status_code == 303
    page = (await admin.get("/admin/mailboxes")).text
    mailbox_id = page.split(f"<code>{address}</code>")[1].split('/admin/mailboxes/')[1]
    return address, mailbox_id.split("/")[0]


def _mail(to: str, *, sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def _send(port: int, message: EmailMessage | bytes, *, to: str,
                sender: str = "someone@mail.example") -> None:
    await aiosmtplib.send(message, sender=sender, recipients=[to], hostname="127.0.0.1",
                          port=port)


async def _received(desk: Desk, admin: httpx.AsyncClient, mailbox_id: str
                    ) -> list[dict[str, str]]:
    """Run the parse jobs, then read the mailbox's received mail as the admin sees it."""
    await desk.run_jobs()
    page = (await admin.get(f"/admin/mailboxes/{mailbox_id}/messages")).text
    rows = re.findall(r'<tr class="raw-email" data-id="(\d+)" data-status="(\w+)" '
                      r'data-ticket="([^"]*)" data-flags="([^"]*)">', page)
    return [{"id": i, "status": s, "ticket": t, "flags": f} for i, s, t, f in rows]
