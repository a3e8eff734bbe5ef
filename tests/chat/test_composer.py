"""The optional composer against a loopback OpenAI-compatible server: a grounded answer, or
None on every kind of failure (the bot then sends its plain answer)."""

import socket
import time
from collections.abc import Iterator

import pytest
from composer_support import FakeLLM, fake_llm

from kefu.chat.composer import NO_ANSWER, Composer, Source
from kefu.core.settings import Settings

SOURCES = [Source(1, "Reset your password", "Open Settings → Security, choose Reset."),
           Source(2, "Two-factor authentication", "Turn on 2FA under Security.")]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


def composer(llm: FakeLLM, timeout: float = 2.0) -> Composer:
    return Composer(url=llm.url, model="test-model", key="sk-test", timeout=timeout)


async def test_a_grounded_answer_with_its_citations(llm: FakeLLM) -> None:
    llm.content = "Open Settings → Security and choose Reset [1]. Then turn on 2FA [2][1]."
    client = composer(llm)
    composed = await client.compose("how do I reset my password", SOURCES, "en")
    await client.aclose()
    assert composed is not None and composed.cited == (1, 2)
    assert composed.text == llm.content
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "test-model"
    assert request["temperature"] == 0
    system, user = request["messages"]
    assert system["role"] == "system" and "ONLY" in system["content"]
    assert "English" in system["content"]
    assert "[1] Reset your password" in user["content"]
    assert "[2] Two-factor authentication" in user["content"]
    assert user["content"].endswith("Customer question: how do I reset my password")
    assert llm.headers[0]["Authorization"] == "Bearer sk-test"


async def test_chinese_is_asked_for_in_chinese(llm: FakeLLM) -> None:
    llm.content = "打开设置中的安全页面重置密码 [1]。"
    composed = await composer(llm).compose("怎么重置密码", SOURCES, "zh-CN")
    assert composed is not None and composed.cited == (1,)
    assert "Simplified Chinese" in llm.requests[0]["messages"][0]["content"]


@pytest.mark.parametrize("content", [
    "Open Settings and choose Reset.",  # cites nothing: not known to come from the articles
    "See article [3] for this.",  # cites an article it was not given
    NO_ANSWER,
    "   ",
    "x [1]" * 400,  # longer than a chat answer
])
async def test_unusable_answers_are_none(llm: FakeLLM, content: str) -> None:
    llm.content = content
    assert await composer(llm).compose("reset password", SOURCES, "en") is None


@pytest.mark.parametrize(("status", "raw"), [
    (500, None), (429, None), (200, b"not json"), (200, b'{"choices": []}'),
    (200, b'{"choices": [{"message": {"content": null}}]}'),
])
async def test_server_failures_are_none(llm: FakeLLM, status: int, raw: bytes | None) -> None:
    llm.status, llm.raw = status, raw
    assert await composer(llm).compose("reset password", SOURCES, "en") is None


async def test_a_slow_server_is_given_up_on_time(llm: FakeLLM) -> None:
    llm.delay = 1.5
    started = time.perf_counter()
    assert await composer(llm, timeout=0.3).compose("reset password", SOURCES, "en") is None
    assert time.perf_counter() - started < 1.2


async def test_nothing_listening_is_none() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = Composer(url=f"http://127.0.0.1:{port}/v1", model="m", timeout=1.0)
    assert await client.compose("reset password", SOURCES, "en") is None
    assert await client.compose("reset password", [], "en") is None


def test_off_unless_configured() -> None:
    assert Composer.from_settings(Settings(environment="test")) is None
    assert Composer.from_settings(Settings(environment="test",
                                           chat_composer_url="http://127.0.0.1:9/v1")) is None
    on = Composer.from_settings(Settings(
        environment="test", chat_composer_url="http://127.0.0.1:9/v1/",
        chat_composer_model="qwen2.5-7b-instruct", chat_composer_timeout_seconds=2.5))
    assert on is not None and on.endpoint == "http://127.0.0.1:9/v1/chat/completions"
    assert on.model == "qwen2.5-7b-instruct" and on.timeout == 2.5
