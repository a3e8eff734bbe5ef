"""The `kefu` command: run the desk, run workers, migrate, benchmark, evaluate."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kefu.channels.email.cli import mail_app, mail_poll, mail_receiver
from kefu.core.datasets import shared_data_dir
from kefu.core.settings import Settings
from kefu.kb.cli import kb_app

app = typer.Typer(help="Kefu (客服) customer support for crypto exchanges.", no_args_is_help=True)
db_app = typer.Typer(help="Database commands.")
bench_app = typer.Typer(help="Benchmarks that print their figures as JSON on the last line.")
eval_app = typer.Typer(help="Quality evaluations that print JSON on the last line.")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
app.add_typer(kb_app, name="kb")
app.add_typer(mail_app, name="mail")
app.command("mail-receiver")(mail_receiver)
app.command("mail-poll")(mail_poll)
console = Console()
DEFAULT_DATA = shared_data_dir()


async def _prepare(settings: Settings) -> list[tuple[str, str, str]]:
    from kefu.core.db import make_engine, make_session_factory
    from kefu.web.bootstrap import prepare

    engine = make_engine(settings.database_url)
    try:
        logins = await prepare(engine, make_session_factory(engine), settings)
    finally:
        await engine.dispose()
    return [(x.email, x.password, x.role) for x in logins]


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Web processes (scale-out needs PostgreSQL).")] = 1,
) -> None:
    """Start Kefu: migrate, seed the demo desk, serve the portal, console, admin and API."""
    from kefu.web.serve import serve

    settings = Settings()
    logins = asyncio.run(_prepare(settings))
    table = Table(title="Kefu demo logins (agent console: /console)")
    for column in ("email", "password", "role"):
        table.add_column(column)
    for row in logins:
        table.add_row(*row)
    console.print(table)
    console.print(f"Kefu is at http://{host}:{port}  (customers: /, agents: /console, "
                  f"admin: /admin, API: /docs)")
    serve(host=host, port=port, workers=workers)


@app.command()
def worker() -> None:
    """Run jobs from the jobs table (for deployments that set KEFU_RUN_JOBS_IN_PROCESS=false)."""
    from kefu.core import jobs
    from kefu.core.db import make_engine, make_session_factory

    settings = Settings()

    async def main() -> None:
        from kefu.web.chat_runtime import make_chat_bus
        from kefu.web.live import make_bus

        engine = make_engine(settings.database_url)
        runner = jobs.Runner(jobs.JobContext(settings, make_session_factory(engine)))
        # With Redis, what a job changes (a reply delivered into a chat, a ticket moved)
        # reaches the browsers connected to the web processes; without it there are none.
        buses = [make_bus(settings), make_chat_bus(settings)] if settings.redis_url else []
        for bus in buses:
            await bus.start()
        console.print("Kefu worker running; Ctrl-C stops it.")
        try:
            await runner.run_forever()
        finally:
            for bus in buses:
                await bus.stop()
            await engine.dispose()

    import kefu.job_handlers  # noqa: F401  (registers every job kind with the runner)

    asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (SQLite or PostgreSQL, from KEFU_DATABASE_URL)."""
    asyncio.run(_prepare(Settings()))
    console.print("Database is up to date.")


@bench_app.command("tickets")
def bench_tickets(
    url: Annotated[str, typer.Option(help="A running Kefu; default: start one.")] = "",
    db: Annotated[str, typer.Option(help="sqlite or postgresql, for the server it starts.")] = (
        "sqlite"),
    clients: Annotated[int, typer.Option(help="Concurrent clients.")] = 32,
    requests: Annotated[int, typer.Option(help="Tickets to create in all.")] = 3000,
    server_workers: Annotated[int, typer.Option(help="Web processes to start.")] = 2,
    token: Annotated[str, typer.Option(help="API token, with --url.")] = "",
) -> None:
    """Create tickets through the HTTP API with N concurrent clients; prints JSON last."""
    from kefu.bench.tickets import run_bench

    run_bench(url=url, db=db, clients=clients, requests=requests,
              server_workers=server_workers, token=token)


