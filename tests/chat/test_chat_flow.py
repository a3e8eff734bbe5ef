"""A chat from the customer's first message to the rating, through the domain verbs
(the HTTP and WebSocket layers have their own tests): one owner at a time, numbered
messages stored once, the bot silenced by the handover, notes never shown."""

import secrets

import pytest
from sqlalchemy import select

from chat_support import (
    ScriptedBot,
    Turn,
    answer,
    chat_agent,
    fresh_team,
    load_chat,
    queue_chat,
    runtime,
    visitor_chat,
)
from conftest import Desk
from kefu.accounts.models import Agent
from kefu.chat import agents as agent_verbs
from kefu.chat.conversation import customer_says, dispatch_team, feedback
from kefu.chat.models import Chat, Outcome, Owner, Presence
from kefu.chat.queries import messages_after
from kefu.chat.service import leave_message, rate
from kefu.core.errors import Conflict, Forbidden, InvalidInput
from kefu.core.jobs import Job
from kefu.notifications.service import SEND_EMAIL
from kefu.tickets.models import Ticket, TicketMessage
from kefu.tickets.queries import View, agent_inbox


async def _say(desk: Desk, bot: ScriptedBot, visitor, chat_id: int, text: str,  # type: ignore[no-untyped-def]
               client_id: str | None = None):
    return await customer_says(runtime(desk, bot), chat_id=chat_id, customer=visitor.customer,
                               client_id=client_id or secrets.token_hex(6), text=text)


async def _replay(desk: Desk, chat_id: int, after: int = 0) -> list[dict[str, object]]:
    async with desk.app.state.session_factory() as db:
        return await messages_after(db, chat_id, after)


async def test_the_bot_answers_and_the_messages_are_numbered_once(desk: Desk) -> None:
    bot = ScriptedBot()
    visitor, chat_id = await visitor_chat(desk)
    first = await _say(desk, bot, visitor, chat_id, "Where is my deposit?", client_id="c-1")
    again = await _say(desk, bot, visitor, chat_id, "Where is my deposit?", client_id="c-1")
    assert first.new and not again.new and again.message.id == first.message.id
    messages = await _replay(desk, chat_id)
    assert [m["author"] for m in messages] == ["system", "customer", "bot"]
    assert [m["seq"] for m in messages] == [1, 2, 3]
    assert messages[1]["client_id"] == "c-1"
    assert messages[2]["articles"][0]["url"] == "/help/articles/a1"  # type: ignore[index]
    assert messages[2]["ask_feedback"] is True
    assert len(bot.asked) == 1  # the resend did not ask the bot again
    assert [m["seq"] for m in await _replay(desk, chat_id, after=2)] == [3]


async def test_a_chat_the_bot_owns_is_no_agents_business(desk: Desk) -> None:
    _visitor, chat_id = await visitor_chat(desk)
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None and ticket.bot_only
        supervisor = (await db.execute(select(Agent).where(Agent.role == "admin"))
                      ).scalars().first()
        if supervisor is not None:
            page = await agent_inbox(db=db, agent=supervisor, view=View.ALL,
                                     search=ticket.reference)
            assert page.total == 0


async def test_yes_ends_the_chat_as_solved_by_the_bot(desk: Desk) -> None:
    bot = ScriptedBot()
    visitor, chat_id = await visitor_chat(desk)
    await _say(desk, bot, visitor, chat_id, "How long do BTC deposits take?")
    await feedback(runtime(desk, bot), chat_id=chat_id, customer=visitor.customer, helpful=True)
    chat = await load_chat(desk, chat_id)
    assert (chat.owner, chat.outcome) == (Owner.ENDED, Outcome.BOT_RESOLVED)
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None and ticket.bot_only and ticket.status == "resolved"


async def test_no_offers_another_answer_then_a_second_no_hands_over(desk: Desk) -> None:
    team = await fresh_team(desk)
    bot = ScriptedBot(reply=lambda q, offered: answer(2 if 1 in offered else 1))
    visitor, chat_id = await visitor_chat(desk)
    async with desk.app.state.session_factory() as db:  # route this chat to its own team
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        from kefu.accounts.service import team_by_slug
        chat.team_id = (await team_by_slug(db=db, slug=team)).id
        await db.commit()
    await _say(desk, bot, visitor, chat_id, "My deposit is missing")
    await feedback(runtime(desk, bot), chat_id=chat_id, customer=visitor.customer, helpful=False)
    assert bot.asked[-1] == ("My deposit is missing", frozenset({1}))
    assert (await _replay(desk, chat_id))[-1]["articles"][0]["id"] == 2  # type: ignore[index]
    await feedback(runtime(desk, bot), chat_id=chat_id, customer=visitor.customer, helpful=False)
    chat = await load_chat(desk, chat_id)
    assert chat.owner == Owner.QUEUE and chat.handoff_reason == "rejected"


