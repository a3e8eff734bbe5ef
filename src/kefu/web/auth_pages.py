"""Sign-up, log-in, log-out, password reset and exchange SSO for customers and agents."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts import sessions
from kefu.accounts.models import PrincipalType
from kefu.contacts import resets
from kefu.contacts import service as contacts
from kefu.core.audit import record
from kefu.core.errors import KefuError, Unauthorized
from kefu.core.settings import Settings as SettingsModel
from kefu.security.ratelimit import enforce
from kefu.web.deps import DbSession, Lang, Limiter, Settings, client_ip, cookie_name
from kefu.web.forms import read_form, safe_next
from kefu.web.templating import render
from kefu.web.validation import valid_email

router = APIRouter(include_in_schema=False)


def _set_session_cookie(
    response: Response, settings: SettingsModel, base: str, token: str
) -> None:
    response.set_cookie(
        cookie_name(settings, base), token, httponly=True, samesite="lax",
        secure=settings.cookie_secure, path="/", max_age=settings.session_hours * 3600,
    )


async def _throttle(
    limiter: Limiter, request: Request, settings: SettingsModel, email: str
) -> None:
    per_minute = settings.login_attempts_per_minute
    await enforce(limiter, f"auth-ip:{client_ip(request)}", limit=per_minute * 3,
                  window_seconds=60)
    await enforce(limiter, f"auth-email:{email.strip().lower()}", limit=per_minute,
                  window_seconds=60)


@router.post("/lang")
async def set_language(request: Request) -> Response:
    form = await read_form(request, "lang", "next")
    response = RedirectResponse(safe_next(form["next"], "/"), status_code=303)
    response.set_cookie("kefu_lang", "zh-CN" if form["lang"].startswith("zh") else "en",
                        samesite="lax", max_age=365 * 86400)
    return response


@router.get("/portal/signup")
async def signup_form(request: Request, lang: Lang) -> Response:
    return render(request, "portal/signup.html", lang)


@router.post("/portal/signup")
async def signup(request: Request, db: DbSession, settings: Settings, lang: Lang,
                 limiter: Limiter) -> Response:
    form = await read_form(request, "email", "password", "name")
    await _throttle(limiter, request, settings, form["email"])
    try:
        customer = await contacts.sign_up(db=db, email=valid_email(form["email"]),
                                          password=form["password"], name=form["name"],
                                          lang=lang)
        token = await sessions.start_session(db=db, kind=PrincipalType.CUSTOMER,
                                             principal_id=customer.id,
                                             hours=settings.session_hours)
        await db.commit()
    except KefuError as exc:
        await db.rollback()
        return render(request, "portal/signup.html", lang,
                      {"error": exc.message, "email": form["email"], "name": form["name"]},
                      status_code=exc.status_code)
    response = RedirectResponse("/portal/tickets", status_code=303)
    _set_session_cookie(response, settings, "kefu_customer", token)
    return response


@router.get("/portal/login")
async def customer_login_form(request: Request, lang: Lang,
                              next: Annotated[str, Query()] = "") -> Response:
    return render(request, "portal/login.html", lang, {"next": safe_next(next, "")})


@router.post("/portal/login")
async def customer_login(request: Request, db: DbSession, settings: Settings, lang: Lang,
                         limiter: Limiter) -> Response:
    form = await read_form(request, "email", "password", "next")
    await _throttle(limiter, request, settings, form["email"])
    try:
        customer = await contacts.authenticate(db=db, email=form["email"],
                                               password=form["password"])
    except Unauthorized as exc:
        return render(request, "portal/login.html", lang,
                      {"error": exc.message, "email": form["email"], "next": form["next"]},
                      status_code=401)
    token = await sessions.start_session(db=db, kind=PrincipalType.CUSTOMER,
                                         principal_id=customer.id, hours=settings.session_hours)
    await db.commit()
    response = RedirectResponse(safe_next(form["next"], "/portal/tickets"), status_code=303)
    _set_session_cookie(response, settings, "kefu_customer", token)
    return response


@router.get("/portal/sso")
async def customer_sso(request: Request, db: DbSession, settings: Settings, lang: Lang,
                       uid: str = "", sig: str = "", next: str = "") -> Response:
    """The exchange links a logged-in trader here with `uid` and `sig` = HMAC-SHA256(uid)."""
    customer = await contacts.identify_by_uid(db=db, uid=uid, signature=sig,
                                              secret=settings.uid_signing_secret, lang=lang)
    token = await sessions.start_session(db=db, kind=PrincipalType.CUSTOMER,
                                         principal_id=customer.id, hours=settings.session_hours)
    await db.commit()
    response = RedirectResponse(safe_next(next, "/portal/tickets"), status_code=303)
    _set_session_cookie(response, settings, "kefu_customer", token)
    return response


@router.post("/portal/logout")
async def customer_logout(request: Request, db: DbSession, settings: Settings) -> Response:
    token = request.cookies.get(cookie_name(settings, "kefu_customer"))
    if token:
        await sessions.end_session(db=db, token=token)
        await db.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(cookie_name(settings, "kefu_customer"), path="/")
    return response


@router.get("/portal/reset")
async def reset_form(request: Request, lang: Lang) -> Response:
    return render(request, "portal/reset_request.html", lang)


@router.post("/portal/reset")
async def reset_request(request: Request, db: DbSession, settings: Settings, lang: Lang,
                        limiter: Limiter) -> Response:
    form = await read_form(request, "email")
    await _throttle(limiter, request, settings, form["email"])
    await resets.request_customer_reset(db=db, email=form["email"], base_url=settings.base_url)
    await db.commit()
    # Identical answer whether or not the address is registered.
    return render(request, "portal/reset_request.html", lang, {"sent": True})


@router.get("/portal/reset/{secret}")
async def reset_confirm_form(request: Request, lang: Lang, secret: str) -> Response:
    return render(request, "portal/reset_confirm.html", lang, {"secret": secret})


@router.post("/portal/reset/{secret}")
async def reset_confirm(request: Request, db: DbSession, lang: Lang, secret: str) -> Response:
    form = await read_form(request, "password")
    try:
        await resets.confirm_reset(db=db, secret=secret, password=form["password"])
        await db.commit()
    except KefuError as exc:
        await db.rollback()
        return render(request, "portal/reset_confirm.html", lang,
                      {"secret": secret, "error": exc.message}, status_code=exc.status_code)
    return RedirectResponse("/portal/login", status_code=303)


@router.get("/console/login")
async def agent_login_form(request: Request, lang: Lang, next: str = "") -> Response:
    return render(request, "console/login.html", lang, {"next": safe_next(next, "")})


@router.post("/console/login")
async def agent_login(request: Request, db: DbSession, settings: Settings, lang: Lang,
                      limiter: Limiter) -> Response:
    form = await read_form(request, "email", "password", "next")
    await _throttle(limiter, request, settings, form["email"])
    try:
        agent = await accounts.authenticate_agent(db=db, email=form["email"],
                                                  password=form["password"])
    except Unauthorized as exc:
        record(db, actor=("anonymous", None), action="agent.login_failed",
               ip=client_ip(request))
        await db.commit()
        return render(request, "console/login.html", lang,
                      {"error": exc.message, "email": form["email"], "next": form["next"]},
                      status_code=401)
    mandatory = await accounts.totp_mandatory(db=db, default=settings.agent_totp_required)
    needs_totp = accounts.totp_required(agent, mandatory=mandatory)
    token = await sessions.start_session(db=db, kind=PrincipalType.AGENT, principal_id=agent.id,
                                         hours=settings.session_hours, pending_totp=needs_totp)
    if not needs_totp:
        record(db, actor=("agent", agent.id), action="agent.logged_in", ip=client_ip(request))
    await db.commit()
    target = "/console/login/totp" if needs_totp else safe_next(form["next"], "/console")
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, settings, "kefu_agent", token)
    return response


@router.post("/console/logout")
async def agent_logout(request: Request, db: DbSession, settings: Settings) -> Response:
    token = request.cookies.get(cookie_name(settings, "kefu_agent"))
    if token:
        await sessions.end_session(db=db, token=token)
        await db.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(cookie_name(settings, "kefu_agent"), path="/")
    return response
