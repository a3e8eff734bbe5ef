"""An agent's own account: change password, turn on two-factor authentication."""

import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts import service as accounts
from kefu.core.errors import KefuError
from kefu.web.deps import CurrentAgent, DbSession, Lang, Settings, rollback
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/console/account")
ENROL_COOKIE = "kefu_totp_enrol"


def _page(request: Request, lang: str, agent: CurrentAgent, secret: str,
          **extra: object) -> Response:
    uri = pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name="Kefu")
    return render(request, "console/account.html", lang,
                  {"agent": agent, "secret": secret, "uri": uri, **extra},
                  status_code=422 if extra.get("error") else 200)


@router.get("")
async def account(request: Request, lang: Lang, settings: Settings,
                  agent: CurrentAgent) -> Response:
    secret = request.cookies.get(ENROL_COOKIE) or accounts.new_totp_secret()
    response = _page(request, lang, agent, secret,
                     saved=request.query_params.get("saved") == "1")
    response.set_cookie(ENROL_COOKIE, secret, httponly=True, samesite="strict",
                        secure=settings.cookie_secure, max_age=600)
    return response


@router.post("/password")
async def change_password(request: Request, db: DbSession, lang: Lang,
                          agent: CurrentAgent) -> Response:
    form = await read_form(request, "current", "new")
    try:
        await accounts.change_agent_password(db=db, agent=agent, current=form["current"],
                                             new=form["new"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, agent)
        secret = request.cookies.get(ENROL_COOKIE) or accounts.new_totp_secret()
        return _page(request, lang, agent, secret, error=exc.message)
    # Every session, this one included, ended with the old password.
    return RedirectResponse("/console/login", status_code=303)


@router.post("/totp")
async def enable_totp(request: Request, db: DbSession, lang: Lang,
                      agent: CurrentAgent) -> Response:
    secret = request.cookies.get(ENROL_COOKIE, "")
    form = await read_form(request, "code")
    try:
        await accounts.enable_totp(db=db, agent=agent, secret=secret, code=form["code"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, agent)
        return _page(request, lang, agent, secret or accounts.new_totp_secret(),
                     error=exc.message)
    response = RedirectResponse("/console/account?saved=1", status_code=303)
    response.delete_cookie(ENROL_COOKIE)
    return response
