"""The admin area: agents, teams and roles, API tokens, audit log, mail log, jobs."""

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, ApiToken, Role
from kefu.core import jobs
from kefu.core.audit import AuditEntry, record
from kefu.core.errors import KefuError, NotFound
from kefu.notifications.mailer import read_log
from kefu.web.deps import AdminAgent, DbSession, Lang, Settings, rollback
from kefu.web.forms import read_form
from kefu.web.templating import render
from kefu.web.validation import valid_email

router = APIRouter(include_in_schema=False, prefix="/admin")
AUDIT_PAGE = 100


async def _agents_context(db: DbSession, admin: Agent, settings: Settings) -> dict[str, object]:
    agents = (await db.execute(select(Agent).order_by(Agent.id))).scalars().all()
    return {"agent": admin, "agents": agents, "teams": await accounts.list_teams(db=db),
            "roles": list(Role),
            "totp_mandatory": await accounts.totp_mandatory(
                db=db, default=settings.agent_totp_required)}


@router.get("")
async def admin_home() -> Response:
    return RedirectResponse("/admin/agents", status_code=303)


@router.get("/agents")
async def agents_page(request: Request, db: DbSession, lang: Lang, settings: Settings,
                      admin: AdminAgent) -> Response:
    return render(request, "admin/agents.html", lang, await _agents_context(db, admin, settings))


@router.post("/agents")
async def create_agent(request: Request, db: DbSession, lang: Lang, settings: Settings,
                       admin: AdminAgent) -> Response:
    form = await read_form(request, "email", "name", "password", "role", "team_id")
    try:
        await accounts.create_agent(
            db=db, actor=admin, email=valid_email(form["email"]), name=form["name"],
            password=form["password"], role=Role(form["role"] or "agent"),
            team_id=int(form["team_id"]) if form["team_id"] else None)
        await db.commit()
    except (KefuError, ValueError) as exc:
        await rollback(db, admin)
        message = exc.message if isinstance(exc, KefuError) else "Invalid role or team."
        context = await _agents_context(db, admin, settings)
        return render(request, "admin/agents.html", lang, {**context, "error": message},
                      status_code=422)
    return RedirectResponse("/admin/agents", status_code=303)


@router.post("/agents/{agent_id}")
async def update_agent(request: Request, db: DbSession, admin: AdminAgent,
                       agent_id: int) -> Response:
    target = await db.get(Agent, agent_id)
    if target is None:
        raise NotFound()
    form = await read_form(request, "role", "team_id", "active")
    changes: dict[str, object] = {"active": form["active"] == "1"}
    if form["role"] in {r.value for r in Role}:
        changes["role"] = form["role"]
    changes["team_id"] = int(form["team_id"]) if form["team_id"].isdigit() else None
    if target.id == admin.id:
        # An admin cannot lock themselves out or drop their own role by accident.
        changes.pop("active")
        changes.pop("role", None)
    await accounts.update_agent(db=db, actor=admin, agent=target, changes=changes)
    await db.commit()
    return RedirectResponse("/admin/agents", status_code=303)


