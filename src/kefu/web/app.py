"""The application factory. Everything the app needs hangs off `app.state`; nothing is
read at import time, so tests build as many differently-configured apps as they like."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kefu import job_handlers  # noqa: F401  (every job kind gets its handler)
from kefu.core import jobs
from kefu.core.db import make_engine, make_session_factory
from kefu.core.errors import KefuError
from kefu.core.i18n import negotiate
from kefu.core.settings import Settings
from kefu.security.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from kefu.tickets.files import FileStore
from kefu.web import (
    admin_pages,
    agent_account_pages,
    api_tickets,
    attachments,
    auth_pages,
    console_pages,
    console_security_pages,
    guard_api,
    help_pages,
    kb_admin_pages,
    mailbox_pages,
    portal_pages,
    security_pages,
    totp_pages,
    verify_pages,
)
from kefu.web.deps import LoginRequired
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
        runner_task = None
        runner = jobs.Runner(jobs.JobContext(settings, app.state.session_factory))
        if settings.run_jobs_in_process:
            runner_task = asyncio.create_task(runner.run_forever())
        yield
        runner.stop()
        if runner_task is not None:
            await runner_task
        await app.state.engine.dispose()

    app = FastAPI(title="Kefu", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                                   max_overflow=settings.db_max_overflow)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.file_store = FileStore(settings.attachments_dir)
    app.state.rate_limiter = _limiter(settings)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The REST API first: routes are matched in order, and integrators' calls are the
    # busiest; no page path starts with /api/, so the order changes nothing else.
    for module in (api_tickets, guard_api, auth_pages, totp_pages, agent_account_pages,
                   portal_pages, console_pages, admin_pages, console_security_pages,
                   attachments, help_pages, kb_admin_pages, mailbox_pages, verify_pages,
                   security_pages):
        app.include_router(module.router)
    _install_error_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def kefu_error(request: Request, exc: KefuError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
        lang = negotiate(request.headers.get("accept-language"))
        return render(request, "error.html", lang, {"message": exc.message},
                      status_code=exc.status_code)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Authentication required."}, status_code=401)
        return RedirectResponse(f"{exc.login_path}?next={exc.next_path}", status_code=303)
