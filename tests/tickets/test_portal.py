"""A customer submits, follows, replies to and rates a ticket, through the portal."""

import re

from conftest import (
    Desk,
    agent_client,
    customer_client,
    reference_from,
    submit_ticket,
)
from kefu.accounts.models import Role


async def test_submit_ticket_gives_unguessable_reference_and_lists_it(desk: Desk) -> None:
    client = await customer_client(desk)
    response = await submit_ticket(client)
    assert response.status_code == 303
    reference = reference_from(response)
    assert re.fullmatch(r"KF-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    page = await client.get(f"/portal/tickets/{reference}?created=1")
    assert page.status_code == 200
    assert reference in page.text and "USDT deposit not credited" in page.text
    listing = await client.get("/portal/tickets")
    assert reference in listing.text


async def test_references_do_not_follow_a_sequence(desk: Desk) -> None:
    client = await customer_client(desk)
    refs = [reference_from(await submit_ticket(client)) for _ in range(3)]
    assert len(set(refs)) == 3
    codes = [r.replace("-", "")[2:] for r in refs]
    assert not all(c.isdigit() for c in codes)


async def test_customer_reply_reopens_a_pending_ticket(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/reply",
                     data={"body": "Please send the deposit address.", "status":
                           "pending_customer"})
    reply = await customer.post(f"/portal/tickets/{reference}/reply",
                                data={"body": "Address is TXyz..."})
    assert reply.status_code == 303
    detail = await agent.get(f"/console/tickets/{reference}")
    assert 'class="status open"' in detail.text
    assert "Address is TXyz..." in detail.text


async def test_rating_only_after_resolution_and_only_once(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    early = await customer.post(f"/portal/tickets/{reference}/rate", data={"score": "5"})
    assert early.status_code == 422
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/update", data={"status": "resolved"})
    page = await customer.get(f"/portal/tickets/{reference}")
    assert 'id="rate"' in page.text
    rated = await customer.post(f"/portal/tickets/{reference}/rate",
                                data={"score": "4", "comment": "Quick help"})
    assert rated.status_code == 303
    again = await customer.post(f"/portal/tickets/{reference}/rate", data={"score": "1"})
    assert again.status_code == 422
    detail = await agent.get(f"/console/tickets/{reference}")
    assert "<dd>4</dd>" in detail.text


async def test_html_in_fields_is_shown_as_text(desk: Desk) -> None:
    customer = await customer_client(desk)
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    reference = reference_from(await submit_ticket(customer, subject=payload,
                                                   description=payload))
    agent = await agent_client(desk)
    for page in (await customer.get(f"/portal/tickets/{reference}"),
                 await agent.get(f"/console/tickets/{reference}"),
                 await agent.get("/console?view=all")):
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_invalid_form_is_refused_with_a_clear_message_and_nothing_stored(desk: Desk
                                                                                ) -> None:
    customer = await customer_client(desk)
    response = await submit_ticket(customer, category="lottery", subject="")
    assert response.status_code == 422
    assert "category" in response.text and "subject" in response.text
    listing = await customer.get("/portal/tickets")
    assert "KF-" not in listing.text


async def test_extra_form_fields_are_never_stored(desk: Desk) -> None:
    customer = await customer_client(desk)
    response = await submit_ticket(customer, priority="urgent", status="resolved",
                                   assignee_id="1", team_id="2")
    reference = reference_from(response)
    supervisor = await agent_client(desk, role=Role.SUPERVISOR)
    detail = (await supervisor.get(f"/console/tickets/{reference}")).text
    assert 'class="status new"' in detail and 'class="priority normal"' in detail
