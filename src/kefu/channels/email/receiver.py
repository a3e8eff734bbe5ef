"""The built-in SMTP/LMTP receiver (`kefu mail-receiver`): an MTA forwards the desk's
mail here. A recipient that is no active mailbox is refused at RCPT (550); a message is
acknowledged (250) only once it is stored raw and its parse job committed, so the MTA
keeps and retries anything the desk has not safely got."""

import asyncio
import contextlib
import time
from typing import Any

import structlog
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.channels.email.intake import ingest_bytes
from kefu.channels.email.mailboxes import mailbox_by_address
from kefu.channels.email.rawstore import MAX_RAW_BYTES
from kefu.core.errors import KefuError
from kefu.core.settings import Settings

log = structlog.get_logger(__name__)
CACHE_SECONDS = 10.0


class MailboxHandler:
    """aiosmtpd handler: RCPT checks the mailbox, DATA stores the raw message."""

    def __init__(self, settings: Settings,
                 session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.source = "smtp"
        self._cache: dict[str, tuple[str | None, float]] = {}

    async def _known(self, address: str) -> str | None:
        """The mailbox address, if active; remembered for CACHE_SECONDS (a mailbox an
        admin switches off stops receiving within that time)."""
        key = address.strip().lower()
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[1] < CACHE_SECONDS:
            return hit[0]
        async with self.session_factory() as db:
            mailbox = await mailbox_by_address(db=db, address=key)
        found = mailbox.address if mailbox is not None else None
        self._cache[key] = (found, now)
        return found

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        mailbox = await self._known(address)
        if mailbox is None:
            return "550 5.1.1 No such mailbox here"
        if envelope.rcpt_tos:
            # One copy per message: it becomes one ticket, in the first mailbox named.
            return "250 OK"
        envelope.rcpt_tos.append(mailbox)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        if not isinstance(data, bytes) or not envelope.rcpt_tos:
            return "554 5.6.0 Nothing to store"
        try:
            async with self.session_factory() as db:
                await ingest_bytes(db=db, settings=self.settings, address=envelope.rcpt_tos[0],
                                   data=data, source=self.source)
        except KefuError as exc:
            return f"550 5.7.1 {exc.message}"
        except Exception:  # the MTA keeps the message and retries later
            log.exception("mail_store_failed")
            return "451 4.3.0 Could not store the message; try again later"
        return "250 2.0.0 Stored"


# RFC 5321 limits lines to 1000 octets, but real mail (and the fixtures) breaks it and
# MTAs pass it on; refusing would bounce a customer's message. The message size limit
# still bounds memory.
LINE_LIMIT = 1024 * 1024


class _SMTP(SMTP):
    line_length_limit = LINE_LIMIT


class _LMTP(LMTP):
    line_length_limit = LINE_LIMIT


def make_server(handler: MailboxHandler, *, lmtp: bool) -> Any:
    """A protocol factory for `loop.create_server`."""
    handler.source = "lmtp" if lmtp else "smtp"
    protocol = _LMTP if lmtp else _SMTP

    def factory() -> SMTP:
        return protocol(handler, data_size_limit=MAX_RAW_BYTES, enable_SMTPUTF8=True,
                        decode_data=False, ident="Kefu mail receiver")

    return factory


async def serve(settings: Settings, session_factory: async_sessionmaker[AsyncSession], *,
                host: str, port: int, lmtp: bool = False,
                ready: asyncio.Event | None = None) -> None:
    """Receive until cancelled."""
    handler = MailboxHandler(settings, session_factory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(make_server(handler, lmtp=lmtp), host=host, port=port)
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
