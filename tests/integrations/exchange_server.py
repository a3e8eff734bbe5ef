"""The fake exchange served by uvicorn on a loopback port: real HTTP, no internet."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from conftest import Desk
from kefu.core.settings import Settings
from kefu.integrations.exchange.fake import FakeExchange, create_fake_app

SECRET = "test-exchange-secret-0123456789abcdef"


class ExchangeSettings(Settings):
    """Settings with the adapter fields (until the lead adds them to Settings itself)."""

    exchange_api_url: str = ""
    exchange_api_secret: str = ""
    exchange_allow_loopback: bool = False


def exchange_settings(desk: Desk, url: str, secret: str = SECRET) -> Settings:
    values = {**desk.settings.model_dump(), "exchange_api_url": url,
              "exchange_api_secret": secret, "exchange_allow_loopback": True}
    return ExchangeSettings(**values)


@contextlib.asynccontextmanager
async def serve_fake(exchange: FakeExchange) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_fake_app(exchange), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
