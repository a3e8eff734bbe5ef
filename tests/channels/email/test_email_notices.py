"""An email ticket's confirmation and status notices go out from its mailbox, in the
customer's thread, over loopback SMTP; answering one (or a bounce of one) finds the same
ticket through the receiver; a portal ticket's notices stay plain."""

import secrets
from email.message import EmailMessage

import httpx
from mail_support import (  # noqa: F401  (the fixtures, used by name)
    Sink,
    _mail,
    _mailbox,
    _received,
    _send,
    admin_fixture,
    receiver_fixture,
    sink_fixture,
)

from conftest import (
    Desk,
    agent_client,
    customer_client,
    make_settings,
    make_token,
    reference_from,
    submit_ticket,
)


def _plain(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _bounce(address: str, customer: str, returned: EmailMessage) -> bytes:
    return (f"From: Mail Delivery System <MAILER-DAEMON@mx.mail.example>\r\nTo: {address}"
            "\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
            "\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered."
            "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.mail.example\r\n\r\nFinal-Recipient: rfc822; "
            f"{customer}\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n--b\r\n"
            "Content-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {returned['Message-ID']}\r\nSubject: {returned['Subject']}\r\n"
            "\r\n--b--\r\n").encode()


async def test_confirmation_and_status_notices_are_threaded_and_answers_come_back(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int]) -> None:
    address, mailbox_id = await _mailbox(admin)
    customer = f"n-{secrets.token_hex(3)}@mail.example"
    portal = await customer_client(desk, email=customer)
    await portal.post("/portal/account/anti-phishing", data={"code": "Heron2026"})
    first = _mail(address, sender=customer, subject="deposit not credited",
                  body="My USDT deposit has not arrived.")
    # Longer than a header line, as some clients make them: it must go back out whole.
    del first["Message-ID"]
    first["Message-ID"] = f"<{secrets.token_hex(36)}.{secrets.token_hex(4)}@mx.mail.example>"
    await _send(receiver, first, to=address)
    inbox, port = sink
    smtp = make_settings(desk.settings.data_dir, desk.settings.database_url,
                         smtp_host="127.0.0.1", smtp_port=port)
    await desk.run_jobs(smtp)  # the parse, then the confirmation it queued
    [row] = await _received(desk, admin, mailbox_id)
    reference = row["ticket"]

    # "We received your request": from the mailbox, answering the customer's mail.
    [(confirmation, raw)] = [(m, r) for m, r in zip(inbox.messages, inbox.raws, strict=True)
                             if m["X-Kefu-Ticket"] == reference]
    assert f"\r\nIn-Reply-To: {first['Message-ID']}\r\n".encode() in raw  # not RFC 2047
    assert confirmation["To"] == customer and address in confirmation["From"]
    assert f"[{reference}]" in confirmation["Subject"]
    assert confirmation["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in confirmation["References"]
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert confirmation.get_body(preferencelist=("html",)) is not None
    assert reference in _plain(confirmation) and "Heron2026" in _plain(confirmation)
    assert confirmation["Message-ID"].endswith("@exchange.example>")

    # The customer answers the confirmation; their client sends only In-Reply-To and a
    # subject without the reference: the same ticket.
    answer = _mail(address, sender=customer, subject="Re: thanks",
                   body="Here is the TxID: 0x1234.", In_Reply_To=confirmation["Message-ID"])
    await _send(receiver, answer, to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert [r["ticket"] for r in rows] == [reference, reference]
    assert rows[0]["status"] == "processed"
    api, _ = await make_token(desk)
    ticket = (await api.get(f"/api/v1/tickets/{reference}")).json()
    assert [m["body"] for m in ticket["messages"]] == [
        "My USDT deposit has not arrived.", "Here is the TxID: 0x1234."]

    # Resolved: the notice answers the customer's latest mail, from the mailbox.
    assert (await api.patch(f"/api/v1/tickets/{reference}",
                            json={"status": "resolved"})).status_code == 200
    await desk.run_jobs(smtp)
    notices = [m for m in inbox.messages if m["X-Kefu-Ticket"] == reference]
    assert len(notices) == 2
    resolved = notices[-1]
    assert address in resolved["From"] and f"[{reference}]" in resolved["Subject"]
    assert resolved["In-Reply-To"] == answer["Message-ID"]
    assert first["Message-ID"] in resolved["References"]
    assert "Heron2026" in _plain(resolved)
    assert resolved["Message-ID"] != confirmation["Message-ID"]

    # The confirmation bounces later: the agent sees it in the ticket's thread.
    await _send(receiver, _bounce(address, customer, confirmation), to=address,
                sender="mailer-daemon@mx.mail.example")
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] == reference and "auto:bounce" in rows[0]["flags"]
    agent = await agent_client(desk, team="general")
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert "An email about this ticket bounced" in page
    assert (await api.get(f"/api/v1/tickets/{reference}")).json()["status"] == "resolved"


async def test_a_notice_has_the_same_message_id_on_every_try_and_a_forged_one_finds_nothing(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int]) -> None:
    from kefu.channels.email.notices import send_ticket_notice
    from kefu.core.jobs import JobContext

    address, mailbox_id = await _mailbox(admin)
    customer = f"t-{secrets.token_hex(3)}@mail.example"
    first = _mail(address, sender=customer, subject="withdrawal", body="Stuck.")
    await _send(receiver, first, to=address)
    [row] = await _received(desk, admin, mailbox_id)
    inbox, port = sink
    ctx = JobContext(make_settings(desk.settings.data_dir, desk.settings.database_url,
                                   smtp_host="127.0.0.1", smtp_port=port),
                     desk.app.state.session_factory)
    payload = {"to": customer, "subject": f"[{row['ticket']}] Update", "text": "Update.",
               "ticket": row["ticket"], "nonce": "abc123"}
    assert await send_ticket_notice(payload, ctx)
    assert await send_ticket_notice(payload, ctx)
    ids = [m["Message-ID"] for m in inbox.messages if m["Subject"] == payload["subject"]]
    assert len(ids) == 2 and ids[0] == ids[1]
    # Someone makes up an id in the same shape for the ticket: its tag does not verify.
    forged = ids[0].replace(ids[0].split(".")[-2][:20], "0" * 20)
    stranger = f"s-{secrets.token_hex(3)}@mail.example"
    await _send(receiver, _mail(address, sender=stranger, subject="hello",
                                body="hi", In_Reply_To=forged), to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] != row["ticket"] and "sender_not_customer" not in rows[0]["flags"]


async def test_a_portal_tickets_confirmation_stays_plain_from_the_desk(
        desk: Desk, sink: tuple[Sink, int]) -> None:
    customer = f"p-{secrets.token_hex(3)}@mail.example"
    portal = await customer_client(desk, email=customer)
    reference = reference_from(await submit_ticket(portal, subject="KYC question"))
    inbox, port = sink
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=port)
    await desk.run_jobs(settings)
    [mail] = [m for m in inbox.messages if m["To"] == customer]
    assert reference in mail["Subject"] and mail["From"] == settings.mail_from
    assert mail["In-Reply-To"] is None and mail["X-Kefu-Ticket"] is None
