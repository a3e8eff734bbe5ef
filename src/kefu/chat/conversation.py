"""One turn of a conversation across its transactions, for the web layer and tests.

The customer's message commits first (they see it at once, and a crash cannot lose it);
the bot then searches outside any transaction (a search takes milliseconds, a held row
lock would order every other writer of the chat behind it); its answer or the handover
commits in a second transaction, and a handover offers the chat to an agent in a third.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.chat.adapter import CHAT_ADAPTER
from kefu.chat.botflow import Turn, apply_turn, offered_articles, record_feedback
from kefu.chat.models import Chat, Owner
from kefu.chat.routing import dispatch
from kefu.chat.service import Posted, add_customer_message
from kefu.contacts.models import Customer
from kefu.core.errors import NotFound
from kefu.tickets.files import CheckedFile, FileStore

# The bot's decision for a question in a chat, given the articles it already offered.
Decide = Callable[[str, Chat, frozenset[int]], Awaitable[Turn]]


@dataclass(frozen=True)
class Runtime:
    factory: async_sessionmaker[AsyncSession]
    store: FileStore
    decide: Decide


async def chat_of(db: AsyncSession, chat_id: int, customer_id: int) -> Chat:
    """The chat, if it is this visitor's: another's is a 404, like a missing one."""
    chat = await db.get(Chat, chat_id)
    if chat is None or chat.visitor_id != customer_id:
        raise NotFound("No such chat.")
    return chat


async def customer_says(rt: Runtime, *, chat_id: int, customer: Customer, client_id: str,
                        text: str, file: CheckedFile | None = None) -> Posted:
    # Bad input is refused before any database work (the adapter's contract, as on
    # every channel); the service stores what it normalised.
    CHAT_ADAPTER.receive({"chat": chat_id, "client_id": client_id, "text": text,
                  "visitor": customer.id})
    async with rt.factory() as db:
        chat = await chat_of(db, chat_id, customer.id)
        posted = await add_customer_message(db, rt.store, chat=chat, customer=customer,
                                            client_id=client_id, text=text, file=file)
        to_bot = posted.new and chat.owner == Owner.BOT and file is None
        if to_bot:
            chat.rejections = 0  # a new question: "no" twice in a row starts again
        await db.commit()
    if to_bot:
        await bot_answers(rt, chat_id, posted.message.body)
    return posted


async def bot_answers(rt: Runtime, chat_id: int, question: str, *,
                      another: bool = False) -> None:
    """The bot's turn; `another` leaves out what it already offered (after a "no")."""
    async with rt.factory() as db:
        chat = await db.get(Chat, chat_id)
        if chat is None or chat.owner != Owner.BOT:
            return
        offered = frozenset(await offered_articles(db, chat)) if another else frozenset()
    turn = await rt.decide(question, chat, offered)
    async with rt.factory() as db:
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        handed = await apply_turn(db, chat, turn)
        await db.commit()
    if handed:
        await dispatch_team(rt, chat.team_id)


async def feedback(rt: Runtime, *, chat_id: int, customer: Customer, helpful: bool) -> None:
    async with rt.factory() as db:
        chat = await chat_of(db, chat_id, customer.id)
        result = await record_feedback(db, chat, helpful=helpful)
        await db.commit()
    if result.handed_over:
        await dispatch_team(rt, chat.team_id)
    elif result.ask_again:
        await bot_answers(rt, chat_id, result.ask_again, another=True)


async def dispatch_team(rt: Runtime, team_id: int | None) -> None:
    async with rt.factory() as db:
        await dispatch(db, team_id)
        await db.commit()
