"""The widget's HTTP API as a client uses it (docs/chat.md): identity, chats, messages
stored once, bad input refused with a message, other visitors' chats out of reach."""

import time

import httpx
from sqlalchemy import func, select

from chat_support import site
from conftest import Desk
from kefu.chat.sites import uid_signature
from kefu.tickets.models import Attachment

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


async def _visitor(client: httpx.AsyncClient, key: str, **extra: object) -> dict[str, object]:
    response = await client.post("/chat/api/v1/visitors", json={"site": key, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    client.headers["authorization"] = f"Bearer {body['visitor']}"
    return body


async def _chat(desk: Desk, problem: str = "deposit_withdrawal"
                ) -> tuple[httpx.AsyncClient, dict[str, object]]:
    the_site = await site(desk)
    client = desk.client()
    await _visitor(client, the_site.key, lang="en")
    response = await client.post("/chat/api/v1/chats",
                                 json={"site": the_site.key, "problem_type": problem})
    assert response.status_code == 201, response.text
    return client, response.json()


async def test_a_visitor_keeps_their_token_and_their_open_chat(desk: Desk) -> None:
    the_site = await site(desk)
    async with desk.client() as client:
        first = await _visitor(client, the_site.key)
        assert first["verified"] is False and first["chat"] is None
        started = (await client.post("/chat/api/v1/chats", json={
            "site": the_site.key, "problem_type": "account"})).json()
        again = await _visitor(client, the_site.key, visitor=first["visitor"])
        assert again["visitor"] == first["visitor"]
        assert again["chat"]["id"] == started["id"]  # type: ignore[index]
        second_start = await client.post("/chat/api/v1/chats", json={
            "site": the_site.key, "problem_type": "account"})
        assert second_start.json()["id"] == started["id"]


async def test_a_signed_uid_is_verified_and_a_forged_one_is_not_taken(desk: Desk) -> None:
    the_site = await site(desk, secret="s3cret")
    expires = int(time.time()) + 300
    good = uid_signature("s3cret", "10293847", expires)
    async with desk.client() as client:
        body = await _visitor(client, the_site.key, uid="10293847", expires=expires,
                              signature=good)
        assert body["verified"] is True and body["uid"] == "10293847"
        forged = await _visitor(client, the_site.key, uid="10293847", expires=expires,
                                signature=uid_signature("guess", "10293847", expires))
        assert forged["verified"] is False and forged["uid"] is None
        expired = await _visitor(client, the_site.key, uid="10293847", expires=1000,
                                 signature=uid_signature("s3cret", "10293847", 1000))
        assert expired["verified"] is False


async def test_verified_users_only_refuses_the_unsigned_and_the_forged(desk: Desk) -> None:
    the_site = await site(desk, secret="s3cret", verified_only=True)
    expires = int(time.time()) + 300
    async with desk.client() as client:
        unsigned = await client.post("/chat/api/v1/visitors", json={"site": the_site.key})
        assert unsigned.status_code == 403 and "sign in" in unsigned.json()["detail"]
        forged = await client.post("/chat/api/v1/visitors", json={
            "site": the_site.key, "uid": "42", "expires": expires, "signature": "00" * 32})
        assert forged.status_code == 403
        good = await client.post("/chat/api/v1/visitors", json={
            "site": the_site.key, "uid": "42", "expires": expires,
            "signature": uid_signature("s3cret", "42", expires)})
        assert good.status_code == 200 and good.json()["verified"] is True


async def test_a_message_is_stored_once_per_client_id(desk: Desk) -> None:
    client, chat = await _chat(desk)
    path = f"/chat/api/v1/chats/{chat['id']}/messages"
    first = await client.post(path, json={"client_id": "m-1", "text": "转人工"})
    again = await client.post(path, json={"client_id": "m-1", "text": "转人工"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["seq"] == again.json()["seq"]
    history = (await client.get(f"/chat/api/v1/chats/{chat['id']}/messages")).json()
    assert [m["client_id"] for m in history["messages"]].count("m-1") == 1
    assert history["chat"]["owner"] == "queue"  # 转人工 reached the queue
    after = (await client.get(f"/chat/api/v1/chats/{chat['id']}/messages",
                              params={"after": first.json()["seq"]})).json()["messages"]
    assert all(m["seq"] > first.json()["seq"] for m in after)
    await client.aclose()


async def test_another_visitors_chat_is_out_of_reach(desk: Desk) -> None:
    owner, chat = await _chat(desk)
    stranger, _ = await _chat(desk)
    for path in (f"/chat/api/v1/chats/{chat['id']}/messages",):
        assert (await stranger.get(path)).status_code == 404
        assert (await stranger.post(path, json={"client_id": "x", "text": "hi"})).status_code == 404
    anonymous = desk.client()
    response = await anonymous.get(f"/chat/api/v1/chats/{chat['id']}/messages")
    assert response.status_code == 401 and response.json()["detail"]
    forged = desk.client()
    forged.headers["authorization"] = "Bearer kv_forged"
    assert (await forged.get(f"/chat/api/v1/chats/{chat['id']}/messages")).status_code == 401
    for c in (owner, stranger, anonymous, forged):
        await c.aclose()


async def test_bad_text_is_refused_or_cleaned_never_a_server_error(desk: Desk) -> None:
    client, chat = await _chat(desk)
    path = f"/chat/api/v1/chats/{chat['id']}/messages"
    with_nul = await client.post(path, json={"client_id": "n1", "text": "USDT\x00 deposit"})
    assert with_nul.status_code == 201 and with_nul.json()["text"] == "USDT deposit"
    only_nul = await client.post(path, json={"client_id": "n2", "text": "\x00\x00"})
    assert only_nul.status_code == 422 and only_nul.json()["detail"] == "The message is empty."
    too_long = await client.post(path, json={"client_id": "n3", "text": "x" * 5000})
    assert too_long.status_code == 422
    bad_id = await client.post(path, json={"client_id": "has space", "text": "hi"})
    assert bad_id.status_code == 422 and "client_id" in bad_id.json()["detail"]
    not_json = await client.post(path, content=b"{nope", headers={"content-type":
                                                                   "application/json"})
    assert not_json.status_code == 422
    script = await client.post(path, json={"client_id": "n4", "text": "<script>x()</script>"})
    assert script.json()["text"] == "<script>x()</script>"  # text, for the client to show as text
    await client.aclose()


async def test_a_burst_of_messages_is_rate_limited(desk: Desk) -> None:
    client, chat = await _chat(desk)
    path = f"/chat/api/v1/chats/{chat['id']}/messages"
    codes = [(await client.post(path, json={"client_id": f"b{n}", "text": "转人工"})).status_code
             for n in range(desk.settings.chat_messages_per_minute + 1)]
    assert codes[-1] == 429 and 429 not in codes[:-1]
    limited = await client.post(path, json={"client_id": "late", "text": "hi"})
    assert limited.headers["retry-after"] and limited.json()["detail"]
    await client.aclose()


async def test_the_handoff_button_queues_and_the_customer_may_end_and_rate(desk: Desk) -> None:
    client, chat = await _chat(desk)
    base = f"/chat/api/v1/chats/{chat['id']}"
    early = await client.post(f"{base}/rating", json={"score": 5})
    assert early.status_code == 409
    queued = (await client.post(f"{base}/handoff", json={})).json()
    assert queued["owner"] == "queue" and queued["position"] >= 1
    ended = (await client.post(f"{base}/end", json={})).json()
    assert ended["owner"] == "ended" and ended["open"] is False
    rated = await client.post(f"{base}/rating", json={"score": 4, "comment": "ok"})
    assert rated.status_code == 200 and rated.json()["rated"] is True
    assert (await client.post(f"{base}/messages", json={"client_id": "z", "text": "hi"})
            ).status_code == 409
    await client.aclose()


async def test_leave_a_message_gives_a_reference(desk: Desk) -> None:
    client, chat = await _chat(desk)
    response = await client.post(f"/chat/api/v1/chats/{chat['id']}/leave-message", json={
        "email": "leaver@example.com", "text": "Please check my withdrawal"})
    assert response.status_code == 200 and response.json()["reference"] == chat["reference"]
    bad = await client.post(f"/chat/api/v1/chats/{chat['id']}/leave-message", json={
        "email": "not-an-address", "text": "x"})
    assert bad.status_code == 422
    await client.aclose()


async def test_a_screenshot_is_kept_and_a_disguised_file_stores_nothing(desk: Desk) -> None:
    client, chat = await _chat(desk)
    path = f"/chat/api/v1/chats/{chat['id']}/attachments"
    ok = await client.post(path, data={"client_id": "f1"},
                           files={"file": ("shot.png", PNG, "image/png")})
    assert ok.status_code == 201, ok.text
    assert ok.json()["attachment"]["content_type"] == "image/png"
    url = ok.json()["attachment"]["url"]
    download = await client.get(url)
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-disposition"].startswith("attachment")
    stranger, _ = await _chat(desk)
    assert (await stranger.get(url)).status_code == 404
    await stranger.aclose()
    async with desk.app.state.session_factory() as db:
        before = (await db.execute(select(func.count()).select_from(Attachment))).scalar_one()
    refused = await client.post(path, data={"client_id": "f2"},
                                files={"file": ("shot.png", b"MZ\x90\x00evil", "image/png")})
    assert refused.status_code == 422 and refused.json()["detail"]
    async with desk.app.state.session_factory() as db:
        after = (await db.execute(select(func.count()).select_from(Attachment))).scalar_one()
    assert after == before
    await client.aclose()


async def test_a_site_refuses_pages_from_other_origins(desk: Desk) -> None:
    the_site = await site(desk, origins="https://www.exchange.example")
    async with desk.client() as client:
        evil = await client.post("/chat/api/v1/visitors", json={"site": the_site.key},
                                 headers={"origin": "https://evil.example"})
        assert evil.status_code == 403
        good = await client.post("/chat/api/v1/visitors", json={"site": the_site.key},
                                 headers={"origin": "https://www.exchange.example"})
        assert good.status_code == 200
        unknown = await client.post("/chat/api/v1/visitors", json={"site": "nope"})
        assert unknown.status_code == 404


async def test_the_widget_may_call_from_the_exchanges_pages(desk: Desk) -> None:
    async with desk.client() as client:
        preflight = await client.options("/chat/api/v1/chats", headers={
            "origin": "https://www.exchange.example", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://www.exchange.example"
        assert "authorization" in preflight.headers["access-control-allow-headers"]
        console = await client.options("/console/chats/inbox",
                                       headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in console.headers


async def test_the_transcript_goes_by_email_without_internal_notes(desk: Desk) -> None:
    from kefu.core.jobs import Job
    from kefu.notifications.service import SEND_EMAIL

    client, chat = await _chat(desk)
    await client.post(f"/chat/api/v1/chats/{chat['id']}/messages",
                      json={"client_id": "t1", "text": "转人工"})  # the handover writes a note
    address = f"transcript-{chat['id']}@example.com"
    response = await client.post(f"/chat/api/v1/chats/{chat['id']}/transcript",
                                 json={"email": address})
    assert response.status_code == 202
    async with desk.app.state.session_factory() as db:
        payloads = (await db.execute(select(Job.payload).where(Job.kind == SEND_EMAIL))
                    ).scalars().all()
    mail = next(p for p in payloads if p["to"] == address)
    assert "转人工" in mail["text"] and "Problem type" not in mail["text"]
    await client.aclose()


async def test_a_chinese_visitor_reads_the_chat_and_its_errors_in_chinese(desk: Desk) -> None:
    the_site = await site(desk)
    async with desk.client() as client:
        await _visitor(client, the_site.key, lang="zh-CN")
        chat = (await client.post("/chat/api/v1/chats", json={
            "site": the_site.key, "problem_type": "deposit_withdrawal", "lang": "zh-CN"})).json()
        history = (await client.get(f"/chat/api/v1/chats/{chat['id']}/messages")).json()
        greeting = history["messages"][0]["text"]
        assert "转人工" in greeting and "您好" in greeting
        empty = await client.post(f"/chat/api/v1/chats/{chat['id']}/messages",
                                  json={"client_id": "e", "text": "\x00"},
                                  headers={"accept-language": "zh-CN"})
        assert empty.json()["detail"] == "消息为空。"


async def test_many_chats_from_one_address_are_limited_whatever_it_claims(desk: Desk) -> None:
    """1,000 conversations from one IP: refused past the limit, with a message, and a
    forged X-Forwarded-For changes nothing (the address is the connection's)."""
    from kefu.web.app import create_app

    strict = desk.settings.model_copy(update={"chat_visitors_per_ip_hour": 3})
    app = create_app(strict, run_migrations=False)
    the_site = await site(desk)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as client:
        codes = []
        for n in range(5):
            response = await client.post("/chat/api/v1/visitors", json={"site": the_site.key},
                                         headers={"x-forwarded-for": f"10.0.0.{n}"})
            codes.append(response.status_code)
        assert codes == [200, 200, 200, 429, 429]
        assert response.headers["retry-after"] and response.json()["detail"]
    await app.state.engine.dispose()


async def test_a_stolen_account_skips_the_bot_to_security_with_the_freeze_link(
        desk: Desk) -> None:
    client, chat = await _chat(desk, problem="account")
    await client.post(f"/chat/api/v1/chats/{chat['id']}/messages",
                      json={"client_id": "s1", "text": "我的账户被盗了，有人提走了我的币"})
    history = (await client.get(f"/chat/api/v1/chats/{chat['id']}/messages")).json()
    assert history["chat"]["owner"] == "queue"
    assert any("/portal/security/freeze" in m["text"] for m in history["messages"])
    async with desk.app.state.session_factory() as db:
        from kefu.tickets.models import Ticket
        ticket = await db.get(Ticket, chat["id"])
        assert ticket is not None and ticket.priority == "urgent"
        assert ticket.team is not None and ticket.team.slug == "security"
    await client.aclose()
