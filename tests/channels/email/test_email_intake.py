"""Email end to end over real servers on loopback: mail is sent to the built-in SMTP
receiver (aiosmtpd), the parse job opens or continues tickets, an agent's reply goes out
over SMTP to a sink (aiosmtpd) threaded, and the customer's answer comes back in."""

import asyncio
import base64
import contextlib
import email
import email.policy
import io
import secrets
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import httpx
import pytest
from aiosmtpd.controller import Controller
from mail_support import (  # noqa: F401  (the fixtures, used by name)
    Sink,
    _free_port,
    _mail,
    _mailbox,
    _received,
    _send,
    admin_fixture,
    receiver_fixture,
    sink_fixture,
)
from typer.testing import CliRunner

from conftest import Desk, agent_client, make_settings, make_token
from kefu.channels.email import intake
from kefu.channels.email.receiver import serve
from kefu.cli import app


async def test_new_mail_opens_a_routed_ticket_and_the_reply_threads_both_ways(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int]) -> None:
    address, mailbox_id = await _mailbox(admin, team="Compliance & KYC")
    customer = f"li-{secrets.token_hex(3)}@mail.example"
    first = _mail(address, sender=f"Li Wei <{customer}>", subject="[紧急] 提现失败 withdrawal",
                  body="My withdrawal of 500 USDT failed.\n\n--\nLi Wei")
    await _send(receiver, first, to=address)
    [row] = await _received(desk, admin, mailbox_id)
    assert row["status"] == "processed" and row["ticket"].startswith("KF-")
    api, _ = await make_token(desk)
    ticket = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()
    assert ticket["channel"] == "email" and ticket["team"] == "compliance"
    assert ticket["category"] == "deposit_withdrawal" and ticket["priority"] == "urgent"
    assert ticket["identity_kind"] == "email" and ticket["identity_value"] == customer
    assert "500 USDT failed" in ticket["description"]

    # The agent answers: the mail goes out from the mailbox, in the customer's thread.
    answer = await api.post(f"/api/v1/tickets/{row['ticket']}/messages",
                            json={"body": "We are checking the withdrawal now."})
    assert answer.status_code == 201
    inbox, port = sink
    await desk.run_jobs(make_settings(desk.settings.data_dir, desk.settings.database_url,
                                      smtp_host="127.0.0.1", smtp_port=port))
    out = [m for m in inbox.messages if m["To"] == customer and m["X-Kefu-Ticket"]]
    assert len(out) == 1
    reply = out[0]
    assert address in reply["From"] and row["ticket"] in reply["Subject"]
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in reply["References"]
    assert reply.is_multipart()  # text, with an HTML alternative
    html_part = reply.get_body(preferencelist=("html",))
    assert html_part is not None and "checking the withdrawal" in html_part.get_content()
    plain = reply.get_body(preferencelist=("plain",))
    assert plain is not None
    body = plain.get_content()
    assert "checking the withdrawal" in body
    assert "我们绝不会索要您的密码" in body  # a Chinese subject: a Chinese-speaking customer

    # The customer answers that mail, quoting it: only the new text joins the ticket.
    again = _mail(address, sender=customer, subject=f"Re: {reply['Subject']}",
                  body="TxID is abc123, thanks.\n\nOn Sun, Dec 6, 2026 support wrote:\n"
                       "> We are checking the withdrawal now.\n",
                  In_Reply_To=reply["Message-ID"], References=reply["Message-ID"])
    await _send(receiver, again, to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["status"] == "processed" and rows[0]["ticket"] == row["ticket"]
    messages = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()["messages"]
    assert [m["direction"] for m in messages] == ["in", "out", "in"]
    assert messages[-1]["body"] == "TxID is abc123, thanks." and messages[-1]["channel"] == (
        "email")

    # Later the agent's mail bounces: the report is kept with the ticket, which stays as is.
    bounce = (f"From: Mail Delivery System <MAILER-DAEMON@mx.mail.example>\r\nTo: {address}"
              "\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
              'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
              "\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered."
              "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
              "Reporting-MTA: dns; mx.mail.example\r\n\r\nFinal-Recipient: rfc822; "
              f"{customer}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b\r\n"
              "Content-Type: text/rfc822-headers\r\n\r\n"
              f"Message-ID: {reply['Message-ID']}\r\nSubject: {reply['Subject']}\r\n"
              "\r\n--b--\r\n")
    await _send(receiver, bounce.encode(), to=address, sender="mailer-daemon@mx.mail.example")
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["status"] == "ignored" and rows[0]["ticket"] == row["ticket"]
    assert "auto:bounce" in rows[0]["flags"]
    after = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()
    assert [m["direction"] for m in after["messages"]] == ["in", "out", "in", "internal"]
    assert "bounced" in after["messages"][-1]["body"] and after["status"] == "open"
    agent = await agent_client(desk, team="compliance")
    thread = (await agent.get(f"/console/tickets/{row['ticket']}")).text
    assert "An email about this ticket bounced" in thread  # in the thread the agent reads
    shown = await agent.get(f"/console/tickets/{row['ticket']}/email")
    assert "auto:bounce" in shown.text and "Undelivered Mail" in shown.text


async def test_agent_reply_message_id_is_the_same_on_a_retry(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int]) -> None:
    from kefu.channels.delivery import outbound_message
    from kefu.channels.registry import adapter_for
    from kefu.core.jobs import JobContext

    address, mailbox_id = await _mailbox(admin)
    await _send(receiver, _mail(address, sender=f"r-{secrets.token_hex(3)}@mail.example",
                                subject="deposit missing", body="Where is my deposit?"),
                to=address)
    [row] = await _received(desk, admin, mailbox_id)
    api, _ = await make_token(desk)
    await api.post(f"/api/v1/tickets/{row['ticket']}/messages", json={"body": "On it."})
    inbox, port = sink
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             smtp_host="127.0.0.1", smtp_port=port)
    await desk.run_jobs(settings)
    sent = next(m for m in inbox.messages if m["X-Kefu-Ticket"] == row["ticket"])
    ctx = JobContext(settings, desk.app.state.session_factory)
    async with ctx.session_factory() as db:
        from sqlalchemy import text
        message_id = (await db.execute(text(
            "SELECT m.id FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id "
            "WHERE t.reference = :r AND m.direction = 'out'"), {"r": row["ticket"]})).scalar_one()
        outbound = await outbound_message(db, message_id)
    assert outbound is not None
    again = await adapter_for("email").deliver(outbound, ctx)
    assert f"<{again}>" == sent["Message-ID"]
    assert [m["Message-ID"] for m in inbox.messages].count(sent["Message-ID"]) == 2


