"""The bot's decision for one message, on a tiny help centre in SQLite and PostgreSQL."""

from collections.abc import AsyncIterator

import pytest
from bot_support import HelpDesk, backend_desk

from kefu.chat.bot import (
    BOT_MIN_CONFIDENCE,
    FREEZE_URL,
    Action,
    BotTurn,
    Reason,
    bot_turn,
    handoff_text,
    security_text,
)
from kefu.security.outbound import check_outbound


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def helpdesk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[HelpDesk]:
    async for desk in backend_desk(request, tmp_path_factory):
        yield desk


async def ask(desk: HelpDesk, question: str, *, lang: str = "en", offered: tuple[int, ...] = (),
              min_confidence: float = 0.0) -> BotTurn:
    # The lexical engine's confidences are not the embedder's: the operating point is
    # given here so that these tests are about the decision path, not the threshold.
    return await bot_turn(question, lang=lang, problem_type="account", index=desk.index,
                          factory=desk.factory, offered=offered,
                          min_confidence=min_confidence)


async def test_answers_from_the_help_centre_with_a_link(helpdesk: HelpDesk) -> None:
    turn = await ask(helpdesk, "I forgot my password, how do I reset it?")
    assert turn.action is Action.ANSWER and turn.reason is None and turn.ask_feedback
    assert [a.article_id for a in turn.articles] == [helpdesk.ids["reset-password"]]
    link = turn.articles[0]
    assert link.title == "Reset your password"
    assert link.url == "/help/articles/reset-password?lang=en"
    # Plain text from the article (no Markdown), then the question.
    assert "Open Settings → Security and choose Reset password." in turn.text
    assert "**" not in turn.text and turn.text.endswith("Did this solve it?")
    assert 0.0 < turn.confidence <= 1.0


async def test_answers_in_the_chats_language(helpdesk: HelpDesk) -> None:
    turn = await ask(helpdesk, "充值没到账怎么办", lang="zh-CN")
    assert turn.action is Action.ANSWER
    assert turn.articles[0].title == "充值未到账"
    assert turn.articles[0].url == "/help/articles/deposit-not-credited?lang=zh-CN"
    assert "区块浏览器" in turn.text and turn.text.endswith("这个回答解决您的问题了吗？")
    # An article with no Chinese version is shown in English, with a Chinese frame.
    turn = await ask(helpdesk, "change language", lang="zh")
    assert turn.articles[0].title == "Change the language"
    assert turn.text.endswith("这个回答解决您的问题了吗？")


async def test_no_gets_another_article_not_the_same_one(helpdesk: HelpDesk) -> None:
    question = "where is my deposit"
    first = await ask(helpdesk, question)
    assert first.articles[0].article_id == helpdesk.ids["deposit-not-credited"]
    second = await ask(helpdesk, question, offered=(first.articles[0].article_id,))
    assert second.action is Action.ANSWER
    assert second.articles[0].article_id != first.articles[0].article_id
    assert second.confidence < first.confidence
    # At the bot's operating point a weak second-best is a handoff, not a guess.
    weak = await bot_turn(question, lang="en", problem_type="other", index=helpdesk.index,
                          factory=helpdesk.factory,
                          offered=set(helpdesk.ids.values()) - {helpdesk.ids["change-language"]},
                          min_confidence=max(BOT_MIN_CONFIDENCE, second.confidence + 1e-6))
    assert weak.action is Action.HANDOFF and weak.reason is Reason.LOW_CONFIDENCE
    assert weak.articles == ()


async def test_low_confidence_hands_over(helpdesk: HelpDesk) -> None:
    turn = await ask(helpdesk, "🙂🙂")  # nothing to search for
    assert turn.action is Action.HANDOFF and turn.reason is Reason.LOW_CONFIDENCE
    assert turn.text == handoff_text("en", Reason.LOW_CONFIDENCE)
    strict = await ask(helpdesk, "where is my deposit", min_confidence=1.01)
    assert strict.action is Action.HANDOFF and strict.reason is Reason.LOW_CONFIDENCE
    assert strict.confidence > 0  # the best article's, for the agent's summary
    every = tuple(helpdesk.ids.values())
    exhausted = await ask(helpdesk, "where is my deposit", offered=every)
    assert exhausted.action is Action.HANDOFF and exhausted.reason is Reason.LOW_CONFIDENCE


@pytest.mark.parametrize(("text", "lang"), [
    ("转人工", "zh-CN"), ("人 工 客 服", "zh-CN"), ("where is my deposit? talk to a person", "en"),
])
async def test_asking_for_a_human_hands_over(helpdesk: HelpDesk, text: str, lang: str) -> None:
    turn = await ask(helpdesk, text, lang=lang)
    assert turn.action is Action.HANDOFF and turn.reason is Reason.ASKED
    assert turn.text == handoff_text(lang, Reason.ASKED) and turn.articles == ()


async def test_security_intent_skips_the_bot(helpdesk: HelpDesk) -> None:
    turn = await ask(helpdesk, "my account was hacked, where is my deposit?")
    assert turn.action is Action.SECURITY and turn.articles == () and turn.reason is None
    assert FREEZE_URL in turn.text and turn.text == security_text("en")
    zh = await ask(helpdesk, "我的账户被盗了，转人工", lang="zh-CN")
    assert zh.action is Action.SECURITY and "冻结" in zh.text and FREEZE_URL in zh.text


async def test_official_questions_use_the_registry(helpdesk: HelpDesk) -> None:
    yes = await ask(helpdesk, "is ＠KefuExchange official?")
    assert yes.action is Action.OFFICIAL and yes.check is not None and yes.check.official
    assert "@KefuExchange is an official channel (Telegram)." in yes.text
    fake = await ask(helpdesk, "这个是官方的吗 kefu-example.com", lang="zh-CN")
    assert fake.action is Action.OFFICIAL and fake.check is not None
    assert fake.check.verdict == "lookalike" and "非官方" in fake.text
    unknown = await ask(helpdesk, "is @random_helper_desk legit")
    assert unknown.check is not None and unknown.check.verdict == "not_official"
    assert unknown.text.startswith("@random_helper_desk is not in our list.")


async def test_a_reply_asking_for_a_secret_is_never_sent(helpdesk: HelpDesk) -> None:
    turn = await ask(helpdesk, "identity check by chat")
    assert turn.action is Action.HANDOFF and turn.reason is Reason.BLOCKED
    assert "2FA" not in turn.text and turn.articles == ()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_fixed_texts_pass_the_outbound_check_and_are_translated(lang: str) -> None:
    texts = [security_text(lang), handoff_text(lang, Reason.ASKED),
             handoff_text(lang, Reason.LOW_CONFIDENCE)]
    assert not any(check_outbound(t).blocked for t in texts)
    chinese = [any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts]
    assert chinese == [lang == "zh-CN"] * 3


async def test_the_engines_own_decline_still_vetoes(helpdesk: HelpDesk) -> None:
    engine = helpdesk.index.engine
    assert engine is not None
    calibrated, engine.threshold = engine.threshold, 1.01  # a help centre stricter than the bot
    try:
        turn = await ask(helpdesk, "I forgot my password, how do I reset it?")
    finally:
        engine.threshold = calibrated
    assert turn.action is Action.HANDOFF and turn.reason is Reason.LOW_CONFIDENCE
