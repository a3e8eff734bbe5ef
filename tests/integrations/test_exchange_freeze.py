"""Self-service freeze end to end: portal → job → fake exchange over loopback HTTP."""

from exchange_server import SECRET, exchange_settings, serve_fake
from sqlalchemy import update

from conftest import (
    Desk,
    agent_client,
    customer_client,
    reference_from,
    sso_customer_client,
    submit_ticket,
)
from kefu.accounts.models import Role
from kefu.core import jobs
from kefu.core.clock import utcnow
from kefu.integrations.exchange.fake import FakeAccount, FakeExchange
from kefu.integrations.exchange.service import FREEZE_JOB

PAGE = "/portal/security/freeze"


async def make_retry_due(desk: Desk) -> None:
    """Skip the backoff wait instead of sleeping through it."""
    async with desk.app.state.session_factory() as db:
        await db.execute(update(jobs.Job).where(jobs.Job.kind == FREEZE_JOB,
                                                jobs.Job.status == "queued")
                         .values(run_after=utcnow()))
        await db.commit()


def form(**extra: str) -> dict[str, str]:
    return {"confirm": "1", **extra}


async def test_freeze_survives_an_outage_and_a_lost_response(desk: Desk) -> None:
    exchange = FakeExchange(SECRET, accounts={"700001": FakeAccount("700001")})
    exchange.fail_next = 1  # first attempt: 503 before anything happens
    exchange.fail_after_apply = 1  # second attempt: frozen, but the answer is lost
    customer = await sso_customer_client(desk, "700001")
    page = await customer.get(PAGE)
    assert page.status_code == 200 and 'id="freeze-form"' in page.text
    assert "never ask for your password" in page.text
    sent = await customer.post(PAGE, data=form())
    assert sent.status_code == 303
    assert (await customer.post(PAGE, data=form())).status_code == 303  # double click
    assert "In progress" in (await customer.get(PAGE)).text

    async with serve_fake(exchange) as url:
        settings = exchange_settings(desk, url)
        for _ in range(3):
            await desk.run_jobs(settings)
            await make_retry_due(desk)
    assert exchange.accounts["700001"].status == "frozen"
    assert exchange.freezes_applied == 1  # the retry replayed the same Idempotency-Key
    assert exchange.bad_signatures == 0
    assert len(exchange.replies) == 1  # one request, not one per double click

    done = (await customer.get(PAGE)).text
    assert 'id="frozen"' in done and "Reset your 2FA" in done and "Change your password" in done
    admin = await agent_client(desk, role=Role.ADMIN)
    for action in ("exchange.freeze_requested", "exchange.account_frozen"):
        assert "700001" in (await admin.get("/admin/audit", params={"action": action})).text


async def test_unknown_uid_fails_without_retry_loops(desk: Desk) -> None:
    exchange = FakeExchange(SECRET)
    customer = await sso_customer_client(desk, "700404")
    assert (await customer.post(PAGE, data=form())).status_code == 303
    async with serve_fake(exchange) as url:
        await desk.run_jobs(exchange_settings(desk, url))
    page = (await customer.get(PAGE)).text
    assert "freeze-failed" in page and 'id="frozen"' not in page


async def test_form_mistakes_are_refused(desk: Desk) -> None:
    unverified = await customer_client(desk)  # email login: no UID the exchange vouched for
    assert 'id="freeze-needs-uid"' in (await unverified.get(PAGE)).text
    typed = await unverified.post(PAGE, data={"uid": "700001", "confirm": "1"})
    assert typed.status_code == 422 and "signed you in with" in typed.text
    verified = await sso_customer_client(desk, "700555")
    unconfirmed = await verified.post(PAGE, data={"uid": "700001"})
    assert unconfirmed.status_code == 422
    anonymous = await desk.client().get(PAGE)
    assert anonymous.status_code == 303 and "/portal/login" in anonymous.headers["location"]


async def test_security_ticket_links_to_the_freeze(desk: Desk) -> None:
    customer = await sso_customer_client(desk, "700777")
    reference = reference_from(await submit_ticket(customer, category="security",
                                                   subject="Account stolen"))
    page = await customer.get(PAGE, params={"ticket": reference})
    assert f'value="{reference}"' in page.text
    exchange = FakeExchange(SECRET, accounts={"700777": FakeAccount("700777")})
    await customer.post(PAGE, data=form(ticket=reference))
    other = await sso_customer_client(desk, "700778")  # another's ticket reference is ignored
    assert (await other.post(PAGE, data=form(ticket=reference))).status_code == 303
    async with serve_fake(exchange) as url:
        await desk.run_jobs(exchange_settings(desk, url))  # leaves no freeze job behind
    assert exchange.accounts["700777"].status == "frozen"
    admin = await agent_client(desk, role=Role.ADMIN)
    audit = (await admin.get("/admin/audit", params={"action": "exchange.freeze_requested"})).text
    assert audit.count(reference) == 1
