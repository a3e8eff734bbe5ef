"""Agent second factor: the code step after the password, and enrolment.

When an admin makes TOTP mandatory, an agent without a secret enrols right after the
password step, before the session becomes usable.
"""

import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts import sessions
from kefu.accounts.models import Agent, AuthSession
from kefu.core.audit import record
from kefu.core.errors import InvalidInput
from kefu.security.ratelimit import enforce
from kefu.web.deps import DbSession, Lang, Limiter, LoginRequired, Settings, client_ip, cookie_name
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


async def _pending(request: Request, db: DbSession, settings: Settings) -> tuple[AuthSession,
                                                                                  Agent]:
    token = request.cookies.get(cookie_name(settings, "kefu_agent")) or ""
    session = await sessions.load_session(db=db, token=token) if token else None
    if session is None or not session.pending_totp or session.principal_type != "agent":
        raise LoginRequired("/console/login", "/console")
    agent = await db.get(Agent, session.principal_id)
    if agent is None or not agent.active:
        raise LoginRequired("/console/login", "/console")
    return session, agent


@router.get("/console/login/totp")
async def totp_form(request: Request, db: DbSession, settings: Settings, lang: Lang) -> Response:
    _session, agent = await _pending(request, db, settings)
    if not agent.totp_secret:
        return RedirectResponse("/console/totp/setup", status_code=303)
    return render(request, "console/totp.html", lang)


@router.post("/console/login/totp")
async def totp_verify(request: Request, db: DbSession, settings: Settings, lang: Lang,
                      limiter: Limiter) -> Response:
    session, agent = await _pending(request, db, settings)
    await enforce(limiter, f"totp:{agent.id}", limit=5, window_seconds=60)
    form = await read_form(request, "code")
    if not accounts.verify_totp(agent, form["code"]):
        return render(request, "console/totp.html", lang,
                      {"error": "The code is not valid."}, status_code=401)
    session.pending_totp = False
    record(db, actor=("agent", agent.id), action="agent.logged_in", ip=client_ip(request),
           detail={"totp": True})
    await db.commit()
    return RedirectResponse("/console", status_code=303)


@router.get("/console/totp/setup")
async def totp_setup_form(request: Request, db: DbSession, settings: Settings,
                          lang: Lang) -> Response:
    _session, agent = await _pending(request, db, settings)
    secret = request.cookies.get("kefu_totp_enrol") or accounts.new_totp_secret()
    uri = pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name="Kefu")
    response = render(request, "console/totp_setup.html", lang, {"secret": secret, "uri": uri})
    response.set_cookie("kefu_totp_enrol", secret, httponly=True, samesite="strict",
                        secure=settings.cookie_secure, max_age=600)
    return response


@router.post("/console/totp/setup")
async def totp_setup(request: Request, db: DbSession, settings: Settings, lang: Lang,
                     limiter: Limiter) -> Response:
    session, agent = await _pending(request, db, settings)
    await enforce(limiter, f"totp:{agent.id}", limit=5, window_seconds=60)
    secret = request.cookies.get("kefu_totp_enrol", "")
    form = await read_form(request, "code")
    try:
        await accounts.enable_totp(db=db, agent=agent, secret=secret, code=form["code"])
    except InvalidInput as exc:
        uri = pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name="Kefu") \
            if secret else ""
        return render(request, "console/totp_setup.html", lang,
                      {"secret": secret, "uri": uri, "error": exc.message}, status_code=422)
    session.pending_totp = False
    await db.commit()
    response = RedirectResponse("/console", status_code=303)
    response.delete_cookie("kefu_totp_enrol")
    return response

