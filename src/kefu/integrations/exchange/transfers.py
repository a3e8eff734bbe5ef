"""Deposit/withdrawal status for a ticket: ask the exchange, keep the answer (the only
code that writes transfer_checks).

An agent asks with one click on the ticket; the answer is stored so that the agent, and
the customer on their portal ticket, see the newest one without asking again. The call
runs inside the agent's request: the HTTP adapter retries a lookup (a GET, safe to
repeat) within a bounded time, and a failure is reported, not stored.
"""

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.integrations.exchange.base import Direction, ExchangeBackend, TransferInfo
from kefu.triage.models import TransferCheck

TRANSFER_CHECKED = "ticket.transfer_checked"
_WITHDRAWAL_WORDS = re.compile(r"withdr[ae]w|提现|提币|出金|转出", re.IGNORECASE)
_DEPOSIT_WORDS = re.compile(r"deposit|充值|充币|入金|到账|转入", re.IGNORECASE)

# What the customer and the agent read for each status (msgids; messages.po has zh).
STATUS_TEXT = {
    "not_found": "Not found at the exchange",
    "confirming": "Waiting for network confirmations",
    "processing": "Processing",
    "credited": "Credited to your account",
    "completed": "Completed",
    "on_hold": "On hold for review",
    "failed": "Failed",
}
REASON_TEXT = {
    "missing_memo": "The memo/tag is missing or wrong.",
    "wrong_network": "It was sent on a network this address does not support.",
    "risk_review": "It is being reviewed by the risk team.",
    "compliance_review": "It is being reviewed by the compliance team.",
    "below_minimum": "The amount is below the minimum deposit.",
}


def guess_direction(text: str) -> Direction:
    """Withdrawal when the customer writes more about withdrawing than depositing."""
    withdrawals = len(_WITHDRAWAL_WORDS.findall(text[:20_000]))
    deposits = len(_DEPOSIT_WORDS.findall(text[:20_000]))
    return Direction.WITHDRAWAL if withdrawals > deposits else Direction.DEPOSIT


async def check_transfer(
    *, db: AsyncSession, backend: ExchangeBackend, ticket_id: int, reference: str,
    agent: Agent, direction: Direction, kind: str, value: str,
) -> TransferCheck:
    """Ask the exchange about the ticket's TxID (`kind` "txid") or order id ("order_id")
    and store the answer. Exchange errors propagate (nothing is stored). The ticket comes
    as its id and reference: integrations sit beside tickets, not above them."""
    info = await _ask(backend, direction, kind, value)
    check = TransferCheck(
        ticket_id=ticket_id, direction=direction.value, lookup=value[:200], found=info.found,
        status=str(info.status)[:32], confirmations=info.confirmations,
        required_confirmations=info.required_confirmations, credited=info.credited,
        on_hold=info.on_hold, reason=info.reason, checked_by=agent.id, checked_at=utcnow())
    db.add(check)
    record(db, actor=("agent", agent.id), action=TRANSFER_CHECKED,
           target=("ticket", reference),
           detail={"direction": direction.value, "kind": kind, "status": check.status})
    events.emit(db, TRANSFER_CHECKED, reference=reference, status=check.status)
    return check


async def _ask(backend: ExchangeBackend, direction: Direction, kind: str, value: str
               ) -> TransferInfo:
    txid, order_id = (value, None) if kind == "txid" else (None, value)
    if direction == Direction.WITHDRAWAL:
        return await backend.withdrawal_status(txid=txid, order_id=order_id)
    return await backend.deposit_status(txid=txid, order_id=order_id)


async def latest_check(db: AsyncSession, ticket_id: int) -> TransferCheck | None:
    query = (select(TransferCheck).where(TransferCheck.ticket_id == ticket_id)
             .order_by(TransferCheck.id.desc()).limit(1))
    return (await db.execute(query)).scalar_one_or_none()
