"""/verify and GET /api/v1/verify: anyone checks a URL, email, @handle or phone number."""

import pytest
from channel_helpers import ensure_demo_channels

from conftest import Desk


@pytest.mark.parametrize(("value", "verdict", "code"), [
    ("https://www.kefu.example/login", "official", None),
    ("Support@Kefu.Example", "official", None),
    ("@kefuexchange", "official", None),
    ("https://x.com/KefuExchange", "official", None),
    ("+852 2345 6789", "official", None),
    ("kеfu.example", "lookalike", "homoglyph"),
    ("kefu-support.com", "lookalike", "brand_in_name"),
    ("kefu.example.evil.com", "lookalike", "subdomain_trick"),
    ("@KefuExchange_support", "lookalike", "handle_lookalike"),
    ("google.com", "not_official", None),
    ("", "invalid", None),
    ("x" * 20_000, "invalid", None),
    ("\x00\x7f<script>alert(1)</script>", "invalid", None),
])
async def test_api_answers(desk: Desk, value: str, verdict: str, code: str | None) -> None:
    await ensure_demo_channels(desk)
    response = await desk.client().get("/api/v1/verify", params={"value": value})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == verdict
    assert body["official"] == (verdict == "official")
    if code:
        assert code in [w["code"] for w in body["warnings"]]
        assert all(w["message"] for w in body["warnings"])
    assert "never asks for your password" in body["advice"]


async def test_api_speaks_chinese(desk: Desk) -> None:
    await ensure_demo_channels(desk)
    body = (await desk.client().get("/api/v1/verify", params={"value": "kefu.com"},
                                    headers={"accept-language": "zh-CN"})).json()
    assert body["verdict"] == "lookalike"
    assert "密码" in body["advice"]


async def test_page_shows_verdict_and_safety_rules(desk: Desk) -> None:
    await ensure_demo_channels(desk)
    client = desk.client()
    page = await client.get("/verify")
    assert page.status_code == 200
    assert "never sends you a direct message first" in page.text
    assert "kefu.example" in page.text  # the public list of official channels
    official = (await client.get("/verify", params={"value": "t.me/KefuExchange"})).text
    assert 'data-verdict="official"' in official
    fake = (await client.get("/verify", params={"value": "kefu.example.evil.com"})).text
    assert 'data-verdict="lookalike"' in fake and 'data-code="subdomain_trick"' in fake


async def test_page_escapes_input_and_survives_junk(desk: Desk) -> None:
    client = desk.client()
    page = await client.get("/verify", params={"value": '"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    huge = await client.get("/verify", params={"value": "%" * 20_000})
    assert huge.status_code == 200 and 'data-verdict="invalid"' in huge.text


async def test_page_in_chinese(desk: Desk) -> None:
    await ensure_demo_channels(desk)
    page = await desk.client().get("/verify", params={"value": "kefu.com", "lang": "zh-CN"})
    assert "核验" in page.text and "官方" in page.text
