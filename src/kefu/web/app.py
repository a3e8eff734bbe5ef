"""The application factory. Everything the app needs hangs off `app.state`; nothing is
read at import time, so tests build as many differently-configured apps as they like."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu import job_handlers  # noqa: F401  (every job kind gets its handler)
from kefu.accounts import sessions
from kefu.accounts.models import Agent
from kefu.core import jobs
from kefu.core.db import make_engine, make_session_factory
from kefu.core.errors import KefuError, RateLimited
from kefu.core.i18n import translate
from kefu.core.settings import Settings
from kefu.security.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from kefu.tickets.files import FileStore
from kefu.web import (
    admin_pages,
    agent_account_pages,
    api_tickets,
    attachments,
    auth_pages,
    chat_admin_pages,
    chat_api,
    chat_console,
    chat_runtime,
    chat_socket,
    console_pages,
    console_security_pages,
    console_work_pages,
    guard_api,
    help_pages,
    kb_admin_pages,
    live,
    logredact,
    macro_pages,
    mailbox_pages,
    portal_pages,
    security_pages,
    ticket_facts_pages,
    totp_pages,
    verify_pages,
    widget_pages,
)
from kefu.web.deps import LoginRequired, cookie_name, get_lang
from kefu.web.middleware import SecurityHeaders
from kefu.web.templating import render

STATIC = Path(__file__).parent / "static"


def _limiter(settings: Settings) -> RateLimiter:
    return RedisRateLimiter(settings.redis_url) if settings.redis_url else MemoryRateLimiter()


def create_app(settings: Settings, *, run_migrations: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from kefu.web.bootstrap import prepare

        if run_migrations:
            await prepare(app.state.engine, app.state.session_factory, settings)
        await app.state.bus.start()  # with Redis, this process's events must go out
        await app.state.chat_bus.start()
        pruner = asyncio.create_task(live.keep_feed_short(app.state.session_factory))
        sweeper = asyncio.create_task(chat_runtime.sweep_forever(app))
        runner_task = None
        runner = jobs.Runner(jobs.JobContext(settings, app.state.session_factory))
        if settings.run_jobs_in_process:
            runner_task = asyncio.create_task(runner.run_forever())
        yield
        runner.stop()
        pruner.cancel()
        sweeper.cancel()
        if runner_task is not None:
            await runner_task
        await app.state.bus.stop()
        await app.state.chat_bus.stop()
        if app.state.chat_composer is not None:
            await app.state.chat_composer.aclose()
        await app.state.engine.dispose()

    app = FastAPI(title="Kefu", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.settings = settings
    logredact.install()  # the chat socket's token never reaches a log
    app.state.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                                   max_overflow=settings.db_max_overflow)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.file_store = FileStore(settings.attachments_dir)
    app.state.rate_limiter = _limiter(settings)
    app.state.bus = live.make_bus(settings)  # started by the lifespan or the first client
    app.state.chat_bus = chat_runtime.make_chat_bus(settings)
    app.state.chat_runtime = chat_runtime.make_runtime(app)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure,
                       trusted_proxies=settings.trusted_proxies)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The REST API first: routes are matched in order, and integrators' calls are the
    # busiest; no page path starts with /api/, so the order changes nothing else.
    for module in (api_tickets, chat_api, chat_socket, chat_console, guard_api, auth_pages,
                   totp_pages, agent_account_pages, portal_pages, console_pages, console_work_pages,
                   macro_pages, admin_pages, chat_admin_pages,
                   console_security_pages, attachments, help_pages, kb_admin_pages,
                   mailbox_pages, verify_pages, security_pages, live, ticket_facts_pages,
                   widget_pages):
        app.include_router(module.router)
    _install_error_handlers(app)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        # Browsers ask for /favicon.ico whatever the page links; one SVG serves both.
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"cache-control": "public, max-age=86400"})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (path.startswith(("/api/", "/chat/api/"))
            or "application/json" in request.headers.get("accept", ""))


CONSOLE_AREAS = ("/console", "/admin")
ECHO_CHARS = 200  # the most of a caller's input an error repeats back


def _capped(value: object) -> object:
    """`value` as an error may echo it: short values as they are, long ones cut."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"
    text = json.dumps(jsonable_encoder(value), ensure_ascii=False, default=str)
    return value if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"


def capped_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list with each echoed input cut to ECHO_CHARS: a 1 MB field
    must not come back as a 1 MB error."""
    capped = []
    for error in errors[:50]:
        item = dict(error)
        if "input" in item:
            item["input"] = _capped(item["input"])
        if "ctx" in item:
            item["ctx"] = {k: _capped(v) for k, v in dict(item["ctx"]).items()}
        capped.append(jsonable_encoder(item))
    return capped


async def _signed_in_agent(request: Request) -> Agent | None:
    """The agent behind the request's console cookie, if any (for the menu of an error page)."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(cookie_name(settings, "kefu_agent"))
    if not token:
        return None
    async with request.app.state.session_factory() as db:
        return await sessions.resolve_agent(db=db, token=token)


async def error_page(request: Request, message: str, status_code: int) -> Response:
    """An HTML error in the area it happened in: inside the console and the admin area it
    keeps the console's menu (for a signed-in agent); elsewhere the customer's."""
    lang = await get_lang(request)
    if request.url.path.startswith(CONSOLE_AREAS):
        return render(request, "console/error.html", lang,
                      {"message": message, "agent": await _signed_in_agent(request)},
                      status_code=status_code)
    return render(request, "error.html", lang, {"message": message}, status_code=status_code)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def kefu_error(request: Request, exc: KefuError) -> Response:
        if _wants_json(request):
            message = exc.message
            if request.url.path.startswith("/chat/"):  # the widget shows it to the customer
                message = translate(await get_lang(request), message)
            response: Response = JSONResponse({"detail": message},
                                              status_code=exc.status_code)
        else:
            response = await error_page(request, exc.message, exc.status_code)
        if isinstance(exc, RateLimited):
            response.headers["retry-after"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": capped_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths and methods: a page for people, the usual JSON for programs.
        if _wants_json(request) or exc.status_code not in (404, 405):
            return await http_exception_handler(request, exc)
        message = "Not found." if exc.status_code == 404 else "Invalid request."
        return await error_page(request, message, exc.status_code)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Authentication required."}, status_code=401)
        return RedirectResponse(f"{exc.login_path}?next={exc.next_path}", status_code=303)
