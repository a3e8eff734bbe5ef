"""The chat WebSockets against a real server: live frames, a reconnect that replays
exactly what was missed, abuse refused with a message, a customer and an agent talking.
The last test runs two server processes on PostgreSQL and Redis: the customer on one,
the agent on the other."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_live_redis import REDIS, _redis_up
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from conftest import _postgres_url
from e2e.e2e_support import Server, kefu_process, signed_in

AGENT = "agent@kefu.local"  # the demo deposits agent: deposit chats go to that queue


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with kefu_process(tmp_path_factory.mktemp("chat-ws")) as running:
        yield running


def _ws_url(server: Server, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


def _visitor(server: Server, problem: str = "deposit_withdrawal") -> tuple[httpx.Client, int]:
    client = httpx.Client(base_url=server.base_url, timeout=30)
    body = client.post("/chat/api/v1/visitors", json={"site": "demo", "lang": "en"}).json()
    client.headers["authorization"] = f"Bearer {body['visitor']}"
    chat = client.post("/chat/api/v1/chats", json={"site": "demo", "problem_type": problem})
    assert chat.status_code == 201, chat.text
    return client, int(chat.json()["id"])


def _token(client: httpx.Client) -> str:
    return client.headers["authorization"].split(" ", 1)[1]


async def _customer_socket(server: Server, client: httpx.Client, chat_id: int,
                           after: int = 0) -> ClientConnection:
    return await connect(_ws_url(server, f"/chat/ws?token={_token(client)}&chat={chat_id}"
                                 f"&after={after}"), origin=server.base_url)  # type: ignore[arg-type]


async def _frames_until(ws: ClientConnection, done: Any,
                        timeout: float = 20) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            seen.append(frame)
            if done(frame, seen):
                return seen


def _message(frame: dict[str, Any]) -> dict[str, Any] | None:
    return frame["message"] if frame.get("type") == "message" else None


async def test_a_reconnect_replays_exactly_what_was_missed(server: Server) -> None:
    client, chat_id = _visitor(server)
    ws = await _customer_socket(server, client, chat_id)
    await ws.send(json.dumps({"type": "message", "client_id": "q1",
                              "text": "How long does a BTC deposit take?"}))
    frames = await _frames_until(ws, lambda f, s: (_message(f) or {}).get("author") in (
        "bot", "system") and (_message(f) or {}).get("seq", 0) >= 3)
    seqs = [m["seq"] for f in frames if (m := _message(f))]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    last_seen = seqs[1]  # pretend the socket dropped after the customer's own message
    await ws.close()
    # While away, the customer's page resends a message it never saw acknowledged.
    sent = client.post(f"/chat/api/v1/chats/{chat_id}/messages",
                       json={"client_id": "q2", "text": "Thanks, and withdrawals?"})
    again = client.post(f"/chat/api/v1/chats/{chat_id}/messages",
                        json={"client_id": "q2", "text": "Thanks, and withdrawals?"})
    assert sent.status_code == 201 and again.status_code == 200
    stored = client.get(f"/chat/api/v1/chats/{chat_id}/messages").json()["messages"]
    ws = await _customer_socket(server, client, chat_id, after=last_seen)
    replay = await _frames_until(ws, lambda f, s: f.get("type") == "chat")
    replayed = [m for f in replay if (m := _message(f))]
    assert [m["seq"] for m in replayed] == [m["seq"] for m in stored if m["seq"] > last_seen]
    assert [m["client_id"] for m in replayed].count("q2") == 1
    await ws.close()
    client.close()


async def test_bad_frames_get_a_message_and_abuse_closes_the_socket(server: Server) -> None:
    client, chat_id = _visitor(server)
    ws = await _customer_socket(server, client, chat_id)
    await _frames_until(ws, lambda f, s: f.get("type") == "chat")
    await ws.send("{not json")
    error = await _frames_until(ws, lambda f, s: f.get("type") == "error")
    assert "JSON" in error[-1]["message"]
    await ws.send(json.dumps({"type": "message", "client_id": "big", "text": "x" * 20_000}))
    assert "too large" in (await _frames_until(ws, lambda f, s: f.get("type") == "error")
                           )[-1]["message"]
    await ws.send(json.dumps({"type": "teleport"}))
    assert (await _frames_until(ws, lambda f, s: f.get("type") == "error"))[-1]["message"]
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(30):
            await ws.send("nope")
            await _frames_until(ws, lambda f, s: f.get("type") == "error", timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # Another customer's chat is unaffected.
    other, other_id = _visitor(server)
    assert other.post(f"/chat/api/v1/chats/{other_id}/messages",
                      json={"client_id": "ok", "text": "hello"}).status_code == 201
    client.close()
    other.close()


async def test_a_forged_token_or_another_chat_is_refused(server: Server) -> None:
    client, chat_id = _visitor(server)
    _, stranger_chat = _visitor(server)
    for query in (f"token=kv_forged&chat={chat_id}", f"token={_token(client)}&chat={stranger_chat}",
                  f"token={_token(client)}&chat=abc"):
        ws = await connect(_ws_url(server, f"/chat/ws?{query}"))
        frames = await _frames_until(ws, lambda f, s: f.get("type") == "error")
        assert frames[-1]["code"] == "refused" and frames[-1]["message"]
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    client.close()


def _online_agent(server: Server) -> httpx.Client:
    agent = signed_in(server, AGENT)
    response = agent.post("/console/chats/presence", json={"presence": "online", "capacity": 20},
                          headers={"origin": server.base_url})
    assert response.status_code == 200, response.text
    return agent


async def _talk(customer_server: Server, agent_server: Server) -> None:
    agent = _online_agent(agent_server)
    cookie = "; ".join(f"{k}={v}" for k, v in agent.cookies.items())
    agent_ws = await connect(_ws_url(agent_server, "/console/chats/ws"),
                             origin=agent_server.base_url,  # type: ignore[arg-type]
                             additional_headers={"cookie": cookie})
    client, chat_id = _visitor(customer_server)
    ws = await _customer_socket(customer_server, client, chat_id)
    await ws.send(json.dumps({"type": "message", "client_id": "h", "text": "转人工"}))
    await _frames_until(ws, lambda f, s: f.get("type") == "chat" and f["chat"]["owner"] == "queue")
    accepted = None
    for _ in range(100):  # offered to this agent or another online one: accept by hand
        accepted = agent.post(f"/console/chats/{chat_id}/accept",
                              headers={"origin": agent_server.base_url})
        if accepted.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert accepted is not None and accepted.status_code == 200, accepted.text
    await _frames_until(ws, lambda f, s: f.get("type") == "chat" and f["chat"]["owner"] == "agent")
    word = uuid.uuid4().hex
    await ws.send(json.dumps({"type": "message", "client_id": word, "text": f"hi {word}"}))
    relayed = await _frames_until(agent_ws, lambda f, s: f.get("type") == "chat.message"
                                  and f["message"]["client_id"] == word)
    assert relayed[-1]["chat"] == chat_id
    await agent_ws.send(json.dumps({"type": "message", "chat": chat_id, "client_id": "r1",
                                    "text": "Checking your deposit now."}))
    answer = await _frames_until(ws, lambda f, s: (_message(f) or {}).get("author") == "agent")
    assert _message(answer[-1])["text"] == "Checking your deposit now."  # type: ignore[index]
    await agent_ws.send(json.dumps({"type": "message", "chat": chat_id, "client_id": "n1",
                                    "text": "internal: VIP", "internal": True}))
    resolved = agent.post(f"/console/chats/{chat_id}/resolve",
                          headers={"origin": agent_server.base_url})
    assert resolved.status_code == 200
    end = await _frames_until(ws, lambda f, s: f.get("type") == "chat"
                              and f["chat"]["owner"] == "ended")
    assert all("VIP" not in str(f) for f in end)
    for socket_ in (ws, agent_ws):
        await socket_.close()
    client.close()
    agent.close()


async def test_a_customer_and_an_agent_talk_live(server: Server) -> None:
    await _talk(server, server)


async def test_two_processes_share_the_chat(tmp_path_factory: pytest.TempPathFactory) -> None:
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (make services)")
    url, drop = await _postgres_url()
    tmp = tmp_path_factory.mktemp("two-chat")
    env = {"KEFU_DATABASE_URL": url, "KEFU_REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0"}
    try:
        with kefu_process(tmp, data_dir=tmp / "data", env=env) as one, \
                kefu_process(tmp, data_dir=tmp / "data", env=env) as two:
            assert one.pid != two.pid
            await _talk(customer_server=one, agent_server=two)
    finally:
        await drop()