async def test_spoofed_sender_naming_a_ticket_gets_a_flagged_ticket_of_their_own(
        desk: Desk, receiver: int, admin: httpx.AsyncClient) -> None:
    address, mailbox_id = await _mailbox(admin)
    victim = f"victim-{secrets.token_hex(3)}@mail.example"
    await _send(receiver, _mail(address, sender=victim, subject="账户被盗 help",
                                body="Someone logged in to my account."), to=address)
    [row] = await _received(desk, admin, mailbox_id)
    reference = row["ticket"]
    api, _ = await make_token(desk)
    assert (await api.get(f"/api/v1/tickets/{reference}")).json()["category"] == "security"
    # An attacker names the victim's ticket and sets Reply-To to the victim: not enough.
    attacker = f"attacker-{secrets.token_hex(3)}@evil.example"
    await _send(receiver, _mail(address, sender=attacker, subject=f"Re: [{reference}] help",
                                body="Please change my withdrawal address.",
                                Reply_To=victim), to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] != reference and rows[0]["ticket"].startswith("KF-")
    assert "sender_not_customer" in rows[0]["flags"] and "reply_to_differs" in rows[0]["flags"]
    victim_ticket = (await api.get(f"/api/v1/tickets/{reference}")).json()
    assert len(victim_ticket["messages"]) == 1
    flagged = (await api.get(f"/api/v1/tickets/{rows[0]['ticket']}")).json()
    assert flagged["identity_value"] == attacker  # From decides, never Reply-To
    # Agents see why, on the ticket's email page (linked from the ticket), in both languages.
    agent = await agent_client(desk, team="general")
    ticket_page = await agent.get(f"/console/tickets/{rows[0]['ticket']}")
    assert f"/console/tickets/{rows[0]['ticket']}/email" in ticket_page.text
    details = await agent.get(f"/console/tickets/{rows[0]['ticket']}/email")
    assert details.status_code == 200 and "is not this ticket&#39;s customer" in details.text
    assert "Please change my withdrawal address." in details.text
    chinese = await agent.get(f"/console/tickets/{rows[0]['ticket']}/email",
                              headers={"accept-language": "zh-CN"})
    assert "发件人不是该工单的客户" in chinese.text
    outsider = await agent_client(desk, team="listing")
    assert (await outsider.get(f"/console/tickets/{rows[0]['ticket']}/email")).status_code == 404