async def test_after_the_handover_the_bot_cannot_post(desk: Desk) -> None:
    team = await fresh_team(desk)
    visitor, chat_id = await visitor_chat(desk)
    assert await queue_chat(desk, chat_id, team)
    assert not await queue_chat(desk, chat_id, team)  # one transition, once
    bot = ScriptedBot()
    await _say(desk, bot, visitor, chat_id, "hello?")
    assert bot.asked == []  # the queue owns it: nobody asks the bot
    from kefu.chat.botflow import apply_turn
    async with desk.app.state.session_factory() as db:
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        await apply_turn(db, chat, answer())  # an answer computed before the handover
        await db.commit()
    authors = [m["author"] for m in await _replay(desk, chat_id)]
    assert "bot" not in authors
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None and not ticket.bot_only  # agents see it now
        note = (await db.execute(select(TicketMessage.body).where(
            TicketMessage.ticket_id == chat_id, TicketMessage.direction == "internal"))
        ).scalar_one()
    assert "Problem type: Deposits & withdrawals" in note
    assert all("Problem type" not in str(m["text"]) for m in await _replay(desk, chat_id))


async def test_a_security_intent_skips_the_bot_to_the_security_team_urgently(desk: Desk) -> None:
    bot = ScriptedBot(reply=lambda q, offered: Turn("security",
                                                    "Freeze now: /portal/security/freeze"))
    visitor, chat_id = await visitor_chat(desk)
    await _say(desk, bot, visitor, chat_id, "my account was hacked 账户被盗")
    chat = await load_chat(desk, chat_id)
    assert chat.owner == Owner.QUEUE and chat.urgent and chat.handoff_reason == "security"
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None and ticket.priority == "urgent"
        assert ticket.team is not None and ticket.team.slug == "security"
    texts = [str(m["text"]) for m in await _replay(desk, chat_id)]
    assert any("/portal/security/freeze" in t for t in texts)


async def test_queue_order_capacity_and_an_offer_nobody_accepts(desk: Desk) -> None:
    team = await fresh_team(desk)
    chats = []
    for urgent in (False, False, True):
        _, chat_id = await visitor_chat(desk)
        await queue_chat(desk, chat_id, team, urgent=urgent)
        chats.append(chat_id)
    busy = await chat_agent(desk, team=team, capacity=1)
    await dispatch_team(runtime(desk), await _team_id(desk, team))
    urgent_chat = await load_chat(desk, chats[2])
    assert urgent_chat.offered_agent_id == busy.id  # urgent first
    assert (await load_chat(desk, chats[0])).offered_agent_id is None  # capacity 1
    # Not accepted in time: back to the queue, the agent is set away, the next agent gets it.
    spare = await chat_agent(desk, team=team, capacity=3)
    async with desk.app.state.session_factory() as db:
        from kefu.chat.routing import dispatch, expire_offers
        teams = await expire_offers(db, seconds=0)
        for team_id in teams:
            await dispatch(db, team_id)
        await db.commit()
    assert (await load_chat(desk, chats[2])).offered_agent_id == spare.id
    assert {(await load_chat(desk, c)).offered_agent_id for c in chats} == {spare.id}
    async with desk.app.state.session_factory() as db:
        from kefu.chat.models import ChatAgent
        assert (await db.get(ChatAgent, busy.id)).presence == "away"  # type: ignore[union-attr]
        assert (await db.get(ChatAgent, spare.id)).active == 3  # type: ignore[union-attr]


async def _team_id(desk: Desk, slug: str) -> int:
    from kefu.accounts.service import team_by_slug
    async with desk.app.state.session_factory() as db:
        return (await team_by_slug(db=db, slug=slug)).id


async def test_accept_reply_note_resolve_and_rate(desk: Desk) -> None:
    team = await fresh_team(desk)
    _visitor, chat_id = await visitor_chat(desk)
    await queue_chat(desk, chat_id, team)
    agent = await chat_agent(desk, team=team)
    other = await chat_agent(desk, team=team)
    await dispatch_team(runtime(desk), await _team_id(desk, team))
    offered_to = (await load_chat(desk, chat_id)).offered_agent_id
    taker = agent if offered_to == agent.id else other
    bystander = other if taker is agent else agent
    async with desk.app.state.session_factory() as db:
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        with pytest.raises(Conflict):
            await agent_verbs.accept(db, chat, bystander)  # offered to someone else
        await db.rollback()
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        await agent_verbs.accept(db, chat, taker)
        await agent_verbs.agent_message(db, chat, taker, text="Let me check.", client_id="a1")
        await agent_verbs.agent_message(db, chat, taker, text="UID looks fine", client_id=None,
                                        internal=True)
        await db.commit()
        with pytest.raises(Forbidden):
            await agent_verbs.agent_message(db, chat, bystander, text="hi", client_id=None)
    messages = await _replay(desk, chat_id)
    assert [m["text"] for m in messages][-2:] == [f"{taker.name} has joined the chat.",
                                                  "Let me check."]
    assert all("UID looks fine" not in str(m["text"]) for m in messages)
    async with desk.app.state.session_factory() as db:
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        await agent_verbs.resolve(db, chat, taker)
        await db.commit()
        await rate(db, chat, score=5, comment="quick")
        await db.commit()
        with pytest.raises(Conflict):
            await rate(db, chat, score=1, comment="")
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None and ticket.rating == 5 and ticket.status == "resolved"
        assert ticket.assignee_id == taker.id
        from kefu.chat.models import ChatAgent
        assert (await db.get(ChatAgent, taker.id)).active == 0  # type: ignore[union-attr]


