"""The HTTP adapter against the fake exchange over real loopback HTTP; signing; SSRF."""

from pathlib import Path

import httpx
import pytest
from exchange_server import SECRET, serve_fake

from conftest import Desk
from kefu.core.settings import Settings
from kefu.integrations.exchange import signing
from kefu.integrations.exchange.base import (
    ExchangeNotConfigured,
    ExchangeRejected,
    ExchangeUnavailable,
)
from kefu.integrations.exchange.config import DEV_SECRET, FAKE_MOUNT
from kefu.integrations.exchange.fake import FakeAccount, FakeExchange
from kefu.integrations.exchange.http import HttpExchangeBackend
from kefu.integrations.exchange.urls import UnsafeURL, check_base_url
from kefu.web.app import create_app


def fake() -> FakeExchange:
    return FakeExchange(SECRET, accounts={"100001": FakeAccount("100001", kyc_level=2)})


async def test_lookup_and_idempotent_freeze() -> None:
    exchange = fake()
    async with serve_fake(exchange) as url:
        backend = HttpExchangeBackend(url, SECRET, allow_loopback=True)
        info = await backend.lookup_uid("100001")
        assert info is not None and info.kyc_level == 2 and info.status == "active"
        assert await backend.lookup_uid("999999") is None
        first = await backend.freeze_account("100001", reason="r", idempotency_key="k1")
        again = await backend.freeze_account("100001", reason="r", idempotency_key="k1")
        assert first.status == "frozen" and not first.replayed
        assert again.replayed and again.reference == first.reference
        assert exchange.freezes_applied == 1 and exchange.bad_signatures == 0
        with pytest.raises(ExchangeRejected):  # same key, different request
            await backend.freeze_account("100001", reason="other", idempotency_key="k1")
        with pytest.raises(ExchangeRejected):
            await backend.freeze_account("999999", reason="r", idempotency_key="k2")


async def test_wrong_or_stale_signature_is_refused() -> None:
    exchange = fake()
    async with serve_fake(exchange) as url:
        with pytest.raises(ExchangeRejected, match="401"):
            await HttpExchangeBackend(url, "wrong-secret", allow_loopback=True
                                      ).lookup_uid("100001")
        path = "/v1/accounts/100001"
        stale = signing.signed_headers(SECRET, method="GET", path=path, body=b"",
                                       now=1_000_000_000)
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + path, headers=stale)).status_code == 401
            assert (await client.get(url + path)).status_code == 401
        assert exchange.bad_signatures == 3


async def test_outage_and_unreachable_are_transient() -> None:
    exchange = fake()
    exchange.fail_next = 1
    async with serve_fake(exchange) as url:
        backend = HttpExchangeBackend(url, SECRET, allow_loopback=True)
        with pytest.raises(ExchangeUnavailable):
            await backend.lookup_uid("100001")
        assert await backend.lookup_uid("100001") is not None
    with pytest.raises(ExchangeUnavailable):  # the server is gone now
        await HttpExchangeBackend(url, SECRET, allow_loopback=True, timeout=1).lookup_uid("1")


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest", "http://[::ffff:169.254.169.254]/", "http://[fe80::1]/",
    "http://0.0.0.0/", "file:///etc/passwd", "gopher://exchange.internal/",
    "http://user:pw@exchange.internal/", "http://127.0.0.1:8000", "http://localhost/",
    "http://[::1]/", "https://exchange.internal/?x=1", "http://",
])
def test_unsafe_base_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_base_url(url, allow_loopback=False)
    with pytest.raises(ExchangeNotConfigured):
        HttpExchangeBackend(url, SECRET)


def test_loopback_only_when_allowed_and_private_ranges_are_fine() -> None:
    assert check_base_url("http://127.0.0.1:9/", allow_loopback=True) == "http://127.0.0.1:9"
    assert check_base_url("https://10.0.0.5/api", allow_loopback=False)
    with pytest.raises(UnsafeURL):
        check_base_url("http://169.254.169.254/", allow_loopback=True)


async def test_invalid_uid_never_reaches_the_wire() -> None:
    backend = HttpExchangeBackend("http://127.0.0.1:9", SECRET, allow_loopback=True)
    with pytest.raises(ExchangeRejected):
        await backend.lookup_uid("../admin")


async def test_fake_is_mounted_only_in_development_and_test(desk: Desk, tmp_path: Path) -> None:
    path = f"{FAKE_MOUNT}/v1/accounts/4242"
    client = desk.client()
    assert (await client.get(path)).status_code == 401  # mounted; signature checked
    headers = signing.signed_headers(DEV_SECRET, method="GET", path=path, body=b"")
    found = await client.get(path, headers=headers)
    assert found.status_code == 200 and found.json()["uid"] == "4242"

    production = create_app(Settings(
        environment="production", data_dir=tmp_path, secret_key="s" * 40,
        uid_signing_secret="u" * 40, database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db"),
        run_migrations=False)
    transport = httpx.ASGITransport(app=production)
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as prod:
        assert (await prod.get(path, headers=headers)).status_code == 404
    await production.state.engine.dispose()