async def test_machine_mail_never_reopens_or_answers(
        desk: Desk, receiver: int, admin: httpx.AsyncClient) -> None:
    address, mailbox_id = await _mailbox(admin)
    customer = f"c-{secrets.token_hex(3)}@mail.example"
    first = _mail(address, sender=customer, subject="question", body="How do I enable 2FA?")
    await _send(receiver, first, to=address)
    [row] = await _received(desk, admin, mailbox_id)
    api, _ = await make_token(desk)
    resolved = await api.patch(f"/api/v1/tickets/{row['ticket']}", json={"status": "resolved"})
    assert resolved.status_code == 200
    for extra in ({"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"}):
        await _send(receiver, _mail(address, sender=customer, subject="Out of office",
                                    body="I am away.", In_Reply_To=first["Message-ID"],
                                    **extra), to=address)
    bounce = _mail(address, sender=f"MAILER-DAEMON@{secrets.token_hex(3)}.example",
                   subject=f"Undelivered: [{row['ticket']}]", body="550 no such user")
    await _send(receiver, bounce, to=address, sender="")
    rows = await _received(desk, admin, mailbox_id)
    assert [r["status"] for r in rows[:3]] == ["ignored"] * 3
    assert all(r["ticket"] == row["ticket"] for r in rows[:3])  # shown with their ticket
    assert {r["flags"].split()[0] for r in rows[:3]} == {
        "auto:auto_submitted", "auto:bulk", "auto:mailer_daemon"}
    ticket = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()
    assert ticket["status"] == "resolved" and len(ticket["messages"]) == 1