@bench_app.command("email")
def bench_email(
    messages: Annotated[int, typer.Option(help="Messages to send.")] = 2000,
    db: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    connections: Annotated[int, typer.Option(help="Parallel SMTP connections.")] = 8,
    workers: Annotated[int, typer.Option(help="kefu worker processes.")] = 1,
    kill_worker: Annotated[bool, typer.Option(help="SIGKILL a worker halfway.")] = False,
    data: Annotated[Path, typer.Option(help="The shared data folder (email_fixtures).")] = (
        DEFAULT_DATA),
) -> None:
    """Mail through the SMTP receiver into tickets; prints JSON (msgs_per_s,
    p99_ingest_to_ticket_ms, lost) last."""
    from kefu.bench.email import print_result, run_email_bench

    print_result(run_email_bench(db=db, messages=messages, connections=connections,
                                 workers=workers, kill_worker=kill_worker,
                                 fixtures=data / "email_fixtures"))


@bench_app.command("search")
def bench_search(
    repeat: Annotated[int, typer.Option(help="Times each query is asked.")] = 10,
) -> None:
    """Index the demo help centre and time searches; prints JSON last."""
    from kefu.bench.search import run_search_bench

    run_search_bench(repeat=repeat)


@bench_app.command("suggest")
def bench_suggest(
    url: Annotated[str, typer.Option(help="A running Kefu; default: start one.")] = "",
    rate: Annotated[float, typer.Option(help="Questions per second (0: as fast as "
                                              "--clients can ask).")] = 100.0,
    seconds: Annotated[float, typer.Option(help="How long to ask at --rate.")] = 10.0,
    clients: Annotated[int, typer.Option(help="Connections (and closed-loop clients).")] = 64,
    server_workers: Annotated[int, typer.Option(help="Web processes to start.")] = 1,
) -> None:
    """Distinct questions to /api/v1/help/suggest under concurrent load; prints JSON last."""
    from kefu.bench.suggest import run_suggest_bench

    run_suggest_bench(url=url, rate=rate, seconds=seconds, clients=clients,
                      server_workers=server_workers)


@bench_app.command("chat")
def bench_chat(
    url: Annotated[str, typer.Option(help="A running Kefu; default: start one.")] = "",
    db: Annotated[str, typer.Option(help="sqlite or postgresql, for the server it starts.")] = (
        "sqlite"),
    connections: Annotated[int, typer.Option(help="Widget WebSockets to hold.")] = 1000,
    seconds: Annotated[float, typer.Option(help="How long to drive the load.")] = 30.0,
    bot_rate: Annotated[float, typer.Option(help="Bot questions per second.")] = 100.0,
    relay_rate: Annotated[float, typer.Option(help="Customer messages to agents per "
                                                   "second.")] = 500.0,
    relay_chats: Annotated[int, typer.Option(help="Chats handed to agents (20 each).")] = 200,
    drop_share: Annotated[float, typer.Option(help="Share of customers whose socket drops "
                                                   "once and reconnects.")] = 0.05,
    agent_reply_share: Annotated[float, typer.Option(help="Share of customer messages an "
                                                          "agent answers.")] = 0.1,
    ramp_rate: Annotated[float, typer.Option(help="New connections per second at most.")] = (
        500.0),
    deflate: Annotated[bool, typer.Option(help="Offer permessage-deflate, as browsers "
                                               "do.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the question sample and schedule.")] = 7,
    agents_file: Annotated[Path | None, typer.Option(help="With --url: 'email password' per "
                                                          "line, agents of the api team.")] = None,
    server_pid: Annotated[int | None, typer.Option(help="With --url: the server's pid, for "
                                                        "rss_mb.")] = None,
) -> None:
    """Widget WebSockets, bot questions, customer-agent relay and dropped sockets; prints
    JSON (connections, bot_reply_p99_ms, relay_p99_ms, lost, duplicated, rss_mb) last."""
    from kefu.bench.chat import run_chat_bench
    from kefu.bench.chat_load import ChatBenchConfig

    config = ChatBenchConfig(connections=connections, seconds=seconds, bot_rate=bot_rate,
                             relay_rate=relay_rate, relay_chats=relay_chats,
                             drop_share=drop_share, agent_reply_share=agent_reply_share,
                             ramp_rate=ramp_rate, deflate=deflate, seed=seed)
    run_chat_bench(config, url=url, db=db, agents_file=agents_file, server_pid=server_pid)


