"""The integrator REST API: scoped tokens, CRUD, messages, and mass-assignment refusal."""

import httpx

from conftest import NEW_TICKET, Desk, make_token, unique_email


async def test_create_read_update_list_and_message(desk: Desk) -> None:
    api, _ = await make_token(desk)
    email = unique_email()
    created = await api.post("/api/v1/tickets", json={**NEW_TICKET, "contact_email": email})
    assert created.status_code == 201, created.text
    ticket = created.json()
    reference = ticket["reference"]
    assert ticket["team"] == "api" and ticket["status"] == "new"
    assert ticket["contact_email"] == email and ticket["channel"] == "api"
    read = await api.get(f"/api/v1/tickets/{reference}")
    assert read.json()["messages"][0]["body"].startswith("Every signed request")
    patched = await api.patch(f"/api/v1/tickets/{reference}",
                              json={"priority": "high", "status": "open"})
    assert patched.status_code == 200
    assert patched.json()["priority"] == "high" and patched.json()["status"] == "open"
    message = await api.post(f"/api/v1/tickets/{reference}/messages",
                             json={"body": "Check your server clock drift.", "internal": False})
    assert message.status_code == 201 and message.json()["author_type"] == "agent"
    listing = await api.get("/api/v1/tickets", params={"q": email})
    assert [t["reference"] for t in listing.json()["items"]] == [reference]
    assert (await api.get("/api/v1/tickets/KF-0000-0000-0000")).status_code == 404


async def test_unknown_fields_are_rejected_not_stored(desk: Desk) -> None:
    api, _ = await make_token(desk)
    response = await api.post("/api/v1/tickets", json={
        **NEW_TICKET, "contact_email": unique_email(), "status": "resolved", "assignee_id": 1,
        "reference": "KF-AAAA-AAAA-AAAA", "rating": 5})
    assert response.status_code == 422
    fields = {e["loc"][-1] for e in response.json()["detail"]}
    assert {"status", "assignee_id", "reference", "rating"} <= fields
    listing = await api.get("/api/v1/tickets", params={"q": "KF-AAAA-AAAA-AAAA"})
    assert listing.json()["total"] == 0
    patch = await api.get("/api/v1/tickets")
    reference = patch.json()["items"][0]["reference"]
    bad_patch = await api.patch(f"/api/v1/tickets/{reference}", json={"customer_id": 1})
    assert bad_patch.status_code == 422


async def test_tokens_are_scoped_revocable_and_stored_hashed(desk: Desk) -> None:
    reader, secret = await make_token(desk, scopes=("tickets:read",))
    assert (await reader.get("/api/v1/tickets")).status_code == 200
    denied = await reader.post("/api/v1/tickets", json={**NEW_TICKET,
                                                        "contact_email": unique_email()})
    assert denied.status_code == 403  # a valid token, not allowed: forbidden
    async with desk.app.state.session_factory() as db:
        from sqlalchemy import select

        from kefu.accounts.models import ApiToken

        hashes = (await db.execute(select(ApiToken.token_hash))).scalars().all()
    assert secret not in hashes and all(len(h) == 64 for h in hashes)
    nobody = desk.client()
    assert (await nobody.get("/api/v1/tickets")).status_code == 401
    nobody.headers["authorization"] = "Bearer kefu_not-a-real-token"
    assert (await nobody.get("/api/v1/tickets")).status_code == 401


async def test_token_of_a_plain_agent_sees_only_its_team(desk: Desk) -> None:
    admin_api, _ = await make_token(desk)
    created = await admin_api.post("/api/v1/tickets", json={
        **NEW_TICKET, "category": "compliance", "contact_email": unique_email()})
    reference = created.json()["reference"]
    general, _ = await _plain_agent_token(desk, "tickets:read")
    assert (await general.get(f"/api/v1/tickets/{reference}")).status_code == 404


async def test_openapi_documents_the_ticket_api(desk: Desk) -> None:
    spec = (await desk.client().get("/openapi.json")).json()
    assert {"/api/v1/tickets", "/api/v1/tickets/{reference}",
            "/api/v1/tickets/{reference}/messages"} <= set(spec["paths"])
    assert (await desk.client().get("/docs")).status_code == 200