async def test_redelivered_mail_is_stored_once_and_a_sender_is_rate_limited(
        desk: Desk, receiver: int, admin: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    address, mailbox_id = await _mailbox(admin)
    sender = f"loop-{secrets.token_hex(3)}@mail.example"
    message = _mail(address, sender=sender, subject="deposit", body="deposit missing")
    await _send(receiver, message, to=address)
    await _send(receiver, message, to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert sorted(r["status"] for r in rows) == ["ignored", "processed"]
    assert rows[0]["ticket"] == rows[1]["ticket"] and "duplicate" in rows[0]["flags"]
    monkeypatch.setattr(intake, "RATE_LIMIT", 3)
    for n in range(3):
        await _send(receiver, _mail(address, sender=sender, subject=f"again {n}",
                                    body="hello?"), to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert [r["status"] for r in rows[:3]] == ["ignored", "processed", "processed"]
    assert "rate_limited" in rows[0]["flags"]


async def test_unknown_recipient_is_refused_at_rcpt(desk: Desk, receiver: int) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await _send(receiver, _mail("nobody@exchange.example", sender="a@mail.example",
                                    subject="x", body="x"), to="nobody@exchange.example")


async def test_hostile_content_is_cleaned_and_bad_attachments_refused(
        desk: Desk, receiver: int, admin: httpx.AsyncClient) -> None:
    address, mailbox_id = await _mailbox(admin)
    message = EmailMessage()
    message["From"] = f"h-{secrets.token_hex(3)}@mail.example"
    message["To"] = address
    message["Subject"] = "SUBJECT"
    message["Message-ID"] = make_msgid(domain="mail.example")
    message.set_content("deposit\x00 missing")
    message.add_alternative("<p onclick=x()>deposit missing</p><script>alert(1)</script>",
                            subtype="html")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * 20_000_000)
    message.add_attachment(bomb.getvalue(), maintype="application", subtype="zip",
                           filename="bomb.zip")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\0" * 4 + b"IHDR" + b"\0\0\0\x10" * 2,
                           maintype="image", subtype="png", filename="收据.png")
    # CRLF inside an encoded word: decoded, it must not become a header of its own.
    evil = base64.b64encode(b"deposit\r\nBcc: everyone@example.com").decode()
    raw = message.as_bytes(policy=email.policy.SMTP).replace(
        b"Subject: SUBJECT", f"Subject: =?utf-8?B?{evil}?=".encode())
    await _send(receiver, raw, to=address)
    [row] = await _received(desk, admin, mailbox_id)
    assert row["status"] == "processed" and "attachment_refused" in row["flags"]
    api, _ = await make_token(desk)
    ticket = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()
    assert "\n" not in ticket["subject"] and "\x00" not in ticket["description"]
    assert "script" not in ticket["description"] and "bomb.zip" in ticket["description"]
    assert [a["filename"] for a in ticket["messages"][0]["attachments"]] == ["收据.png"]


async def test_secrets_in_mail_are_masked(desk: Desk, receiver: int,
                                          admin: httpx.AsyncClient) -> None:
    address, mailbox_id = await _mailbox(admin)
    seed = ("abandon ability able about above absent absorb abstract absurd abuse access "
            "accident")
    await _send(receiver, _mail(address, sender=f"s-{secrets.token_hex(3)}@mail.example",
                                subject="help", body=f"My seed is {seed} please help"),
                to=address)
    [row] = await _received(desk, admin, mailbox_id)
    api, _ = await make_token(desk)
    ticket = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()
    assert "abandon ability" not in ticket["description"]
    assert ticket["category"] == "security"  # an exposed seed phrase is an incident
    agent = await agent_client(desk, team="security")
    details = await agent.get(f"/console/tickets/{row['ticket']}/email")
    assert details.status_code == 200 and "abandon ability" not in details.text


async def test_ingest_cli_reads_stdin_and_mbox_and_keeps_oversized_mail(
        desk: Desk, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
        tmp_path: object) -> None:
    from pathlib import Path

    address, mailbox_id = await _mailbox(admin)
    monkeypatch.setenv("KEFU_DATABASE_URL", desk.settings.database_url)
    monkeypatch.setenv("KEFU_DATA_DIR", str(desk.settings.data_dir))
    runner = CliRunner()
    one = _mail(address, sender=f"p-{secrets.token_hex(3)}@mail.example", subject="piped",
                body="withdrawal pending").as_bytes()
    result = await asyncio.to_thread(runner.invoke, app, ["mail", "ingest", address],
                                     input=one)
    assert result.exit_code == 0, result.output
    folder = Path(str(tmp_path))
    mbox = folder / "two.mbox"
    mbox.write_bytes(b"".join(
        b"From someone@mail.example Sun Dec  6 10:00:00 2026\n" + _mail(
            address, sender=f"m{n}-{secrets.token_hex(3)}@mail.example", subject=f"mbox {n}",
            body="deposit").as_bytes().replace(b"\r\n", b"\n") + b"\n" for n in range(2)))
    result = await asyncio.to_thread(runner.invoke, app, ["mail", "ingest", address, str(mbox)])
    assert result.exit_code == 0 and result.output.count("stored") == 2
    big = folder / "big.eml"
    big.write_bytes(_mail(address, sender="big@mail.example", subject="big",
                          body="x").as_bytes() + b"A" * (50 * 1024 * 1024))
    result = await asyncio.to_thread(runner.invoke, app, ["mail", "ingest", address, str(big)])
    assert result.exit_code == 0
    unknown = await asyncio.to_thread(runner.invoke, app, ["mail", "ingest",
                                                           "nobody@exchange.example"], input=one)
    assert unknown.exit_code == 67
    rows = await _received(desk, admin, mailbox_id)
    assert [r["status"] for r in rows] == ["failed", "processed", "processed", "processed"]
    assert "too_large" in rows[0]["flags"]
    again = await admin.post(f"/admin/mailboxes/messages/{rows[0]['id']}/reprocess")
    assert again.status_code == 303
    assert (await _received(desk, admin, mailbox_id))[0]["status"] == "failed"  # still kept


def _dkim_key(folder: "object") -> tuple[bytes, bytes]:
    """A fresh RSA key (openssl) and its DKIM DNS record."""
    import subprocess
    from pathlib import Path

    key = Path(str(folder)) / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True,
                   capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


async def test_dkim_and_dmarc_are_checked_and_a_failing_from_joins_no_ticket(
        desk: Desk, receiver: int, admin: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import dkim

    from kefu.channels.email import auth

    private, record = _dkim_key(tmp_path)
    domain = f"d{secrets.token_hex(3)}.example"
    records = {f"sel._domainkey.{domain}.".encode(): record,
               f"_dmarc.{domain}.".encode(): b"v=DMARC1; p=reject"}
    # The DNS answers this test's domain would publish; every other name has none.
    monkeypatch.setattr(auth, "TXT_LOOKUP", lambda name, timeout=5: records.get(name))
    address, mailbox_id = await _mailbox(admin)
    customer = f"signed@{domain}"

    def signed(message: EmailMessage) -> bytes:
        raw = message.as_bytes(policy=email.policy.SMTP)
        return dkim.sign(raw, b"sel", domain.encode(), private) + raw

    first = _mail(address, sender=customer, subject="deposit", body="Where is my deposit?")
    await _send(receiver, signed(first), to=address)
    [row] = await _received(desk, admin, mailbox_id)
    assert "dkim:pass" in row["flags"] and "dmarc:pass" in row["flags"]
    # Tampered after signing, naming the customer's ticket: checked, flagged, kept apart.
    forged = signed(_mail(address, sender=customer, subject=f"Re: [{row['ticket']}]",
                          body="Send the refund to bc1qattacker.",
                          In_Reply_To=first["Message-ID"]))
    forged = forged.replace(b"bc1qattacker", b"bc1qattackez")
    await _send(receiver, forged, to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert "dkim:fail" in rows[0]["flags"] and "dmarc_fail" in rows[0]["flags"]
    assert "dmarc_policy:reject" in rows[0]["flags"] and "sender_not_proven" in rows[0]["flags"]
    assert rows[0]["ticket"] != row["ticket"]
    api, _ = await make_token(desk)
    assert len((await api.get(f"/api/v1/tickets/{row['ticket']}")).json()["messages"]) == 1


async def test_a_failed_parse_keeps_the_message_and_it_can_be_processed_again(
        desk: Desk, receiver: int, admin: httpx.AsyncClient) -> None:
    import hashlib

    from kefu.channels.email.rawstore import RawStore

    address, mailbox_id = await _mailbox(admin)
    message = _mail(address, sender=f"f-{secrets.token_hex(3)}@mail.example",
                    subject="deposit", body="Where is my deposit?")
    raw = message.as_bytes(policy=email.policy.SMTP)
    await _send(receiver, raw, to=address)
    # The stored file goes missing before the job reads it (a disk fault).
    path = RawStore(desk.settings.data_dir).path_for(hashlib.sha256(raw).hexdigest())
    kept = path.read_bytes()
    path.unlink()
    [row] = await _received(desk, admin, mailbox_id)
    assert row["status"] == "failed" and "processing_error" in row["flags"]
    assert row["ticket"] == ""
    path.write_bytes(kept)
    again = await admin.post(f"/admin/mailboxes/messages/{row['id']}/reprocess")
    assert again.status_code == 303
    [row] = await _received(desk, admin, mailbox_id)
    assert row["status"] == "processed" and row["ticket"].startswith("KF-")
    assert "processing_error" not in row["flags"]  # the flags describe the latest reading


async def test_lmtp_receiver_and_maildir_ingest(desk: Desk, admin: httpx.AsyncClient,
                                                monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: object) -> None:
    import mailbox
    import smtplib
    from pathlib import Path

    address, mailbox_id = await _mailbox(admin)
    port, ready = _free_port(), asyncio.Event()
    task = asyncio.create_task(serve(desk.settings, desk.app.state.session_factory,
                                     host="127.0.0.1", port=port, lmtp=True, ready=ready))
    await ready.wait()

    def deliver_lmtp() -> None:
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.sendmail("mta@mail.example", [address], _mail(
                address, sender=f"l-{secrets.token_hex(3)}@mail.example", subject="via lmtp",
                body="deposit").as_bytes())

    try:
        await asyncio.to_thread(deliver_lmtp)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    folder = Path(str(tmp_path)) / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    for n in range(2):
        box.add(_mail(address, sender=f"md{n}-{secrets.token_hex(3)}@mail.example",
                      subject=f"maildir {n}", body="withdrawal").as_bytes())
    monkeypatch.setenv("KEFU_DATABASE_URL", desk.settings.database_url)
    monkeypatch.setenv("KEFU_DATA_DIR", str(desk.settings.data_dir))
    result = await asyncio.to_thread(CliRunner().invoke, app,
                                     ["mail", "ingest", address, str(folder)])
    assert result.exit_code == 0 and result.output.count("stored") == 2
    rows = await _received(desk, admin, mailbox_id)
    assert [r["status"] for r in rows] == ["processed"] * 3


async def test_agent_reply_carries_its_file_and_without_smtp_goes_to_the_mail_log(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int]) -> None:
    address, mailbox_id = await _mailbox(admin)
    customer = f"log-{secrets.token_hex(3)}@mail.example"
    await _send(receiver, _mail(address, sender=customer, subject="Re: Fwd: deposit",
                                body="Where is my deposit?"), to=address)
    [row] = await _received(desk, admin, mailbox_id)
    agent = await agent_client(desk, team="general")
    pdf = b"%PDF-1.4 statement"
    sent = await agent.post(f"/console/tickets/{row['ticket']}/reply",
                            data={"body": "Statement <b>attached</b>.", "status": ""},
                            files=[("attachments", ("statement.pdf", pdf, "application/pdf"))])
    assert sent.status_code == 303
    inbox, port = sink
    await desk.run_jobs(make_settings(desk.settings.data_dir, desk.settings.database_url,
                                      smtp_host="127.0.0.1", smtp_port=port))
    mail = next(m for m in inbox.messages if m["X-Kefu-Ticket"] == row["ticket"])
    assert mail["Subject"] == f"Re: [{row['ticket']}] deposit"  # one "Re:", not three
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "statement.pdf" and attached.get_content() == pdf
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None and "&lt;b&gt;attached" in html_part.get_content()
    # No SMTP configured (the embedded default): the reply lands in the admin's mail log.
    await agent.post(f"/console/tickets/{row['ticket']}/reply",
                     data={"body": "Anything else?", "status": ""})
    await desk.run_jobs()
    log = (await admin.get("/admin/mail")).text
    assert "Anything else?" in log and customer in log


async def test_agent_reply_is_dkim_signed_when_a_key_is_configured(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int],
        tmp_path: object) -> None:
    from pathlib import Path

    import dkim

    address, mailbox_id = await _mailbox(admin)
    await _send(receiver, _mail(address, sender=f"k-{secrets.token_hex(3)}@mail.example",
                                subject="deposit", body="Where is my deposit?"), to=address)
    [row] = await _received(desk, admin, mailbox_id)
    api, _ = await make_token(desk)
    await api.post(f"/api/v1/tickets/{row['ticket']}/messages", json={"body": "On it."})
    _, record = _dkim_key(tmp_path)
    key_file = Path(str(tmp_path)) / "dkim.pem"
    inbox, port = sink
    await desk.run_jobs(make_settings(desk.settings.data_dir, desk.settings.database_url,
                                      smtp_host="127.0.0.1", smtp_port=port,
                                      mail_dkim_selector="s1", mail_dkim_key_file=key_file))
    index = next(i for i, m in enumerate(inbox.messages)
                 if m["X-Kefu-Ticket"] == row["ticket"])
    assert "d=exchange.example" in inbox.messages[index]["DKIM-Signature"].replace(" ", "")
    raw = inbox.raws[index]
    records = {b"s1._domainkey.exchange.example.": record}
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: records.get(name))
    assert not dkim.verify(raw.replace(b"On it.", b"Pay me."),
                           dnsfunc=lambda name, timeout=5: records.get(name))