@router.post("/teams")
async def create_team(request: Request, db: DbSession, lang: Lang, settings: Settings,
                      admin: AdminAgent) -> Response:
    form = await read_form(request, "slug", "name", "name_zh")
    try:
        await accounts.create_team(db=db, actor=admin, slug=form["slug"], name=form["name"],
                                   name_zh=form["name_zh"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        context = await _agents_context(db, admin, settings)
        return render(request, "admin/agents.html", lang, {**context, "error": exc.message},
                      status_code=exc.status_code)
    return RedirectResponse("/admin/agents", status_code=303)


@router.post("/settings/totp")
async def totp_setting(request: Request, db: DbSession, admin: AdminAgent) -> Response:
    form = await read_form(request, "required")
    await accounts.set_totp_mandatory(db=db, actor=admin, required=form["required"] == "1")
    await db.commit()
    return RedirectResponse("/admin/agents", status_code=303)


@router.get("/tokens")
async def tokens_page(request: Request, db: DbSession, lang: Lang, admin: AdminAgent) -> Response:
    tokens = (await db.execute(select(ApiToken).order_by(ApiToken.id.desc()))).scalars().all()
    return render(request, "admin/tokens.html", lang,
                  {"agent": admin, "tokens": tokens, "scopes": accounts.API_SCOPES})


@router.post("/tokens")
async def create_token(request: Request, db: DbSession, lang: Lang, admin: AdminAgent) -> Response:
    form = await request.form()
    scopes = [str(s) for s in form.getlist("scopes")]
    name = str(form.get("name") or "")
    token, secret = await accounts.create_api_token(db=db, actor=admin, name=name, scopes=scopes)
    await db.commit()
    tokens = (await db.execute(select(ApiToken).order_by(ApiToken.id.desc()))).scalars().all()
    # The secret is shown once, now; only its hash is stored.
    return render(request, "admin/tokens.html", lang, {
        "agent": admin, "tokens": tokens, "scopes": accounts.API_SCOPES,
        "new_secret": secret, "new_name": token.name})


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(db: DbSession, admin: AdminAgent, token_id: int) -> Response:
    await accounts.revoke_api_token(db=db, actor=admin, token_id=token_id)
    await db.commit()
    return RedirectResponse("/admin/tokens", status_code=303)


@router.get("/audit")
async def audit_page(request: Request, db: DbSession, lang: Lang, admin: AdminAgent,
                     action: str = "", page: int = 1) -> Response:
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action[:64])
    total = (await db.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    page = max(1, page)
    rows = (await db.execute(query.order_by(AuditEntry.id.desc())
                             .offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE))).scalars().all()
    return render(request, "admin/audit.html", lang, {
        "agent": admin, "entries": rows, "action": action, "page": page,
        "has_more": page * AUDIT_PAGE < total, "agent_names": await _agent_names(db, rows)})


async def _agent_names(db: DbSession, rows: Sequence[AuditEntry]) -> dict[str, str]:
    """Agent id (as the log stores it, a string) -> name, for actors, targets and assignees."""
    ids: set[int] = set()
    for row in rows:
        for kind, value in ((row.actor_type, row.actor_id), (row.target_type, row.target_id),
                            ("agent", (row.detail or {}).get("assignee_id"))):
            if kind == "agent" and value is not None and str(value).isdigit():
                ids.add(int(value))
    if not ids:
        return {}
    found = await db.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))
    return {str(agent_id): name for agent_id, name in found.all()}


@router.get("/mail")
async def mail_log(request: Request, lang: Lang, settings: Settings,
                   admin: AdminAgent) -> Response:
    return render(request, "admin/mail.html", lang,
                  {"agent": admin, "mails": read_log(settings.mail_log_path),
                   "smtp": bool(settings.smtp_host)})


@router.get("/jobs")
async def jobs_page(request: Request, db: DbSession, lang: Lang, admin: AdminAgent) -> Response:
    counts = dict((await db.execute(select(jobs.Job.status, func.count())
                                    .group_by(jobs.Job.status))).tuples().all())
    dead = (await db.execute(select(jobs.Job).where(jobs.Job.status == "dead")
                             .order_by(jobs.Job.id.desc()).limit(100))).scalars().all()
    return render(request, "admin/jobs.html", lang, {"agent": admin, "counts": counts,
                                                     "dead": dead})


@router.post("/jobs/{job_id}/retry")
async def retry(db: DbSession, admin: AdminAgent, job_id: int) -> Response:
    await jobs.retry_job(db, job_id=job_id)
    record(db, actor=("agent", admin.id), action="job.retried", target=("job", job_id))
    await db.commit()
    return RedirectResponse("/admin/jobs", status_code=303)
