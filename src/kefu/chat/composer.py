"""The optional composer: an OpenAI-compatible chat-completions endpoint (OpenAI, or a
self-hosted model behind vLLM, llama.cpp, Ollama …) phrases the bot's answer strictly
from the help-centre articles retrieval found, citing them as [1], [2].

Off by default (`KEFU_CHAT_COMPOSER_URL` unset) and never required: every failure
(connection, timeout, HTTP error, a malformed body, an answer that cites nothing or cites
an article it was not given, the model saying it cannot answer) returns None, and the bot
sends its plain retrieval answer instead. Only the customer's question and the articles'
text are sent; the question has been through the inbound secret guard before it gets here.
"""

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from kefu.core.settings import Settings

log = structlog.get_logger(__name__)

NO_ANSWER = "NO_ANSWER"
MAX_SOURCE_CHARS = 3_000  # per article: the answer is two or three sentences
MAX_ANSWER_CHARS = 1_200
MAX_TOKENS = 300
_CITATION = re.compile(r"\[(\d{1,2})\]")
_LANGUAGE_NAMES = {"zh-CN": "Simplified Chinese", "en": "English"}

SYSTEM_PROMPT = (
    "You are the support assistant of a cryptocurrency exchange. Answer the customer's "
    "question using ONLY the numbered help-centre articles given to you. Cite every article "
    "you use as [1], [2] right after the sentence that uses it. If the articles do not "
    f"answer the question, reply with exactly {NO_ANSWER}. Do not add facts, links, fees or "
    "time limits that are not in the articles. Never ask the customer for a password, 2FA "
    "code, seed phrase, private key or API secret. Reply in {language}, in at most three "
    "short sentences, as plain text without Markdown."
)


@dataclass(frozen=True)
class Source:
    """One retrieved article as the composer sees it; `number` is its citation."""

    number: int
    title: str
    text: str


@dataclass(frozen=True)
class Composed:
    text: str
    cited: tuple[int, ...]  # the source numbers the answer cites, in order of first use


def messages_for(question: str, sources: list[Source], lang: str) -> list[dict[str, str]]:
    articles = "\n\n".join(f"[{s.number}] {s.title}\n{s.text[:MAX_SOURCE_CHARS]}"
                           for s in sources)
    language = _LANGUAGE_NAMES.get(lang, "English")
    return [
        {"role": "system", "content": SYSTEM_PROMPT.replace("{language}", language)},
        {"role": "user", "content": f"Articles:\n\n{articles}\n\nCustomer question: {question}"},
    ]


def read_answer(body: Any, sources: list[Source]) -> Composed | None:
    """The answer in a chat-completions response body, if it is grounded in `sources`."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(content, str):
        return None
    text = content.strip()
    if not text or NO_ANSWER in text or len(text) > MAX_ANSWER_CHARS:
        return None
    given = {s.number for s in sources}
    cited = tuple(dict.fromkeys(int(n) for n in _CITATION.findall(text)))
    if not cited or not set(cited) <= given:
        return None  # uncited text is not known to come from the articles
    return Composed(text, cited)


class Composer:
    """One client per process; `transport` is for tests."""

    def __init__(self, *, url: str, model: str, key: str | None = None,
                 timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Composer | None":
        """None unless a URL and a model are configured (the composer is optional)."""
        if not settings.chat_composer_url or not settings.chat_composer_model:
            return None
        return cls(url=settings.chat_composer_url, model=settings.chat_composer_model,
                   key=settings.chat_composer_key,
                   timeout=settings.chat_composer_timeout_seconds)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self._transport,
                                             headers=self._headers)
        return self._client

    async def compose(self, question: str, sources: list[Source], lang: str
                      ) -> Composed | None:
        """The answer phrased from `sources`, or None on any failure (never raises)."""
        if not sources:
            return None
        payload = {"model": self.model, "temperature": 0, "max_tokens": MAX_TOKENS,
                   "messages": messages_for(question, sources, lang)}
        try:
            # One deadline for the whole exchange: httpx's timeout is per read, and a
            # server that trickles bytes would otherwise hold the customer for long.
            async with asyncio.timeout(self.timeout):
                response = await self._http().post(self.endpoint, json=payload)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError, TimeoutError) as exc:
            log.warning("chat_composer_failed", error=type(exc).__name__)
            return None
        composed = read_answer(body, sources)
        if composed is None:
            log.info("chat_composer_unusable")
        return composed

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