async def test_outside_hours_the_customer_is_offered_to_leave_a_message(desk: Desk) -> None:
    # A team whose hours are never now: one minute a week, in the past hour's slot or not.
    team = await fresh_team(desk, hours="mon 00:00-00:01 +00:00")
    visitor, chat_id = await visitor_chat(desk)
    assert not await queue_chat(desk, chat_id, team)
    chat = await load_chat(desk, chat_id)
    assert chat.owner == Owner.BOT
    last = (await _replay(desk, chat_id))[-1]
    assert last["leave_message"] is True
    async with desk.app.state.session_factory() as db:
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        reference = await leave_message(db, desk.app.state.file_store, chat=chat,
                                        customer=visitor.customer, email="t@example.com",
                                        text="Please call me back about my deposit")
        await db.commit()
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None and ticket.reference == reference and not ticket.bot_only
        emails = (await db.execute(select(Job.payload).where(Job.kind == SEND_EMAIL))
                  ).scalars().all()
        assert any(e["to"] == "t@example.com" and reference in e["subject"] for e in emails)
    chat = await load_chat(desk, chat_id)
    assert (chat.owner, chat.outcome) == (Owner.ENDED, Outcome.LEFT_MESSAGE)


async def test_an_ended_chat_takes_no_message(desk: Desk) -> None:
    bot = ScriptedBot()
    visitor, chat_id = await visitor_chat(desk)
    await _say(desk, bot, visitor, chat_id, "thanks")
    await feedback(runtime(desk, bot), chat_id=chat_id, customer=visitor.customer, helpful=True)
    with pytest.raises(Conflict):
        await _say(desk, bot, visitor, chat_id, "one more thing")


async def test_a_secret_is_masked_before_storage_and_the_customer_warned(desk: Desk) -> None:
    bot = ScriptedBot()
    visitor, chat_id = await visitor_chat(desk)
    phrase = ("abandon ability able about above absent absorb abstract absurd abuse access "
              "accident")
    await _say(desk, bot, visitor, chat_id, f"my seed is {phrase}")
    customer_message = next(m for m in await _replay(desk, chat_id) if m["author"] == "customer")
    assert "abandon ability" not in str(customer_message["text"])
    assert customer_message["warning"]


async def test_take_next_leaves_live_chats_to_the_chat_queue(desk: Desk) -> None:
    from kefu.chat.queries import live_chat_tickets
    from kefu.tickets.workflow import take_next

    team = await fresh_team(desk)
    visitor, chat_id = await visitor_chat(desk)
    await queue_chat(desk, chat_id, team)
    agent = await chat_agent(desk, team=team, presence=Presence.OFFLINE)
    async with desk.app.state.session_factory() as db:
        assert await take_next(db=db, agent=agent, routed_elsewhere=live_chat_tickets()) is None
        chat = await db.get(Chat, chat_id)
        assert chat is not None
        await leave_message(db, desk.app.state.file_store, chat=chat, customer=visitor.customer,
                            email="later@example.com", text="Call me back")
        await db.commit()
        taken = await take_next(db=db, agent=agent, routed_elsewhere=live_chat_tickets())
        assert taken is not None and taken.id == chat_id  # a left message is a ticket's work


async def test_a_chat_goes_to_a_speaker_of_its_language_first(desk: Desk) -> None:
    from kefu.chat.routing import set_presence

    team = await fresh_team(desk)
    _, chat_id = await visitor_chat(desk, lang="zh-CN")
    await queue_chat(desk, chat_id, team)
    english = await chat_agent(desk, team=team, capacity=5)  # more room, English only
    chinese = await chat_agent(desk, team=team, capacity=1)
    async with desk.app.state.session_factory() as db:
        await set_presence(db, english, Presence.ONLINE, languages=["en"])
        await set_presence(db, chinese, Presence.ONLINE, languages=["zh-CN"])
        with pytest.raises(InvalidInput):
            await set_presence(db, chinese, Presence.ONLINE, languages=["fr"])
        await db.commit()
    await dispatch_team(runtime(desk), await _team_id(desk, team))
    assert (await load_chat(desk, chat_id)).offered_agent_id == chinese.id
    # With no speaker free, an English chat still goes to whoever is.
    _, english_chat = await visitor_chat(desk, lang="en")
    await queue_chat(desk, english_chat, team)
    async with desk.app.state.session_factory() as db:
        await set_presence(db, english, Presence.OFFLINE)
        await db.commit()
    other = await chat_agent(desk, team=team, capacity=2)
    async with desk.app.state.session_factory() as db:
        await set_presence(db, other, Presence.ONLINE, languages=["zh-CN"])
        await db.commit()
    await dispatch_team(runtime(desk), await _team_id(desk, team))
    assert (await load_chat(desk, english_chat)).offered_agent_id == other.id
