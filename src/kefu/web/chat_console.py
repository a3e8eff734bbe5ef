"""The agents' chat console (/console/chats): a page, and the JSON its script calls
(docs/chat.md, "The agent's side"); live events come over `/console/chats/ws`."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kefu.accounts.models import Agent, Team
from kefu.chat import agents as verbs
from kefu.chat import routing
from kefu.chat.conversation import Runtime, dispatch_team
from kefu.chat.frames import message_frame
from kefu.chat.inbox import inbox
from kefu.chat.models import Chat, Presence
from kefu.chat.queries import chat_view, messages_after
from kefu.core.errors import NotFound
from kefu.web.deps import CurrentAgent, DbSession, Lang
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/console/chats")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PresenceIn(Strict):
    presence: Presence
    capacity: int | None = Field(default=None, ge=1, le=routing.MAX_CAPACITY)
    languages: list[str] | None = Field(default=None, max_length=2)


class AgentMessageIn(Strict):
    text: str = Field(min_length=1, max_length=4000)
    client_id: str | None = Field(default=None, max_length=64)
    internal: bool = False


class TransferIn(Strict):
    team: str | None = Field(default=None, max_length=32)
    agent_id: int | None = None


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.chat_runtime
    return rt


async def _chat(db: DbSession, chat_id: int, agent: Agent) -> Chat:
    """A chat of the agent's team, offered to them or theirs; supervisors see all."""
    chat = await db.get(Chat, chat_id)
    if chat is None or not (agent.sees_all_teams or chat.team_id == agent.team_id
                            or agent.id in (chat.agent_id, chat.offered_agent_id)):
        raise NotFound("No such chat.")
    return chat


@router.get("", response_class=HTMLResponse)
async def page(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent) -> Any:
    teams = (await db.execute(select(Team).order_by(Team.name))).scalars().all()
    return render(request, "console/chats.html", lang, {"agent": agent, "teams": teams})


@router.get("/inbox")
async def inbox_json(db: DbSession, agent: CurrentAgent) -> dict[str, Any]:
    result = await inbox(db, agent)
    await db.commit()  # the agent's chat row, made on first visit
    return result


@router.post("/presence")
async def presence(body: PresenceIn, request: Request, db: DbSession,
                   agent: CurrentAgent) -> dict[str, Any]:
    await routing.set_presence(db, agent, body.presence, body.capacity, body.languages)
    await db.commit()
    if body.presence == Presence.ONLINE:
        await dispatch_team(_runtime(request), agent.team_id)
    return await inbox(db, agent)


@router.get("/{chat_id}/messages")
async def transcript(chat_id: int, db: DbSession, agent: CurrentAgent) -> dict[str, Any]:
    chat = await _chat(db, chat_id, agent)
    return {"chat": await chat_view(db, chat),
            "messages": await messages_after(db, chat.ticket_id, 0, internal=True)}


@router.post("/{chat_id}/accept")
async def accept(chat_id: int, db: DbSession, agent: CurrentAgent) -> dict[str, Any]:
    chat = await _chat(db, chat_id, agent)
    await verbs.accept(db, chat, agent)
    await db.commit()
    return await chat_view(db, chat)


@router.post("/{chat_id}/messages", status_code=201)
async def send(chat_id: int, body: AgentMessageIn, db: DbSession,
               agent: CurrentAgent) -> dict[str, Any]:
    chat = await _chat(db, chat_id, agent)
    message = await verbs.agent_message(db, chat, agent, text=body.text,
                                        client_id=body.client_id, internal=body.internal)
    await db.commit()
    return message_frame(message)


@router.post("/{chat_id}/transfer")
async def transfer(chat_id: int, body: TransferIn, request: Request, db: DbSession,
                   agent: CurrentAgent) -> dict[str, Any]:
    chat = await _chat(db, chat_id, agent)
    await verbs.transfer(db, chat, agent, team_slug=body.team, to_agent_id=body.agent_id)
    await db.commit()
    if body.agent_id is None:
        await dispatch_team(_runtime(request), chat.team_id)
    return {"status": "transferred"}


@router.post("/{chat_id}/resolve")
async def resolve(chat_id: int, request: Request, db: DbSession,
                  agent: CurrentAgent) -> dict[str, Any]:
    chat = await _chat(db, chat_id, agent)
    await verbs.resolve(db, chat, agent)
    await db.commit()
    await dispatch_team(_runtime(request), agent.team_id)  # a slot is free: the queue moves
    return await chat_view(db, chat)


@router.post("/{chat_id}/convert")
async def convert(chat_id: int, request: Request, db: DbSession,
                  agent: CurrentAgent) -> dict[str, str]:
    chat = await _chat(db, chat_id, agent)
    reference = await verbs.convert(db, chat, agent)
    await db.commit()
    await dispatch_team(_runtime(request), agent.team_id)
    return {"reference": reference}
