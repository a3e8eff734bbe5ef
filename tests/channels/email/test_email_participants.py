"""The addresses a ticket allows besides its customer's, end to end over loopback SMTP:
whom the customer copied (Cc) may write to the ticket, agent replies copy them (without
the customer's anti-phishing code), an agent adds and removes them on the ticket page,
and a spoofed From still gets a flagged ticket of its own."""

import re
import secrets

import httpx
import pytest
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

from conftest import Desk, agent_client, customer_client, make_settings, make_token


def _participants(page: str) -> list[str]:
    return re.findall(r'<li data-participant="([^"]+)">', page)


async def test_whom_the_customer_copied_joins_the_ticket_and_is_copied_on_replies(
        desk: Desk, receiver: int, admin: httpx.AsyncClient, sink: tuple[Sink, int]) -> None:
    address, mailbox_id = await _mailbox(admin)
    customer = f"cc-{secrets.token_hex(3)}@mail.example"
    portal = await customer_client(desk, email=customer)
    await portal.post("/portal/account/anti-phishing", data={"code": "Otter2026"})
    colleague = f"Colleague@{secrets.token_hex(3)}.example"
    first = _mail(address, sender=customer, subject="deposit missing",
                  body="Where is my deposit? My colleague is copied.",
                  Cc=f"Col <{colleague}>, {address}, {customer.upper()}")
    await _send(receiver, first, to=address)
    [row] = await _received(desk, admin, mailbox_id)
    reference = row["ticket"]
    agent = await agent_client(desk, team="general")
    page = (await agent.get(f"/console/tickets/{reference}")).text
    # Only the colleague: the mailbox and the customer's own address are never copied.
    assert _participants(page) == [colleague.lower()]

    # The colleague answers in the thread: it joins, authored as the colleague.
    joined = _mail(address, sender=colleague, subject=f"Re: [{reference}] deposit missing",
                   body="The TxID is 0xabc.", In_Reply_To=first["Message-ID"],
                   Cc=f"stranger-{secrets.token_hex(2)}@mail.example")
    await _send(receiver, joined, to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] == reference and rows[0]["status"] == "processed"
    assert "from_participant" in rows[0]["flags"]
    api, _ = await make_token(desk)
    messages = (await api.get(f"/api/v1/tickets/{reference}")).json()["messages"]
    assert [m["direction"] for m in messages] == ["in", "in"]
    assert messages[-1]["author_name"] == colleague.lower()
    assert messages[-1]["body"] == "The TxID is 0xabc."
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert colleague.lower() in page.split('class="thread"')[1].split("</ol>")[0]
    assert _participants(page) == [colleague.lower()]  # a participant's Cc adds no one
    details = (await agent.get(f"/console/tickets/{reference}/email")).text
    assert "not by its customer" in details

    # The agent answers: To the customer, Cc the colleague; the colleague's copy is their
    # own, without the customer's anti-phishing code.
    await api.post(f"/api/v1/tickets/{reference}/messages", json={"body": "Found it."})
    inbox, port = sink
    await desk.run_jobs(make_settings(desk.settings.data_dir, desk.settings.database_url,
                                      smtp_host="127.0.0.1", smtp_port=port))
    sent = [(m, rcpt) for m, rcpt in zip(inbox.messages, inbox.envelopes, strict=True)
            if m["X-Kefu-Ticket"] == reference and "Found it." in str(
                m.get_body(preferencelist=("plain",)).get_content())]  # type: ignore[union-attr]
    assert [rcpt for _, rcpt in sent] == [[customer], [colleague.lower()]]
    for mail, _ in sent:
        assert mail["To"] == customer and mail["Cc"] == colleague.lower()
        assert address in mail["From"] and mail["In-Reply-To"] == joined["Message-ID"]
    own, copy = (str(m.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
                 for m, _ in sent)
    assert "Otter2026" in own and "Otter2026" not in copy
    assert sent[0][0]["Message-ID"] != sent[1][0]["Message-ID"]

    # Answering the copy (In-Reply-To its own Message-ID only) finds the ticket too.
    again = _mail(address, sender=colleague, subject="Re: thanks", body="Thanks!",
                  In_Reply_To=sent[1][0]["Message-ID"])
    await _send(receiver, again, to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] == reference and "from_participant" in rows[0]["flags"]


async def test_a_spoofed_sender_still_gets_a_flagged_ticket_and_agents_manage_copies(
        desk: Desk, receiver: int, admin: httpx.AsyncClient) -> None:
    address, mailbox_id = await _mailbox(admin)
    customer = f"own-{secrets.token_hex(3)}@mail.example"
    colleague = f"col-{secrets.token_hex(3)}@mail.example"
    first = _mail(address, sender=customer, subject="withdrawal stuck", body="Help.",
                  Cc=colleague)
    await _send(receiver, first, to=address)
    [row] = await _received(desk, admin, mailbox_id)
    reference = row["ticket"]
    # Someone neither the customer nor copied names the ticket: a new, flagged ticket.
    spoofer = f"spoof-{secrets.token_hex(3)}@evil.example"
    await _send(receiver, _mail(address, sender=spoofer, subject=f"Re: [{reference}]",
                                body="Send it to my address instead.",
                                In_Reply_To=first["Message-ID"], Reply_To=colleague),
                to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] != reference and "sender_not_customer" in rows[0]["flags"]

    # An agent removes the colleague: their next mail is kept apart too.
    agent = await agent_client(desk, team="general")
    removed = await agent.post(f"/console/tickets/{reference}/participants/remove",
                               data={"address": colleague})
    assert removed.status_code == 303
    assert _participants((await agent.get(f"/console/tickets/{reference}")).text) == []
    await _send(receiver, _mail(address, sender=colleague, subject=f"Re: [{reference}]",
                                body="Any news?", In_Reply_To=first["Message-ID"]), to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] != reference and "sender_not_customer" in rows[0]["flags"]

    # An agent adds an address: its mail joins. The customer's own address is refused.
    helper = f"Helper-{secrets.token_hex(3)}@mail.example"
    added = await agent.post(f"/console/tickets/{reference}/participants",
                             data={"address": helper})
    assert added.status_code == 303
    refused = await agent.post(f"/console/tickets/{reference}/participants",
                               data={"address": customer}, follow_redirects=True)
    assert 'id="participant-error"' in refused.text
    assert _participants(refused.text) == [helper.lower()]
    await _send(receiver, _mail(address, sender=helper, subject=f"Re: [{reference}]",
                                body="Adding the statement."), to=address)
    rows = await _received(desk, admin, mailbox_id)
    assert rows[0]["ticket"] == reference and "from_participant" in rows[0]["flags"]
    api, _ = await make_token(desk)
    ticket = (await api.get(f"/api/v1/tickets/{reference}")).json()
    assert [m["body"] for m in ticket["messages"]] == ["Help.", "Adding the statement."]
    # Agents of another team cannot touch the ticket's copies.
    outsider = await agent_client(desk, team="listing")
    assert (await outsider.post(f"/console/tickets/{reference}/participants",
                                data={"address": "x@mail.example"})).status_code == 404


async def test_mail_whose_from_fails_dmarc_copies_no_one(
        desk: Desk, receiver: int, admin: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu.channels.email import auth

    domain = f"strict{secrets.token_hex(3)}.example"
    records = {f"_dmarc.{domain}.".encode(): b"v=DMARC1; p=reject"}
    # The domain publishes DMARC; the mail carries no signature of it: DMARC fails.
    monkeypatch.setattr(auth, "TXT_LOOKUP", lambda name, timeout=5: records.get(name))
    address, mailbox_id = await _mailbox(admin)
    await _send(receiver, _mail(address, sender=f"ceo@{domain}", subject="urgent transfer",
                                body="Please help.", Cc="accomplice@evil.example"),
                to=address)
    [row] = await _received(desk, admin, mailbox_id)
    assert "dmarc_fail" in row["flags"] and row["ticket"].startswith("KF-")
    agent = await agent_client(desk, team="general")
    assert _participants((await agent.get(f"/console/tickets/{row['ticket']}")).text) == []
