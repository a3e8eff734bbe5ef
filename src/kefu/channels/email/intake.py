"""Inbound email: store raw, then (in the `email.parse` job) parse, thread and write.

Raw first: `store_raw` keeps the bytes and a row and queues the job in one transaction;
the receiver answers the MTA only after it commits, so an accepted message is never lost.
The job reads the row, parses, and either adds a reply to the ticket it continues or
opens a ticket; what it decided (and why, as flags) is written back on the row.

Trust: the From address decides who wrote (Reply-To never does). Mail that names a ticket
(by its Message-IDs or its reference in the subject) joins it only when its sender is
that ticket's customer or an address the ticket allows (`participants`: whom the
customer copied, or an agent added); anyone else gets a new ticket flagged
`sender_not_customer`. A From that fails DMARC joins no ticket and adds no one.
Machine mail (bounces, Auto-Submitted, mailer-daemon, bulk) never opens, reopens or
answers a ticket: it is kept, marked with the ticket it concerns, and ignored. A sender
above `RATE_LIMIT` messages an hour is ignored too (mail loops, mail bombs).
"""

import asyncio
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.email import auth
from kefu.channels.email.ids import reference_in
from kefu.channels.email.models import Mailbox, RawEmail, RawStatus
from kefu.channels.email.parser import ParsedEmail, clean, parse
from kefu.channels.email.participants import is_participant, record_copied
from kefu.channels.email.rawstore import RawStore
from kefu.channels.email.routing import route
from kefu.contacts.identities import find_customer
from kefu.contacts.models import Contact, Customer, IdentityKind
from kefu.core import jobs
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.core.settings import Settings
from kefu.security.content import scan_inbound
from kefu.tickets.files import CheckedFile, FileStore, Upload, check_upload
from kefu.tickets.models import ChannelType, Status, Ticket
from kefu.tickets.schemas import TicketFields
from kefu.tickets.service import (
    add_customer_reply,
    add_system_note,
    create_ticket,
    ticket_for_external_id,
)

PARSE_EMAIL = "email.parse"
MAX_PARSE_BYTES = 25 * 1024 * 1024  # larger messages are kept raw and flagged, not read
RATE_LIMIT = 20  # messages per sender per hour that may write to tickets
RATE_WINDOW = timedelta(hours=1)
_REFERENCE = re.compile(r"\bKF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")
_CJK = re.compile(r"[\u4e00-\u9fff]")
EMPTY_BODY = "(empty message)"
CUSTOMER, PARTICIPANT = "customer", "participant"  # who wrote, to the ticket named
_WRITER_FLAGS = {CUSTOMER: [], PARTICIPANT: ["from_participant"]}
NO_SUBJECT = "(no subject)"


async def store_raw(*, db: AsyncSession, store: RawStore, mailbox: Mailbox, data: bytes,
                    source: str) -> RawEmail:
    """Keep the message and queue its parse, in the caller's transaction. The bytes are
    on disk (fsync'd) before this returns; commit, then acknowledge the sender."""
    digest = store.save(data)
    row = RawEmail(mailbox_id=mailbox.id, sha256=digest, size=len(data), source=source,
                   status=RawStatus.RECEIVED, flags=[], received_at=utcnow())
    db.add(row)
    await db.flush()
    jobs.enqueue(db, kind=PARSE_EMAIL, payload={"raw_id": row.id})
    return row


async def reprocess(*, db: AsyncSession, raw: RawEmail) -> None:
    """Parse a kept message again (after a fix, or a raised limit)."""
    # Flags describe the latest reading; the audit log keeps that it was read again.
    raw.status, raw.error, raw.flags = RawStatus.RECEIVED, None, []
    jobs.enqueue(db, kind=PARSE_EMAIL, payload={"raw_id": raw.id})


@dataclass
class Outcome:
    status: RawStatus
    flags: list[str] = field(default_factory=list)
    ticket_reference: str | None = None
    error: str | None = None