async def _agent_email(desk: Desk) -> str:
    from conftest import make_agent

    return await make_agent(desk)


async def _plain_agent_token(desk: Desk, scope: str) -> tuple[httpx.AsyncClient, str]:
    """A plain agent cannot reach /admin/tokens, so its token is created through the service."""
    from kefu.accounts import service as accounts

    async with desk.app.state.session_factory() as db:
        agent = await accounts.agent_by_email(db=db, email=await _agent_email(desk))
        assert agent is not None
        _, secret = await accounts.create_api_token(db=db, actor=agent, name="t",
                                                    scopes=[scope])
        await db.commit()
    api = desk.client()
    api.headers["authorization"] = f"Bearer {secret}"
    return api, secret


async def test_concurrent_creates_all_succeed(desk: Desk) -> None:
    """SQLite used to answer 'database is locked' when writers raced for the file lock."""
    import asyncio

    api, _ = await make_token(desk)
    bodies = [{**NEW_TICKET, "category": category, "contact_email": unique_email()}
              for category in ("api", "security", "compliance", "account") * 10]
    responses = await asyncio.gather(*(api.post("/api/v1/tickets", json=b) for b in bodies))
    assert [r.status_code for r in responses] == [201] * len(bodies)
    assert len({r.json()["reference"] for r in responses}) == len(bodies)


async def test_guard_check_warns_without_storing(desk: Desk) -> None:
    client = desk.client()
    found = await client.post("/api/v1/guard/check", json={"text": "验证码 123456"},
                              headers={"accept-language": "zh-CN"})
    assert found.status_code == 200 and found.json()["kinds"] == ["otp_code"]
    assert found.json()["warning"]
    clean = await client.post("/api/v1/guard/check", json={"text": "deposit missing"})
    assert clean.json() == {"kinds": [], "warning": ""}
    assert (await client.post("/api/v1/guard/check", json={"text": "x", "store": 1})
            ).status_code == 422


async def test_a_revoked_token_or_deactivated_agent_is_refused_at_once(desk: Desk) -> None:
    """Every call reads the token and its agent afresh: nothing cached outlives a revoke."""
    from sqlalchemy import select

    from kefu.accounts import service as accounts
    from kefu.accounts.models import Agent, ApiToken
    from kefu.core.tokens import digest

    body = {**NEW_TICKET, "contact_email": unique_email()}
    for lock_out in ("revoke", "deactivate"):
        api, secret = await _plain_agent_token(desk, "tickets:write")
        assert (await api.post("/api/v1/tickets", json=body)).status_code == 201
        async with desk.app.state.session_factory() as db:
            token = (await db.execute(select(ApiToken).where(
                ApiToken.token_hash == digest(secret)))).scalar_one()
            holder = await db.get(Agent, token.agent_id)
            assert holder is not None
            if lock_out == "revoke":
                await accounts.revoke_api_token(db=db, actor=holder, token_id=token.id)
            else:
                await accounts.update_agent(db=db, actor=holder, agent=holder,
                                            changes={"active": False})
            await db.commit()
        refused = await api.post("/api/v1/tickets", json=body)
        assert refused.status_code == 401, lock_out


async def test_a_refused_create_writes_no_customer_and_no_ticket(desk: Desk) -> None:
    """The token is read with the customer's row (tickets.intake): a refusal writes nothing."""
    from sqlalchemy import func, select

    from kefu.contacts.models import Customer
    from kefu.tickets.models import Ticket

    reader, _ = await make_token(desk, scopes=("tickets:read",))
    stranger = desk.client()
    stranger.headers["authorization"] = "Bearer kefu_not-a-real-token"
    for client, refused in ((reader, 403), (stranger, 401)):
        email = unique_email()
        body = {**NEW_TICKET, "contact_email": email, "subject": f"refused {email}"}
        assert (await client.post("/api/v1/tickets", json=body)).status_code == refused
        async with desk.app.state.session_factory() as db:
            for column, value in ((Customer.email, email), (Ticket.subject, body["subject"])):
                count = await db.execute(select(func.count()).where(column == value))
                assert count.scalar_one() == 0
