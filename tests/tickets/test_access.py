"""Another customer's ticket or attachment is a 404 identical to a missing one."""

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from tickets.test_files import png_bytes


async def test_foreign_ticket_is_indistinguishable_from_missing(desk: Desk) -> None:
    owner = await customer_client(desk)
    reference = reference_from(await submit_ticket(owner))
    intruder = await customer_client(desk)
    foreign = await intruder.get(f"/portal/tickets/{reference}")
    missing = await intruder.get("/portal/tickets/KF-0000-0000-0000")
    assert foreign.status_code == missing.status_code == 404
    # Identical but for the echo of the requested path (the language switch returns there).
    assert foreign.text.replace(reference, "REF") == missing.text.replace("KF-0000-0000-0000",
                                                                          "REF")
    for path, data in ((f"/portal/tickets/{reference}/reply", {"body": "hi"}),
                       (f"/portal/tickets/{reference}/rate", {"score": "1"})):
        assert (await intruder.post(path, data=data)).status_code == 404
    owner_view = (await owner.get(f"/portal/tickets/{reference}")).text
    assert "hi</div>" not in owner_view


async def test_foreign_attachment_is_a_404_and_downloads_are_never_inline(desk: Desk) -> None:
    owner = await customer_client(desk)
    response = await submit_ticket(owner, files=[("attachments", ("proof.png", png_bytes(),
                                                                  "image/png"))])
    reference = reference_from(response)
    page = (await owner.get(f"/portal/tickets/{reference}")).text
    key = page.split('href="/attachments/')[1].split('"')[0]
    download = await owner.get(f"/attachments/{key}")
    assert download.status_code == 200 and download.content == png_bytes()
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/octet-stream"
    assert "sandbox" in download.headers["content-security-policy"]
    intruder = await customer_client(desk)
    assert (await intruder.get(f"/attachments/{key}")).status_code == 404
    anonymous = desk.client()
    assert (await anonymous.get(f"/attachments/{key}")).status_code == 404
    other_team = await agent_client(desk, team="listing")
    assert (await other_team.get(f"/attachments/{key}")).status_code == 404
    same_team = await agent_client(desk)
    assert (await same_team.get(f"/attachments/{key}")).status_code == 200


async def test_pages_need_a_login(desk: Desk) -> None:
    anonymous = desk.client()
    for path, login in (("/portal/tickets", "/portal/login"), ("/console", "/console/login"),
                        ("/admin/agents", "/console/login")):
        response = await anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(login)


async def test_plain_agent_cannot_use_the_admin_area(desk: Desk) -> None:
    agent = await agent_client(desk)
    for path in ("/admin/agents", "/admin/audit", "/admin/tokens", "/admin/mail"):
        assert (await agent.get(path)).status_code == 403
    created = await agent.post("/admin/agents", data={"email": "x@example.com", "name": "x",
                                                      "password": "long enough pw"})
    assert created.status_code == 403