@jobs.handler(PARSE_EMAIL)
async def parse_email_job(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    raw_id = int(payload["raw_id"])
    async with ctx.session_factory() as db:
        raw = await db.get(RawEmail, raw_id)
        if raw is None or raw.status not in (RawStatus.RECEIVED, RawStatus.FAILED):
            return  # done already (a job run twice after a crash changes nothing)
        try:
            # The ticket or reply and the row's outcome commit together: one commit.
            _apply(raw, await _process(db, ctx.settings, raw))
            await db.commit()
        except Exception as exc:
            await db.rollback()
            failed = await db.get(RawEmail, raw_id)
            if failed is not None:
                _apply(failed, Outcome(RawStatus.FAILED, ["processing_error"],
                                       error=clean(f"{type(exc).__name__}: {exc}")[:2000]))
                await db.commit()
            raise  # retried with backoff; the raw message stays, flagged


def _apply(raw: RawEmail, outcome: Outcome) -> None:
    raw.status, raw.error = outcome.status, outcome.error
    raw.flags = sorted(set(raw.flag_list()) | set(outcome.flags))
    raw.ticket_reference = outcome.ticket_reference or raw.ticket_reference
    raw.processed_at = utcnow()


async def _process(db: AsyncSession, settings: Settings, raw: RawEmail) -> Outcome:
    if raw.size > MAX_PARSE_BYTES:
        return Outcome(RawStatus.FAILED, ["too_large"],
                       error=f"Larger than {MAX_PARSE_BYTES // 2**20} MB: kept, not read.")
    data = RawStore(settings.data_dir).read(raw.sha256)
    parsed = parse(data)
    # DNS lookups off the event loop: a slow resolver must not stall other jobs.
    verdict = await asyncio.to_thread(
        auth.check, data, parsed.sender.rpartition("@")[2] if parsed.sender else None)
    raw.message_id = parsed.message_id[:200] if parsed.message_id else None
    raw.sender = parsed.sender
    # Shown to agents: through the secret guard like the ticket itself (the raw file,
    # never shown, keeps the bytes for reprocessing).
    raw.subject = scan_inbound(parsed.subject[:200]).text or None
    raw.full_text = scan_inbound(parsed.text).text or None
    flags = [*parsed.flags, *verdict.flags()]
    if verdict.dmarc == "fail":
        flags.append("dmarc_fail")  # the From is not proven: it joins no one's ticket
    ticket = await _thread(db, parsed, settings.secret_key)
    reference = ticket.reference if ticket is not None else None
    if parsed.auto is not None:
        if ticket is not None and parsed.auto == "bounce" and parsed.embedded_ids:
            # A reply of ours came back: the agent sees it in the thread (the ticket's
            # status is left alone).
            await add_system_note(
                db=db, ticket=ticket, channel=ChannelType.EMAIL, action="email.bounced",
                body=f"An email about this ticket bounced: {raw.subject or ''}"[:300])
        return Outcome(RawStatus.IGNORED, [*flags, f"auto:{parsed.auto}"], reference)
    if parsed.sender is None:
        return Outcome(RawStatus.IGNORED, [*flags, "no_sender"], reference)
    if await _over_rate(db, parsed.sender, raw.id):
        return Outcome(RawStatus.IGNORED, [*flags, "rate_limited"], reference)
    external_id = (parsed.message_id or f"sha256:{raw.sha256}")[:200]
    seen = await ticket_for_external_id(db, channel=ChannelType.EMAIL, external_id=external_id)
    if seen is not None:
        return Outcome(RawStatus.IGNORED, [*flags, "duplicate"], seen)
    customer = await find_customer(db=db, kind=IdentityKind.EMAIL, value=parsed.sender)
    files, refused = _attachments(parsed, settings)
    if refused:
        flags.append("attachment_refused")
    if ticket is not None:
        writer = await _writer(db, ticket, parsed.sender, customer)
        if writer is not None and ticket.status != Status.CLOSED and verdict.dmarc != "fail":
            await _join(db, settings, ticket, parsed, writer, files, refused, external_id)
            return Outcome(RawStatus.PROCESSED, [*flags, *_WRITER_FLAGS[writer]],
                           ticket.reference)
        flags.append("sender_not_customer" if writer is None else
                     "sender_not_proven" if verdict.dmarc == "fail" else "follow_up_of_closed")
    created = await _open_ticket(db, settings, raw.mailbox, parsed, customer, files,
                                 refused, external_id, threaded=ticket is not None)
    if parsed.cc and not {"dmarc_fail", "sender_not_customer"} & set(flags):
        # The sender is the new ticket's customer: whom they copied may write to it.
        opened = await _ticket(db, created)
        if opened is not None:
            await record_copied(db=db, ticket=opened, addresses=parsed.cc, sender=parsed.sender)
    return Outcome(RawStatus.PROCESSED, flags, created)


async def _writer(db: AsyncSession, ticket: Ticket, sender: str,
                  customer: Customer | None) -> str | None:
    """Who the sender is to the ticket: its customer, a participant it allows, or no one."""
    if customer is not None and ticket.customer_id == customer.id:
        return CUSTOMER
    if await is_participant(db=db, ticket_id=ticket.id, address=sender):
        return PARTICIPANT
    return None


async def _join(db: AsyncSession, settings: Settings, ticket: Ticket, parsed: ParsedEmail,
                writer: str, files: list[CheckedFile], refused: list[str],
                external_id: str) -> None:
    """The mail continues the ticket: as the customer's reply, or as the participant's
    (authored as their address). Only the customer's own mail adds whom it copied."""
    assert parsed.sender is not None
    await add_customer_reply(
        db=db, store=FileStore(settings.attachments_dir), ticket=ticket,
        customer=ticket.customer, body=_body(parsed.reply or parsed.text, refused),
        files=files, channel=ChannelType.EMAIL, external_id=external_id,
        participant=None if writer == CUSTOMER else parsed.sender)
    if writer == CUSTOMER and parsed.cc:
        await record_copied(db=db, ticket=ticket, addresses=parsed.cc, sender=parsed.sender)


async def _thread(db: AsyncSession, parsed: ParsedEmail, secret: str) -> Ticket | None:
    """The ticket this mail continues: by the Message-IDs it answers (ours or the
    customer's earlier mail, or one of our notices that carries its ticket's reference),
    newest first, or for machine mail the one it returns; then by a reference in the
    subject."""
    # A bounce names the mail that bounced only inside itself (its returned headers).
    carried = parsed.embedded_ids if parsed.auto is not None else ()
    for message_id in (*parsed.in_reply_to, *reversed(parsed.references), *carried):
        reference = await ticket_for_external_id(db, channel=ChannelType.EMAIL,
                                                 external_id=message_id[:200])
        reference = reference or reference_in(message_id, secret=secret)
        found = await _ticket(db, reference) if reference is not None else None
        if found is not None:
            return found
    named = _REFERENCE.search(parsed.subject)
    return await _ticket(db, named.group(0)) if named else None


async def _ticket(db: AsyncSession, reference: str) -> Ticket | None:
    query = select(Ticket).where(Ticket.reference == reference)
    return (await db.execute(query)).unique().scalar_one_or_none()


async def _over_rate(db: AsyncSession, sender: str, raw_id: int) -> bool:
    query = select(func.count()).select_from(RawEmail).where(
        RawEmail.sender == sender, RawEmail.id != raw_id,
        RawEmail.received_at >= utcnow() - RATE_WINDOW,
        RawEmail.status == RawStatus.PROCESSED)
    return int((await db.execute(query)).scalar_one()) >= RATE_LIMIT


def _attachments(parsed: ParsedEmail, settings: Settings
                 ) -> tuple[list[CheckedFile], list[str]]:
    """The files the desk accepts (the same checks as uploads), and the names refused."""
    accepted: list[CheckedFile] = []
    refused: list[str] = []
    for item in parsed.attachments:
        if len(accepted) >= settings.max_attachments_per_message:
            refused.append(item.filename)
            continue
        try:
            accepted.append(check_upload(Upload(item.filename, item.data),
                                         max_bytes=settings.max_upload_bytes))
        except InvalidInput:
            refused.append(item.filename)
    return accepted, refused


def _body(text: str, refused: list[str]) -> str:
    body = text.strip() or EMPTY_BODY
    if refused:
        names = ", ".join(" ".join(n.split())[:80] for n in refused[:10])
        body += f"\n\n[Attachments not accepted: {names}]"
    return body[:20000]


async def _open_ticket(db: AsyncSession, settings: Settings, mailbox: Mailbox,
                       parsed: ParsedEmail, customer: Customer | None,
                       files: list[CheckedFile], refused: list[str], external_id: str,
                       *, threaded: bool) -> str:
    # A first message keeps everything it quotes (a forwarded receipt matters); a reply
    # that could not join its ticket keeps only its new text, as replies do.
    text = parsed.reply if threaded or parsed.in_reply_to else parsed.text
    subject = " ".join(parsed.subject.split())[:200] or NO_SUBJECT
    category, priority = route(subject, parsed.reply, category=mailbox.category,
                               priority=mailbox.priority)
    fields = TicketFields(category=category, subject=subject,
                          description=_body(text or parsed.text, refused))
    contact = Contact.of(customer) if customer is not None else Contact(
        None, parsed.sender, None, parsed.sender_name,
        "zh-CN" if _CJK.search(f"{subject}{parsed.text[:200]}") else "en", None)
    # The same Message-ID written meanwhile (a duplicate parsed in parallel) fails the
    # commit: the job retries and then finds it a duplicate.
    created = await create_ticket(
        db=db, store=FileStore(settings.attachments_dir), customer=contact, fields=fields,
        files=files, channel=ChannelType.EMAIL, priority=priority,
        external_id=external_id, identity=(IdentityKind.EMAIL, parsed.sender or ""),
        team=mailbox.team.slug if mailbox.team is not None else None)
    return created.reference


async def ingest_bytes(*, db: AsyncSession, settings: Settings, address: str, data: bytes,
                       source: str) -> RawEmail:
    """Store one message for the mailbox at `address` and commit (the CLI and the
    receiver): InvalidInput when there is no such active mailbox or it is too large."""
    mailbox = (await db.execute(select(Mailbox).where(
        Mailbox.address == address.strip().lower(), Mailbox.active.is_(True)))
    ).scalar_one_or_none()
    if mailbox is None:
        raise InvalidInput("No active mailbox at that address.")
    row = await store_raw(db=db, store=RawStore(settings.data_dir), mailbox=mailbox,
                          data=data, source=source)
    await db.commit()
    return row
