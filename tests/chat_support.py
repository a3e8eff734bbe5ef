"""Helpers for chat tests: a site, a visitor, a runtime whose bot is scripted per test
(the real bot's decisions are tested in test_bot*.py and end to end)."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from conftest import PASSWORD, Desk, unique_email
from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Role
from kefu.chat.conversation import Runtime
from kefu.chat.models import Chat, ChatSite, Presence, ProblemType
from kefu.chat.routing import set_presence
from kefu.chat.service import start_chat
from kefu.chat.sites import add_site
from kefu.chat.visitors import Visitor, open_visitor


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    article_id: int


@dataclass(frozen=True)
class Turn:
    action: str
    text: str = ""
    articles: tuple[Link, ...] = ()
    reason: str | None = None


def answer(article_id: int = 1, title: str = "How deposits work") -> Turn:
    return Turn("answer", f"See {title}.", (Link(title, f"/help/articles/a{article_id}",
                                                  article_id),))


@dataclass
class ScriptedBot:
    """Answers each question with `reply(question, offered)`; records what it was asked."""

    reply: Callable[[str, frozenset[int]], Turn] = lambda q, offered: answer()
    asked: list[tuple[str, frozenset[int]]] = field(default_factory=list)

    async def __call__(self, question: str, chat: Chat, offered: frozenset[int]) -> Turn:
        self.asked.append((question, offered))
        return self.reply(question, offered)


def runtime(desk: Desk, bot: ScriptedBot | None = None) -> Runtime:
    return Runtime(desk.app.state.session_factory, desk.app.state.file_store,
                   bot or ScriptedBot())


async def site(desk: Desk, **values: object) -> ChatSite:
    async with desk.app.state.session_factory() as db:
        made = await add_site(db, key=f"site-{secrets.token_hex(4)}", name="Test exchange",
                              **values)  # type: ignore[arg-type]
        await db.commit()
        return made


async def visitor_chat(desk: Desk, problem: ProblemType = ProblemType.DEPOSIT_WITHDRAWAL,
                       lang: str = "en") -> tuple[Visitor, int]:
    the_site = await site(desk)
    async with desk.app.state.session_factory() as db:
        visitor = await open_visitor(db, token=None, uid=None, lang=lang)
        chat = await start_chat(db, desk.app.state.file_store, site=the_site,
                                customer=visitor.customer, problem_type=problem, lang=lang,
                                verified_uid=None)
        await db.commit()
        return visitor, chat.ticket_id


async def chat_agent(desk: Desk, *, team: str = "deposits", capacity: int = 2,
                     presence: Presence = Presence.ONLINE) -> Agent:
    async with desk.app.state.session_factory() as db:
        team_row = await accounts.team_by_slug(db=db, slug=team)
        agent = await accounts.create_agent(db=db, actor=None, email=unique_email("chat"),
                                            name="Agent " + secrets.token_hex(2),
                                            password=PASSWORD, role=Role.AGENT,
                                            team_id=team_row.id)
        await set_presence(db, agent, presence, capacity)
        await db.commit()
        return agent


async def load_chat(desk: Desk, chat_id: int) -> Chat:
    async with desk.app.state.session_factory() as db:
        chat = (await db.execute(select(Chat).where(Chat.ticket_id == chat_id))).scalar_one()
        return chat


async def fresh_team(desk: Desk, hours: str | None = None) -> str:
    """A team of its own, so no other test's online agents take this test's chats."""
    from kefu.accounts.models import Team

    slug = f"t{secrets.token_hex(4)}"
    async with desk.app.state.session_factory() as db:
        db.add(Team(slug=slug, name=slug, name_zh="", hours=hours))
        await db.commit()
    return slug


async def queue_chat(desk: Desk, chat_id: int, team: str, *, urgent: bool = False,
                     reason: str = "button") -> bool:
    from kefu.chat.handoff import hand_over

    async with desk.app.state.session_factory() as db:
        chat = (await db.execute(select(Chat).where(Chat.ticket_id == chat_id))).scalar_one()
        moved = await hand_over(db, chat, reason=reason, urgent=urgent, team_slug=team)
        await db.commit()
        return moved