class Refusing:
    """A mail server that knows no such user: a permanent refusal."""

    async def handle_RCPT(self, server: object, session: object, envelope: object,
                          address: str, options: list[str]) -> str:
        return "550 5.1.1 No such user here"


async def test_a_permanently_refused_reply_is_told_in_the_thread_not_retried(
        desk: Desk, receiver: int, admin: httpx.AsyncClient) -> None:
    address, mailbox_id = await _mailbox(admin)
    await _send(receiver, _mail(address, sender=f"gone-{secrets.token_hex(3)}@mail.example",
                                subject="deposit", body="Where is my deposit?"), to=address)
    [row] = await _received(desk, admin, mailbox_id)
    api, _ = await make_token(desk)
    await api.post(f"/api/v1/tickets/{row['ticket']}/messages", json={"body": "On it."})
    port = _free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                                 smtp_host="127.0.0.1", smtp_port=port)
        await desk.run_jobs(settings)
    finally:
        controller.stop()
    ticket = (await api.get(f"/api/v1/tickets/{row['ticket']}")).json()
    note = ticket["messages"][-1]
    assert note["direction"] == "internal" and "could not be delivered: 550" in note["body"]
    # Done, not left to retry for hours: no delivery job carries the refusal.
    from sqlalchemy import text
    async with desk.app.state.session_factory() as db:
        retrying = (await db.execute(text(
            "SELECT count(*) FROM jobs WHERE kind = 'channel.deliver' AND last_error LIKE "
            "'%No such user%'"))).scalar_one()
    assert retrying == 0
