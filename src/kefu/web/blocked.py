"""Recording a blocked agent/bot message after its transaction was rolled back."""

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.audit import record
from kefu.security.content import SecretRequestBlocked


async def record_blocked(
    db: AsyncSession, exc: SecretRequestBlocked, *, agent_id: int, reference: str
) -> None:
    """Supervisors review these attempts in the audit log; the message text is not kept."""
    await db.rollback()
    record(db, actor=("agent", agent_id), action="security.secret_request_blocked",
           target=("ticket", reference), detail={"asked_for": exc.kind})
    await db.commit()
