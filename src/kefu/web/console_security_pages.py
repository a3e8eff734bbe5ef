"""Supervisors review the guard's work: agent messages it blocked and secrets it masked."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from kefu.accounts.models import Agent
from kefu.core.audit import AuditEntry
from kefu.core.errors import Forbidden
from kefu.security.content import SECRET_MASKED
from kefu.web.deps import CurrentAgent, DbSession, Lang
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
BLOCKED = "security.secret_request_blocked"


@router.get("/console/security")
async def guard_review(request: Request, db: DbSession, lang: Lang,
                       agent: CurrentAgent) -> Response:
    if not agent.sees_all_teams:
        raise Forbidden()
    blocked = (await db.execute(
        select(AuditEntry, Agent.email).outerjoin(Agent, Agent.id == AuditEntry.actor_id.cast(
            Agent.id.type)).where(AuditEntry.action == BLOCKED)
        .order_by(AuditEntry.id.desc()).limit(200))).all()
    masked = (await db.execute(
        select(AuditEntry).where(AuditEntry.action == SECRET_MASKED)
        .order_by(AuditEntry.id.desc()).limit(200))).scalars().all()
    return render(request, "console/security.html", lang,
                  {"agent": agent, "blocked": blocked, "masked": masked})
