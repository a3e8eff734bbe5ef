"""What the API answers when a call is refused: a bounded 422, 403 for a token without
the scope, Retry-After on every 429, and HSTS behind a trusted TLS proxy."""

from collections.abc import AsyncIterator

import httpx
import pytest

from conftest import Desk, make_settings, unique_email
from console_support import api_client
from kefu.web.app import create_app


@pytest.fixture
async def second_app(desk: Desk, tmp_path_factory: pytest.TempPathFactory
                     ) -> AsyncIterator[Desk]:
    """Another process on the same database, with its own settings and rate limiter."""
    settings = make_settings(tmp_path_factory.mktemp("second"), desk.settings.database_url,
                             trusted_proxies="10.0.0.7", login_attempts_per_minute=2)
    app = create_app(settings, run_migrations=False)
    yield Desk(desk.backend, app, settings)
    await app.state.engine.dispose()


def _client_from(app_desk: Desk, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app_desk.app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://kefu.test")


async def test_a_422_echoes_at_most_a_couple_of_hundred_characters(desk: Desk) -> None:
    client = desk.client()
    huge = "A" * 1_000_000
    answer = await client.post("/api/v1/guard/check", json={"text": huge})
    assert answer.status_code == 422
    assert len(answer.content) < 2_000, len(answer.content)
    error = answer.json()["detail"][0]
    assert error["type"] == "string_too_long" and error["loc"] == ["body", "text"]
    assert error["input"].startswith("AAAA") and len(error["input"]) <= 201
    small = await client.post("/api/v1/guard/check", json={"text": 5})
    assert small.json()["detail"][0]["input"] == 5  # a short input is echoed whole
    nested = await client.post("/api/v1/guard/check", json={"text": ["B" * 5000] * 50})
    assert nested.status_code == 422 and len(nested.content) < 2_000


async def test_a_valid_token_without_the_scope_gets_403(desk: Desk) -> None:
    reader = await api_client(desk, scopes=("tickets:read",))
    assert (await reader.get("/api/v1/tickets")).status_code == 200
    refused = await reader.post("/api/v1/tickets", json={
        "category": "api", "subject": "s", "description": "d", "contact_email": unique_email()})
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == "This token lacks the scope for this call."
    nobody = desk.client()
    assert (await nobody.get("/api/v1/tickets")).status_code == 401
    nobody.headers["authorization"] = "Bearer kefu_not-a-real-token"
    assert (await nobody.post("/api/v1/tickets", json={})).status_code in (401, 422)
    assert (await nobody.get("/api/v1/tickets")).status_code == 401


async def test_every_429_carries_retry_after(second_app: Desk) -> None:
    api = _client_from(second_app, "192.0.2.10")
    statuses = [(await api.post("/api/v1/guard/check", json={"text": "hi"})).status_code
                for _ in range(125)]
    assert statuses[0] == 200 and statuses[-1] == 429
    limited = await api.post("/api/v1/guard/check", json={"text": "hi"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    page = _client_from(second_app, "192.0.2.11")
    for _ in range(4):
        login = await page.post("/portal/login", data={"email": "x@example.com",
                                                       "password": "wrong password"})
    assert login.status_code == 429 and int(login.headers["retry-after"]) > 0
    assert "text/html" in login.headers["content-type"]


async def test_hsts_behind_a_trusted_tls_proxy_only(second_app: Desk, desk: Desk) -> None:
    proxy = _client_from(second_app, "10.0.0.7")
    over_tls = await proxy.get("/healthz", headers={"x-forwarded-proto": "https"})
    assert over_tls.headers["strict-transport-security"].startswith("max-age=")
    plain = await proxy.get("/healthz", headers={"x-forwarded-proto": "http"})
    assert "strict-transport-security" not in plain.headers
    forged = await _client_from(second_app, "198.51.100.9").get(
        "/healthz", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in forged.headers
    untrusted_setting = await desk.client().get("/healthz",
                                                headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in untrusted_setting.headers
