"""Log-in, sign-up, password reset, sessions, TOTP: same answers for known and unknown."""

import time

import httpx
import pyotp

from conftest import (
    PASSWORD,
    Desk,
    agent_client,
    customer_client,
    make_agent,
    make_settings,
    unique_email,
)
from kefu.accounts.models import Role
from kefu.contacts.service import uid_signature
from kefu.notifications.mailer import read_log
from kefu.web.app import create_app


async def test_login_answers_the_same_for_unknown_and_wrong_password(desk: Desk) -> None:
    email = unique_email()
    await customer_client(desk, email=email)
    client = desk.client()
    stranger = unique_email()
    wrong = await client.post("/portal/login", data={"email": email, "password": "wrong-pass1"})
    unknown = await client.post("/portal/login", data={"email": stranger,
                                                       "password": "wrong-pass1"})
    assert wrong.status_code == unknown.status_code == 401
    # The form echoes the typed address back; apart from that the pages are identical.
    assert wrong.text.replace(email, "E") == unknown.text.replace(stranger, "E")


async def test_login_timing_does_not_reveal_unknown_addresses(desk: Desk) -> None:
    email = unique_email()
    await customer_client(desk, email=email)
    client = desk.client()

    async def timed(address: str) -> float:
        start = time.perf_counter()
        await client.post("/portal/login", data={"email": address, "password": "wrong-pass1"})
        return time.perf_counter() - start

    known = sorted([await timed(email) for _ in range(5)])[2]
    unknown = sorted([await timed(unique_email()) for _ in range(5)])[2]
    # argon2 runs in both cases; without the dummy hash "unknown" would be ~100x faster.
    assert unknown > known * 0.4


async def test_reset_request_answers_the_same_and_only_mails_real_accounts(desk: Desk) -> None:
    email = unique_email()
    await customer_client(desk, email=email)
    await desk.run_jobs()
    client = desk.client()
    known = await client.post("/portal/reset", data={"email": email})
    unknown = await client.post("/portal/reset", data={"email": unique_email()})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    await desk.run_jobs()
    mails = [m for m in _mail_log(desk) if m["to"] == email]
    assert len(mails) == 1 and "/portal/reset/" in mails[0]["text"]


async def test_password_reset_kills_existing_sessions(desk: Desk) -> None:
    email = unique_email()
    old_session = await customer_client(desk, email=email)
    assert (await old_session.get("/portal/tickets")).status_code == 200
    await desk.client().post("/portal/reset", data={"email": email})
    await desk.run_jobs()
    link = next(m for m in reversed(_mail_log(desk)) if m["to"] == email)["text"]
    secret = link.split("/portal/reset/")[1].split()[0]
    done = await desk.client().post(f"/portal/reset/{secret}",
                                    data={"password": "a brand new passphrase"})
    assert done.status_code == 303
    assert (await old_session.get("/portal/tickets")).status_code == 303
    reused = await desk.client().post(f"/portal/reset/{secret}",
                                      data={"password": "another new passphrase"})
    assert reused.status_code == 422
    fresh = desk.client()
    login = await fresh.post("/portal/login", data={"email": email,
                                                    "password": "a brand new passphrase"})
    assert login.status_code == 303


async def test_login_is_rate_limited(desk: Desk) -> None:
    settings = make_settings(desk.settings.data_dir, desk.settings.database_url,
                             login_attempts_per_minute=3)
    app = create_app(settings, run_migrations=False)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    email = unique_email()
    codes = [(await client.post("/portal/login", data={"email": email, "password": "x" * 10})
              ).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    limited = await client.post("/portal/login", data={"email": email, "password": "x" * 10})
    assert "Too many requests" in limited.text
    await app.state.engine.dispose()


async def test_signup_refuses_duplicates_and_weak_passwords(desk: Desk) -> None:
    email = unique_email()
    await customer_client(desk, email=email)
    again = await desk.client().post("/portal/signup", data={"email": email,
                                                             "password": PASSWORD})
    assert again.status_code == 409
    weak = await desk.client().post("/portal/signup", data={"email": unique_email(),
                                                            "password": "short"})
    assert weak.status_code == 422 and "at least 10" in weak.text
    bad = await desk.client().post("/portal/signup", data={"email": "not-an-email",
                                                           "password": PASSWORD})
    assert bad.status_code == 422


async def test_signed_uid_sso_and_forged_signature(desk: Desk) -> None:
    secret = desk.settings.uid_signing_secret
    client = desk.client()
    good = await client.get("/portal/sso", params={"uid": "88001234",
                                                   "sig": uid_signature("88001234", secret)})
    assert good.status_code == 303
    assert (await client.get("/portal/tickets")).status_code == 200
    forged = await desk.client().get("/portal/sso", params={"uid": "88001235",
                                                            "sig": uid_signature("88001234",
                                                                                 secret)})
    assert forged.status_code == 422
    redirect = await desk.client().get("/portal/sso", params={
        "uid": "88001234", "sig": uid_signature("88001234", secret),
        "next": "//evil.example/phish"})
    assert redirect.headers["location"] == "/portal/tickets"


async def test_agent_totp_when_enabled_and_when_mandatory(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    await admin.post("/admin/settings/totp", data={"required": "1"})
    try:
        email = await make_agent(desk)
        client = desk.client()
        step1 = await client.post("/console/login", data={"email": email, "password": PASSWORD})
        assert step1.headers["location"] == "/console/login/totp"
        # Password alone is not a session yet.
        assert (await client.get("/console")).status_code == 303
        setup = await client.get("/console/login/totp")
        assert setup.headers["location"] == "/console/totp/setup"
        page = await client.get("/console/totp/setup")
        secret = page.text.split('class="secret">')[1].split("<")[0]
        bad = await client.post("/console/totp/setup", data={"code": "000000"})
        assert bad.status_code == 422
        ok = await client.post("/console/totp/setup", data={"code": pyotp.TOTP(secret).now()})
        assert ok.headers["location"] == "/console"
        assert (await client.get("/console")).status_code == 200
        second = desk.client()
        await second.post("/console/login", data={"email": email, "password": PASSWORD})
        wrong = await second.post("/console/login/totp", data={"code": "123456"})
        assert wrong.status_code == 401
        right = await second.post("/console/login/totp",
                                  data={"code": pyotp.TOTP(secret).now()})
        assert right.status_code == 303 and (await second.get("/console")).status_code == 200
    finally:
        await admin.post("/admin/settings/totp", data={"required": "0"})


async def test_cross_site_form_posts_are_refused(desk: Desk) -> None:
    client = await customer_client(desk)
    response = await client.post("/portal/account/anti-phishing", data={"code": "ABCD1234"},
                                 headers={"origin": "https://evil.example"})
    assert response.status_code == 403


async def test_security_headers(desk: Desk) -> None:
    response = await desk.client().get("/portal/login")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def _mail_log(desk: Desk) -> list[dict[str, str]]:
    return list(reversed(read_log(desk.settings.mail_log_path, limit=100_000)))
