"""Mailboxes: the only code that writes them. Admins manage them at /admin/mailboxes."""

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, Team
from kefu.channels.email.intake import reprocess
from kefu.channels.email.models import Mailbox, RawEmail, RawStatus
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.tickets.models import Category, Priority


def _checked(category: str, priority: str, name: str) -> tuple[Category, Priority, str]:
    try:
        return Category(category), Priority(priority), " ".join(name.split())[:100]
    except ValueError:
        raise InvalidInput("Unknown category or priority.") from None


async def _team(db: AsyncSession, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = await db.get(Team, team_id)
    if team is None:
        raise InvalidInput("Unknown team.")
    return team


async def list_mailboxes(*, db: AsyncSession) -> list[Mailbox]:
    return list((await db.execute(select(Mailbox).order_by(Mailbox.address))).scalars())


async def mailbox_by_address(*, db: AsyncSession, address: str) -> Mailbox | None:
    """The active mailbox at that address (case-insensitive), if any."""
    query = select(Mailbox).where(Mailbox.address == address.strip().lower(),
                                  Mailbox.active.is_(True))
    return (await db.execute(query)).scalar_one_or_none()


async def create_mailbox(*, db: AsyncSession, actor: Agent | None, address: str, name: str,
                         team_id: int | None, category: str, priority: str) -> Mailbox:
    """`address` must already be a valid, normalised (lower-case) address."""
    checked_category, checked_priority, clean_name = _checked(category, priority, name)
    team = await _team(db, team_id)
    mailbox = Mailbox(address=address, name=clean_name, team=team,
                      category=checked_category, priority=checked_priority, active=True,
                      created_at=utcnow())
    db.add(mailbox)
    try:
        await db.flush()
    except IntegrityError:
        raise Conflict("A mailbox with that address already exists.") from None
    record(db, actor=("agent", actor.id) if actor else ("system", None), action="mailbox.created",
           target=("mailbox", mailbox.id), detail={"address": address})
    return mailbox


async def update_mailbox(*, db: AsyncSession, actor: Agent, mailbox: Mailbox, name: str,
                         team_id: int | None, category: str, priority: str,
                         active: bool) -> None:
    checked_category, checked_priority, clean_name = _checked(category, priority, name)
    mailbox.team = await _team(db, team_id)
    mailbox.name, mailbox.category, mailbox.priority = (clean_name, checked_category,
                                                        checked_priority)
    mailbox.active = active
    record(db, actor=("agent", actor.id), action="mailbox.updated",
           target=("mailbox", mailbox.id),
           detail={"category": checked_category, "priority": checked_priority,
                   "team_id": team_id, "active": active})


async def received(*, db: AsyncSession, mailbox_id: int, limit: int = 200) -> list[RawEmail]:
    """The newest messages the mailbox received, whatever became of them."""
    query = (select(RawEmail).where(RawEmail.mailbox_id == mailbox_id)
             .order_by(RawEmail.id.desc()).limit(limit))
    return list((await db.execute(query)).scalars())


async def reprocess_raw(*, db: AsyncSession, actor: Agent, raw_id: int) -> RawEmail:
    """Parse a kept message again; one still waiting for its parse is left alone."""
    raw = await db.get(RawEmail, raw_id)
    if raw is None:
        raise NotFound()
    if raw.status in (RawStatus.FAILED, RawStatus.IGNORED):
        await reprocess(db=db, raw=raw)
        record(db, actor=("agent", actor.id), action="email.reprocessed",
               target=("raw_email", raw.id))
    return raw


async def received_for_ticket(*, db: AsyncSession, reference: str) -> list[RawEmail]:
    """The mail that opened, continued or concerned (bounces, flagged look-alikes) the
    ticket, oldest first."""
    query = (select(RawEmail).where(RawEmail.ticket_reference == reference)
             .order_by(RawEmail.id).limit(200))
    return list((await db.execute(query)).scalars())


# PRODUCT.md's mailboxes: (local part, team, category, priority).
DEMO_MAILBOXES = (
    ("support", "general", Category.OTHER, Priority.NORMAL),
    ("security", "security", Category.SECURITY, Priority.URGENT),
    ("business", "business", Category.OTHER, Priority.NORMAL),
    ("listing", "listing", Category.OTHER, Priority.NORMAL),
    ("compliance", "compliance", Category.COMPLIANCE, Priority.NORMAL),
)


async def seed_demo_mailboxes(*, db: AsyncSession, domain: str = "kefu.example") -> int:
    """The demo desk's mailboxes, on a desk that has none; returns how many were added."""
    if await list_mailboxes(db=db):
        return 0
    teams = {t.slug: t.id for t in (await db.execute(select(Team))).scalars()}
    for local, team, category, priority in DEMO_MAILBOXES:
        await create_mailbox(db=db, actor=None, address=f"{local}@{domain}",
                             name="Kefu Support", team_id=teams.get(team),
                             category=category, priority=priority)
    return len(DEMO_MAILBOXES)


_HOST = re.compile(r"[A-Za-z0-9.-]{1,254}")


async def set_imap(*, db: AsyncSession, actor: Agent, mailbox: Mailbox, host: str, port: str,
                   username: str, password: str, folder: str) -> None:
    """Poll the mailbox over IMAPS (an empty host stops polling). An empty password keeps
    the one stored; a new server or account starts from its first message."""
    host = host.strip()
    if not host:
        mailbox.imap_host = mailbox.imap_username = mailbox.imap_password = None
    else:
        if not _HOST.fullmatch(host):
            raise InvalidInput("The IMAP server must be a host name or address.")
        number = int(port) if port.strip().isdigit() else 993
        if not 1 <= number <= 65535:
            raise InvalidInput("The IMAP port must be between 1 and 65535.")
        folder = folder.strip() or "INBOX"
        if len(folder) > 100 or any(ord(c) < 32 for c in folder + username + password):
            raise InvalidInput("The IMAP folder, user or password has invalid characters.")
        if (host, username.strip()) != (mailbox.imap_host, mailbox.imap_username):
            mailbox.imap_uidvalidity = mailbox.imap_last_uid = None
        mailbox.imap_host, mailbox.imap_port = host, number
        mailbox.imap_username, mailbox.imap_folder = username.strip()[:254], folder
        if password:
            mailbox.imap_password = password[:254]
    mailbox.imap_error = None
    record(db, actor=("agent", actor.id), action="mailbox.imap_set",
           target=("mailbox", mailbox.id), detail={"host": mailbox.imap_host})
