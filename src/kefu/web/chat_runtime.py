"""What a web process needs to run chats: the runtime, the chat bus and the sweeper."""

import asyncio
import logging

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kefu.chat import routing
from kefu.chat.bot import bot_turn
from kefu.chat.botflow import Turn
from kefu.chat.composer import Composer
from kefu.chat.conversation import Decide, Runtime
from kefu.chat.frames import CHAT_EVENTS
from kefu.chat.models import Chat, Owner
from kefu.core import bus as buses
from kefu.core.settings import Settings
from kefu.kb.index import holder_for

log = logging.getLogger(__name__)
SWEEP_SECONDS = 2.0


def make_chat_bus(settings: Settings) -> buses.LocalBus:
    return buses.make_bus(CHAT_EVENTS, redis_url=settings.redis_url,
                          database_url=settings.database_url, topic="chat")


def make_runtime(app: FastAPI) -> Runtime:
    settings: Settings = app.state.settings
    factory = app.state.session_factory
    index = holder_for(settings.database_url)
    composer = Composer.from_settings(settings)
    app.state.chat_composer = composer  # its HTTP client is closed with the app

    async def decide(question: str, chat: Chat, offered: frozenset[int]) -> Turn:
        return await bot_turn(question, lang=chat.lang, problem_type=chat.problem_type,
                              index=index, factory=factory, offered=offered,
                              composer=composer,
                              min_confidence=settings.chat_bot_min_confidence)

    the_decide: Decide = decide
    return Runtime(factory, app.state.file_store, the_decide)


async def sweep_forever(app: FastAPI) -> None:
    """Every web process, for its life: offers not accepted in time go on to the next
    agent, and queues drain as agents come online or free up. Safe to run in several
    processes at once (`kefu.chat.routing`)."""
    settings: Settings = app.state.settings
    while True:
        try:
            await sweep(app.state.chat_runtime, settings.chat_offer_seconds)
        except SQLAlchemyError as exc:
            log.warning("chat: sweep failed: %s", exc)
        await asyncio.sleep(SWEEP_SECONDS)


async def sweep(rt: Runtime, offer_seconds: int) -> None:
    async with rt.factory() as db:
        changed = await routing.expire_offers(db, seconds=offer_seconds)
        queued = set((await db.execute(select(Chat.team_id).where(
            Chat.owner == Owner.QUEUE, Chat.offered_agent_id.is_(None)).distinct())
        ).scalars())
        for team_id in changed | queued:
            await routing.dispatch(db, team_id)
        await db.commit()