@bench_app.command("index")
def bench_index(
    articles: Annotated[int, typer.Option(help="Synthetic articles to index.")] = 10_000,
) -> None:
    """Build the search index for a large synthetic help centre; prints JSON last."""
    from kefu.bench.index_build import run_index_bench

    run_index_bench(articles=articles)


@eval_app.command("guard")
def eval_guard(
    data: Annotated[Path, typer.Option(help="The shared data folder (banking77, afqmc).")] = (
        DEFAULT_DATA),
    seed: Annotated[int, typer.Option(help="Seed for the generated secrets.")] = 7,
) -> None:
    """Recall on generated secrets, false positives on real support text, p95 latency."""
    import json

    from kefu.security.guard_eval import evaluate_guard

    with console.status("Evaluating the secret guard..."):
        result = evaluate_guard(data, seed=seed)
    print(json.dumps(result))


@eval_app.command("retrieval")
def eval_retrieval(
    train: Annotated[str, typer.Option(help="CSV with text,label: one article per label.")] = "",
    test: Annotated[str, typer.Option(help="CSV with text,label; label oos = no answer.")] = "",
    dataset: Annotated[str, typer.Option(help="banking77 or afqmc, from --data.")] = "",
    data: Annotated[Path, typer.Option(help="The shared data folder.")] = DEFAULT_DATA,
    limit: Annotated[int, typer.Option(help="Only the first N test rows (0 = all).")] = 0,
    heldout: Annotated[bool, typer.Option(
        help="Tune here: answer a fixed stratified 15% of TRAIN, built from the rest; "
             "TEST is not read.")] = False,
) -> None:
    """Build a help centre from TRAIN through the real index, answer TEST through the bot's
    query path; prints top1/top3/oos figures and latency as JSON on the last line."""
    import json

    from kefu.kb.eval import run as run_eval

    try:
        result = run_eval(train=train or None, test=test or None, dataset=dataset or None,
                          data_dir=str(data), limit=limit or None, progress=True,
                          heldout=heldout)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    print(json.dumps(result, ensure_ascii=False))


@eval_app.command("bot")
def eval_bot(
    train: Annotated[str, typer.Option(help="CSV with text,label: one article per label.")],
    test: Annotated[str, typer.Option(help="CSV with text,label; label oos = out of scope.")
                    ] = "",
    leave_out: Annotated[int, typer.Option(
        help="Leave N labels (a seeded choice, printed) out of the help centre; their test "
             "questions become out of scope.")] = 0,
    heldout: Annotated[bool, typer.Option(
        help="Tune here: ask a fixed stratified 15% of TRAIN, built from the rest, and sweep "
             "the confidence threshold; TEST is not read.")] = False,
    limit: Annotated[int, typer.Option(help="Only the first N test rows (0 = all).")] = 0,
    min_confidence: Annotated[float | None, typer.Option(
        help="The bot's confidence threshold (default: the bot's own).")] = None,
    lexical: Annotated[bool, typer.Option(
        help="A lexical-only engine (no embedding model): fast, for plumbing checks.")] = False,
) -> None:
    """Each TEST question through the bot's decision path (intents, official check, help
    centre, handoff); prints answered_correct/answered_wrong/handed_over/oos_handed_over
    and latency as JSON on the last line."""
    import json

    from kefu.chat.bot import BOT_MIN_CONFIDENCE
    from kefu.chat.bot_eval import run as run_bot_eval

    threshold = BOT_MIN_CONFIDENCE if min_confidence is None else min_confidence
    try:
        result = run_bot_eval(train=train, test=test or None, leave_out=leave_out,
                              heldout=heldout, limit=limit or None, min_confidence=threshold,
                              lexical=lexical)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if result["left_out"]:
        console.print(f"Left out of the help centre: {', '.join(result['left_out'])}")
    print(json.dumps(result, ensure_ascii=False))


@eval_app.command("email")
def eval_email(
    data: Annotated[Path, typer.Option(help="The shared data folder (email_fixtures).")] = (
        DEFAULT_DATA),
) -> None:
    """Every fixture message through the parser; reply text against upstream's expected
    outputs. Prints JSON (parsed, crashed, reply_text_matches, reply_text_total) last."""
    import json

    from kefu.channels.email.evaluate import evaluate

    print(json.dumps(evaluate(data / "email_fixtures"), ensure_ascii=False))


def main() -> None:
    app()
