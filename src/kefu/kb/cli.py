"""`kefu kb import DIR`, `kefu kb export DIR`, `kefu kb reindex`."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.core.settings import Settings

kb_app = typer.Typer(help="Help centre: import, export and re-index articles.")
console = Console()
T = TypeVar("T")
Factory = async_sessionmaker[AsyncSession]


def _run(work: Callable[[Factory], Awaitable[T]]) -> T:
    from kefu.core import migrate
    from kefu.core.db import make_engine, make_session_factory

    async def main() -> T:
        settings = Settings()
        # A first command on a fresh machine must not fail on a missing SQLite folder.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            return await work(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _progress(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), console=console)


FolderVerb = Callable[..., Awaitable[int]]


def _run_folder(verb: FolderVerb, folder: Path, label: str) -> int:
    """Run import_folder or export_folder with a progress bar, in one committed session
    (both are audited)."""

    async def work(factory: Factory) -> int:
        with _progress(label) as bar:
            task = bar.add_task(label, total=None)
            async with factory() as db:
                count = await verb(db=db, folder=folder, actor=("cli", None),
                                   progress=lambda d, t: bar.update(task, completed=d, total=t))
                await db.commit()
        return count

    return _run(work)


@kb_app.command("import")
def import_command(
    folder: Annotated[Path, typer.Argument(help="Folder with categories.json and "
                                                "<category>/<slug>.<lang>.md files.")],
) -> None:
    """Insert or update every category and article in FOLDER (matched by slug)."""
    from kefu.kb.folder import import_folder

    count = _run_folder(import_folder, folder, "Importing")
    console.print(f"Imported {count} articles; the running desk re-indexes them.")


@kb_app.command("export")
def export_command(
    folder: Annotated[Path, typer.Argument(help="Folder to write (created if missing).")],
) -> None:
    """Write the whole help centre as Markdown files with front matter."""
    from kefu.kb.folder import export_folder

    console.print(f"Exported {_run_folder(export_folder, folder, 'Exporting')} articles to "
                  f"{folder}.")


@kb_app.command("reindex")
def reindex_command() -> None:
    """Build the index here (checks every article indexes) and ask every running desk
    process, each with its index in its own memory, to rebuild through the change feed."""
    from kefu.kb.index import KbIndex
    from kefu.kb.service import request_full_reindex

    async def work(factory: Factory) -> int:
        count = await KbIndex().rebuild(factory)
        async with factory() as db:
            await request_full_reindex(db=db)
            await db.commit()
        return count

    started = time.perf_counter()
    with console.status("Indexing the published articles..."):
        documents = _run(work)
    console.print(f"Indexed {documents} article versions in "
                  f"{time.perf_counter() - started:.1f}s; the running desk rebuilds its "
                  "index within seconds of its next search.")
