"""`kefu mail ingest MAILBOX [PATH]` and `kefu mail-receiver`.

`ingest` reads one message on stdin, or every message of an mbox file or a Maildir
folder, for an MTA's pipe transport (Postfix `pipe`, procmail, fetchmail's mda). Exit
status as sysexits: 0 stored, 67 no such mailbox (the MTA bounces), 65 unreadable input
or too large, 75 the database failed (the MTA keeps the message and retries).
"""

import asyncio
import mailbox
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from kefu.core.settings import Settings

mail_app = typer.Typer(help="Receive email into mailboxes.")
EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 65, 67, 75


def read_messages(path: Path | None) -> list[bytes]:
    """The raw messages at `path` (a Maildir folder, an mbox file, one message), or the
    one on stdin."""
    if path is None:
        return [sys.stdin.buffer.read()]
    if path.is_dir():
        return [m.as_bytes() for m in mailbox.Maildir(path, create=False)]
    with path.open("rb") as handle:
        first = handle.read(5)
    if first == b"From ":
        return [m.as_bytes() for m in mailbox.mbox(path, create=False)]
    return [path.read_bytes()]


async def ingest_all(settings: Settings, address: str, messages: list[bytes]) -> int:
    from kefu.channels.email.intake import ingest_bytes
    from kefu.core.db import make_engine, make_session_factory
    from kefu.core.errors import InvalidInput

    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        for data in messages:
            async with factory() as db:
                try:
                    row = await ingest_bytes(db=db, settings=settings, address=address,
                                             data=data, source="ingest")
                except InvalidInput as exc:
                    typer.echo(exc.message, err=True)
                    return EX_NOUSER if "mailbox" in exc.message else EX_DATAERR
            typer.echo(f"stored {row.id} {row.sha256}")
    except Exception as exc:  # the MTA must retry, not bounce
        typer.echo(f"could not store: {type(exc).__name__}", err=True)
        return EX_TEMPFAIL
    finally:
        await engine.dispose()
    return 0


@mail_app.command("ingest")
def ingest(
    mailbox_address: Annotated[str, typer.Argument(metavar="MAILBOX",
                                                   help="The mailbox's address.")],
    path: Annotated[Path | None, typer.Argument(
        help="An mbox file, a Maildir folder or one message; default: stdin.")] = None,
) -> None:
    """Store messages raw for a mailbox and queue their parsing (workers do the rest)."""
    try:
        messages = read_messages(path)
    except (OSError, mailbox.Error) as exc:
        typer.echo(f"cannot read {path}: {exc}", err=True)
        raise typer.Exit(EX_DATAERR) from exc
    code = asyncio.run(ingest_all(Settings(), mailbox_address, messages))
    if code:
        raise typer.Exit(code)


def mail_receiver(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
    lmtp: Annotated[bool, typer.Option(help="Speak LMTP instead of SMTP.")] = False,
) -> None:
    """Receive mail for the mailboxes over SMTP (or LMTP) from your MTA."""
    from kefu.channels.email.receiver import serve
    from kefu.core.db import make_engine, make_session_factory

    settings = Settings()

    async def main() -> None:
        engine = make_engine(settings.database_url)
        try:
            await serve(settings, make_session_factory(engine), host=host, port=port,
                        lmtp=lmtp)
        finally:
            await engine.dispose()

    typer.echo(f"Kefu mail receiver on {host}:{port} ({'LMTP' if lmtp else 'SMTP'})")
    asyncio.run(main())


def mail_poll(
    once: Annotated[bool, typer.Option(help="Poll every mailbox once, then exit.")] = False,
    interval: Annotated[float, typer.Option(
        help="Longest wait between polls (IMAP IDLE ends it sooner).")] = 300.0,
) -> None:
    """Read new mail from the mailboxes' IMAP folders (TLS, verified) into the desk;
    between polls each mailbox waits with IMAP IDLE, so mail arrives at once."""
    from kefu.channels.email.imap import poll_all, watch_mailbox
    from kefu.channels.email.models import Mailbox
    from kefu.core.db import make_engine, make_session_factory

    settings = Settings()

    async def main() -> None:
        engine = make_engine(settings.database_url)
        factory = make_session_factory(engine)
        try:
            for address, outcome in (await poll_all(settings=settings,
                                                    factory=factory)).items():
                typer.echo(f"{address}: {outcome}")
            if once:
                return
            async with factory() as db:
                ids = (await db.execute(select(Mailbox.id).where(
                    Mailbox.active.is_(True), Mailbox.imap_host.is_not(None)))).scalars().all()
            # Mailboxes added later are picked up on the next start.
            await asyncio.gather(*(watch_mailbox(settings=settings, factory=factory,
                                                 mailbox_id=i, interval=max(interval, 1.0))
                                   for i in ids))
        finally:
            await engine.dispose()

    asyncio.run(main())
