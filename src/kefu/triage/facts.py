"""Storing, reading and searching a ticket's transfer facts (the only writer of ticket_facts).

`record_new_ticket_facts` runs inside a ticket create. On a session it is one more
INSERT in the create's transaction. On PostgreSQL's direct path (`kefu.core.driver`),
where the ticket's single statement has already committed, it is a second statement
that commits alone: the facts are derived from text that is stored with the ticket, so
if that statement fails the ticket stands (the request still succeeds), its text is
still searched, and `facts_view` derives the facts again from that text for display.
Writing them inside the ticket's own statement would have meant changing the hot
insert in `kefu.tickets.writes`, which this part leaves alone.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Select, Table, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.clock import utcnow
from kefu.core.driver import Database, Direct, first
from kefu.triage.chain.extract import (
    FLAG_TEXT,
    Fact,
    Facts,
    Flag,
    extract_facts,
    flags_for,
    searchable,
)
from kefu.triage.models import TicketFact

FACTS = cast(Table, TicketFact.__table__)
COLUMNS = ("ticket_id", "kind", "value", "search", "chain", "valid", "flag", "detail",
           "created_at")
# The order the agent reads them in.
KIND_ORDER = ("txid", "address", "network", "coin", "amount", "memo", "order_id", "uid")
KIND_LABELS = {
    "txid": "TxID", "address": "Address", "network": "Network", "coin": "Coin",
    "amount": "Amount", "memo": "Memo / tag", "order_id": "Order ID", "uid": "UID",
}
log = logging.getLogger(__name__)


def _rows(ticket_id: int, facts: Facts, now: datetime) -> list[dict[str, Any]]:
    rows = [{"ticket_id": ticket_id, "kind": f.kind, "value": f.value[:200],
             "search": searchable(f.value)[:200], "chain": f.chain, "valid": f.valid,
             "flag": None, "detail": None, "created_at": now} for f in facts.facts]
    rows += [{"ticket_id": ticket_id, "kind": "flag", "value": g.subject[:200],
              "search": searchable(g.subject)[:200], "chain": None, "valid": None,
              "flag": g.code, "detail": g.detail[:200] or None, "created_at": now}
             for g in facts.flags]
    return rows


@functools.lru_cache(maxsize=64)
def _insert(count: int) -> Executable:
    """One multi-row INSERT for `count` rows, built once per count with bind parameters."""
    return insert(FACTS).values([
        {name: bindparam(f"r{i}_{name}", type_=FACTS.c[name].type) for name in COLUMNS}
        for i in range(count)])


async def _write(db: Database, rows: list[dict[str, Any]]) -> None:
    params = {f"r{i}_{name}": value for i, row in enumerate(rows) for name, value in row.items()}
    if isinstance(db, Direct):
        await first(db, _insert(len(rows)), params)  # no rows back: it just commits
    else:
        await db.execute(_insert(len(rows)), params)


async def record_new_ticket_facts(db: Database, ticket_id: int, facts: Facts) -> None:
    """Write the facts of a ticket just created (nothing when there are none)."""
    if not facts:
        return
    rows = _rows(ticket_id, facts, utcnow())
    if not isinstance(db, Direct):
        await _write(db, rows)
        return
    try:
        await _write(db, rows)
    except Exception:  # the ticket has committed: losing derived rows must not fail it
        log.exception("ticket facts not written for ticket %s", ticket_id)


async def stored_facts(db: AsyncSession, ticket_id: int) -> list[TicketFact]:
    query = select(TicketFact).where(TicketFact.ticket_id == ticket_id).order_by(TicketFact.id)
    return list((await db.execute(query)).scalars())


async def add_reply_facts(db: AsyncSession, ticket_id: int, text: str) -> None:
    """Append what a customer's reply adds, and work the flags out again over them all
    (a memo given in a reply clears the "missing memo" flag of the first message)."""
    new = extract_facts(text)
    if not new.facts:
        return
    rows = await stored_facts(db, ticket_id)
    known = [_fact(r) for r in rows if r.kind != "flag"]
    added = [f for f in new.facts if f not in known]
    if not added:
        return
    flags = flags_for([*known, *added])
    await db.execute(delete(TicketFact).where(TicketFact.ticket_id == ticket_id,
                                              TicketFact.kind == "flag"))
    await _write(db, _rows(ticket_id, Facts(tuple(added), tuple(flags)), utcnow()))


def _fact(row: TicketFact) -> Fact:
    return Fact(row.kind, row.value, row.chain, row.valid)


def facts_matching(text: str) -> Select[Any]:
    """Ids of tickets with a fact equal to `text` (hashes and hex addresses case-blind)."""
    return select(TicketFact.ticket_id).where(TicketFact.search == searchable(text)[:200])


@dataclass(frozen=True)
class FactLine:
    kind: str
    label: str  # English; the template translates it
    values: tuple[Fact, ...]


@dataclass(frozen=True)
class FlagLine:
    code: str
    message: str  # English msgid with %(subject)s / %(detail)s; the template translates it
    subject: str
    detail: str


@dataclass(frozen=True)
class FactsView:
    lines: tuple[FactLine, ...]
    flags: tuple[FlagLine, ...]
    lookups: tuple[tuple[str, str], ...]  # (kind, value): what the exchange can be asked


def _view(facts: list[Fact], flags: list[Flag]) -> FactsView:
    lines = tuple(
        FactLine(kind, KIND_LABELS[kind], tuple(f for f in facts if f.kind == kind))
        for kind in KIND_ORDER if any(f.kind == kind for f in facts))
    flag_lines = tuple(FlagLine(g.code, FLAG_TEXT[g.code], g.subject, g.detail)
                       for g in flags if g.code in FLAG_TEXT)
    lookups = tuple((f.kind, f.value) for f in facts if f.kind in ("txid", "order_id"))
    return FactsView(lines, flag_lines, lookups)


async def facts_view(db: AsyncSession, *, ticket_id: int, subject: str, description: str,
                     txid: str | None) -> FactsView:
    """The ticket's facts for display: as stored, or derived again from the stored text
    when none were written (see the module's text)."""
    rows = await stored_facts(db, ticket_id)
    if not rows:
        derived = extract_facts(f"{subject}\n{description}", txid_field=txid)
        return _view(list(derived.facts), list(derived.flags))
    facts = [_fact(r) for r in rows if r.kind != "flag"]
    flags = [Flag(r.flag or "", r.value, r.detail or "") for r in rows if r.kind == "flag"]
    return _view(facts, flags)

