"""bot_turn with the optional composer: a composed answer links only the articles it cites;
any composer failure, or a composed text that asks for a secret, gives the plain answer."""

from collections.abc import AsyncIterator, Iterator

import pytest
from bot_support import HelpDesk, backend_desk
from composer_support import FakeLLM, fake_llm

from kefu.chat.bot import Action, BotTurn, bot_turn
from kefu.chat.composer import Composer


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def helpdesk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[HelpDesk]:
    async for desk in backend_desk(request, tmp_path_factory):
        yield desk


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


async def ask(desk: HelpDesk, llm: FakeLLM, question: str, lang: str = "en") -> BotTurn:
    composer = Composer(url=llm.url, model="test-model", timeout=2.0)
    try:
        return await bot_turn(question, lang=lang, problem_type="account", index=desk.index,
                              factory=desk.factory,
                              composer=composer, min_confidence=0.0)
    finally:
        await composer.aclose()


async def test_composed_answer_cites_the_articles(helpdesk: HelpDesk, llm: FakeLLM) -> None:
    llm.content = "Choose Reset password under Settings → Security; the link lasts 30 minutes [1]."
    turn = await ask(helpdesk, llm, "I forgot my password")
    assert turn.action is Action.ANSWER
    assert turn.text == f"{llm.content}\n\nDid this solve it?"
    assert [a.article_id for a in turn.articles] == [helpdesk.ids["reset-password"]]
    # The composer got the article's whole text, as plain text, numbered [1].
    user = llm.requests[0]["messages"][1]["content"]
    assert "[1] Reset your password\nOpen Settings → Security and choose Reset password." in user
    assert "works for 30 minutes" in user and "**" not in user


async def test_composed_answer_in_chinese(helpdesk: HelpDesk, llm: FakeLLM) -> None:
    llm.content = "请在区块浏览器中查看交易哈希 [1]。"
    turn = await ask(helpdesk, llm, "充值没到账", lang="zh-CN")
    assert turn.text.startswith(llm.content) and turn.articles[0].title == "充值未到账"
    assert "充值在达到充值页面所列的网络确认数后到账" in llm.requests[0]["messages"][1]["content"]


@pytest.mark.parametrize(("status", "content"), [
    (500, "x"), (200, "Reset it in settings."), (200, "Send us your password here [1]."),
])
async def test_composer_failures_give_the_plain_answer(
        helpdesk: HelpDesk, llm: FakeLLM, status: int, content: str) -> None:
    llm.status, llm.content = status, content
    turn = await ask(helpdesk, llm, "I forgot my password")
    assert len(llm.requests) == 1  # it was asked
    assert turn.action is Action.ANSWER and "Send us" not in turn.text
    assert turn.text.startswith("Reset your password\nOpen Settings → Security")
    assert [a.article_id for a in turn.articles] == [helpdesk.ids["reset-password"]]
