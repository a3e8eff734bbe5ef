"""The `exchange.freeze_account` job: one call to the exchange per attempt.

Transient failures (ExchangeUnavailable, ExchangeNotConfigured, anything unexpected) are
raised, so the jobs table retries with backoff and finally marks the job dead. A definite
refusal (ExchangeRejected) is recorded on the freeze and not retried. The network call
runs outside any database transaction.
"""

from typing import Any

from kefu.core import jobs
from kefu.integrations.exchange.base import ExchangeRejected, FreezeResult
from kefu.integrations.exchange.config import backend_from_settings
from kefu.integrations.exchange.models import AccountFreeze, FreezeStatus
from kefu.integrations.exchange.service import FREEZE_JOB, mark_freeze_failed, mark_frozen

REASON = "Customer requested a self-service security freeze in Kefu"


@jobs.handler(FREEZE_JOB)
async def freeze_account_job(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    freeze_id = int(payload["freeze_id"])
    async with ctx.session_factory() as db:
        freeze = await db.get(AccountFreeze, freeze_id)
        if freeze is None or freeze.status != FreezeStatus.REQUESTED:
            return  # already finished by an earlier attempt
        uid, key, source = freeze.uid, freeze.idempotency_key, freeze.uid_source
    backend = backend_from_settings(ctx.settings)
    outcome: FreezeResult | ExchangeRejected
    try:
        outcome = await backend.freeze_account(uid, reason=f"{REASON} (uid: {source})",
                                               idempotency_key=key)
    except ExchangeRejected as exc:
        outcome = exc
    async with ctx.session_factory() as db:
        freeze = await db.get(AccountFreeze, freeze_id)
        if freeze is None or freeze.status != FreezeStatus.REQUESTED:
            return
        if isinstance(outcome, ExchangeRejected):
            await mark_freeze_failed(db=db, freeze=freeze, error=str(outcome))
        else:
            await mark_frozen(db=db, freeze=freeze, result=outcome)
        await db.commit()
