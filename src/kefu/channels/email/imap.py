"""Polling a mailbox's IMAP folder (`kefu mail-poll`): new messages are stored raw like
mail from the SMTP receiver, and parsed by the same job.

TLS only (IMAPS), with the server's certificate verified against the system's CAs (or
SSL_CERT_FILE). Nothing on the server is changed: progress is the folder's UIDVALIDITY
and the last UID stored, committed with each message's raw row, so a crash fetches at
most that one message again (and a Message-ID already stored is kept once). A new
UIDVALIDITY (the folder was rebuilt) starts over from the first message.
"""

import asyncio
import imaplib
import re
import ssl
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.channels.email.intake import store_raw
from kefu.channels.email.models import Mailbox
from kefu.channels.email.parser import clean
from kefu.channels.email.rawstore import MAX_RAW_BYTES, RawStore
from kefu.core.settings import Settings

BATCH = 200  # messages per poll and mailbox; the next poll takes the rest
TIMEOUT_SECONDS = 30
IDLE_CHUNK = 10.0  # seconds; RFC 2177 asks for a renewal at least every 29 minutes
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


@dataclass(frozen=True)
class Fetched:
    uidvalidity: int
    messages: list[tuple[int, bytes]]  # (UID, raw bytes), oldest first


def fetch_new(host: str, port: int, username: str, password: str, folder: str,
              *, uidvalidity: int | None, last_uid: int) -> Fetched:
    """Connect (TLS, verified), and read the messages after `last_uid` without marking
    them. Blocking: run it in a thread."""
    context = ssl.create_default_context()
    with imaplib.IMAP4_SSL(host, port, ssl_context=context,
                           timeout=TIMEOUT_SECONDS) as client:
        client.login(username, password)
        status, _ = client.select(_quoted(folder), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {folder[:100]}")
        current = int(client.response("UIDVALIDITY")[1][0] or 0)
        start = last_uid if uidvalidity == current else 0
        _, found = client.uid("search", f"UID {start + 1}:*")
        uids = sorted(int(u) for u in (found[0] or b"").split() if int(u) > start)[:BATCH]
        messages = []
        for uid in uids:
            _, data = client.uid("fetch", str(uid), "(BODY.PEEK[])")
            body = next((part[1] for part in data if isinstance(part, tuple)), None)
            if isinstance(body, bytes):
                messages.append((uid, body))
        return Fetched(current, messages)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def poll_mailbox(*, settings: Settings, factory: async_sessionmaker[AsyncSession],
                       mailbox_id: int) -> int:
    """Store the mailbox's new messages; returns how many. A connection or login failure
    is recorded on the mailbox (shown to admins) and raised."""
    async with factory() as db:
        mailbox = await db.get(Mailbox, mailbox_id)
        if mailbox is None or not mailbox.imap_host or not mailbox.active:
            return 0
        config = (mailbox.imap_host, mailbox.imap_port or 993, mailbox.imap_username or "",
                  mailbox.imap_password or "", mailbox.imap_folder or "INBOX")
        since = (mailbox.imap_uidvalidity, mailbox.imap_last_uid or 0)
    try:
        fetched = await asyncio.to_thread(fetch_new, *config, uidvalidity=since[0],
                                          last_uid=since[1])
    except (OSError, imaplib.IMAP4.error, ssl.SSLError, ValueError) as exc:
        async with factory() as db:
            failed = await db.get(Mailbox, mailbox_id)
            if failed is not None:
                failed.imap_error = clean(f"{type(exc).__name__}: {exc}")[:500]
                await db.commit()
        raise
    store = RawStore(settings.data_dir)
    stored = 0
    async with factory() as db:
        mailbox = await db.get(Mailbox, mailbox_id)
        if mailbox is None:
            return 0
        mailbox.imap_error = None
        if mailbox.imap_uidvalidity != fetched.uidvalidity:
            mailbox.imap_uidvalidity, mailbox.imap_last_uid = fetched.uidvalidity, 0
        for uid, data in fetched.messages:
            if len(data) <= MAX_RAW_BYTES:
                await store_raw(db=db, store=store, mailbox=mailbox, data=data, source="imap")
                stored += 1
            # The raw row and the progress commit together: exactly once per message.
            mailbox.imap_last_uid = uid
            await db.commit()
        await db.commit()
    return stored


async def poll_all(*, settings: Settings, factory: async_sessionmaker[AsyncSession]
                   ) -> dict[str, int | str]:
    """Poll every active mailbox that has an IMAP server: address -> stored, or the error."""
    async with factory() as db:
        rows = (await db.execute(select(Mailbox.id, Mailbox.address).where(
            Mailbox.active.is_(True), Mailbox.imap_host.is_not(None)))).all()
    out: dict[str, int | str] = {}
    for mailbox_id, address in rows:
        try:
            out[address] = await poll_mailbox(settings=settings, factory=factory,
                                              mailbox_id=mailbox_id)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError, ValueError) as exc:
            out[address] = clean(f"error: {type(exc).__name__}: {exc}")[:300]
    return out


def wait_for_mail(host: str, port: int, username: str, password: str, folder: str,
                  *, seconds: float, stop: threading.Event | None = None) -> bool:
    """Wait up to `seconds` for new mail with IMAP IDLE (RFC 2177); True when the server
    announced some. IDLE is renewed every IDLE_CHUNK seconds, when `stop` is checked, so
    the thread this blocks never outlives its watcher by long. A server without IDLE is
    simply waited out (plain polling). Blocking: run it in a thread."""
    deadline = time.monotonic() + seconds
    context = ssl.create_default_context()
    with imaplib.IMAP4_SSL(host, port, ssl_context=context,
                           timeout=TIMEOUT_SECONDS) as client:
        client.login(username, password)
        client.select(_quoted(folder), readonly=True)
        idle = "IDLE" in client.capabilities
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            chunk = min(IDLE_CHUNK, max(deadline - time.monotonic(), 0.1))
            if not idle:
                time.sleep(chunk)
                continue
            if _idle_once(client, chunk):
                return True
        return False


def _idle_once(client: imaplib.IMAP4_SSL, seconds: float) -> bool:
    client.send(b"K1 IDLE\r\n")
    if not client.readline().startswith(b"+"):
        return False
    arrived = False
    client.sock.settimeout(seconds)
    try:
        while not arrived:
            line = client.readline()
            if not line:
                raise imaplib.IMAP4.abort("the server closed the connection")
            arrived = b"EXISTS" in line or b"RECENT" in line
    except TimeoutError:
        pass
    client.sock.settimeout(TIMEOUT_SECONDS)
    client.send(b"DONE\r\n")
    while not client.readline().startswith(b"K1 "):
        pass
    return arrived


async def watch_mailbox(*, settings: Settings, factory: async_sessionmaker[AsyncSession],
                        mailbox_id: int, interval: float) -> None:
    """Poll, then IDLE until the server says mail arrived (or `interval` passes), forever.
    A failure is recorded on the mailbox and retried after `interval`."""
    stop = threading.Event()
    while True:
        try:
            await poll_mailbox(settings=settings, factory=factory, mailbox_id=mailbox_id)
            async with factory() as db:
                mailbox = await db.get(Mailbox, mailbox_id)
                if mailbox is None or not mailbox.imap_host or not mailbox.active:
                    return
                config = (mailbox.imap_host, mailbox.imap_port or 993,
                          mailbox.imap_username or "", mailbox.imap_password or "",
                          mailbox.imap_folder or "INBOX")
            await asyncio.to_thread(wait_for_mail, *config, seconds=interval, stop=stop)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError, ValueError):
            await asyncio.sleep(interval)
        except asyncio.CancelledError:
            stop.set()  # the thread ends at its next IDLE renewal
            raise
