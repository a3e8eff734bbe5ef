"""The chat bot's decision for one customer message, while the bot owns the chat.

`bot_turn` decides and phrases; it changes nothing. The chat service acts on the result
(posts the text, hands over, makes the case urgent for the security team) inside its
owner check, so the bot can never speak after a handover.

In order, first match wins:
1. a security or fund-loss intent (账户被盗, hacked …) → "security": skip the bot, urgent;
2. "is this official?" about a URL, address, @handle, phone or agent ID → "official",
   answered from the official-channel registry;
3. a request for a person (转人工, "talk to a person" …) → "handoff", reason "asked";
4. the help centre: the best article not already offered in this chat, when its
   confidence reaches the bot's operating point → "answer"; else "handoff",
   reason "low_confidence".

Every text goes through the outbound secret check before it is returned; a text that
fails it is never sent (a composed answer falls back to the plain one, a plain answer
becomes a handoff with reason "blocked").
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.chat.composer import Composer, Source
from kefu.chat.intents import official_question, security_intent, wants_human
from kefu.core.i18n import normalise, translate
from kefu.kb.index import MIN_SHARE, ArticleHit, KbIndex
from kefu.kb.markdown import plain_text, shorten
from kefu.kb.queries import articles_by_ids
from kefu.security.channels import load_registry
from kefu.security.outbound import check_outbound
from kefu.security.verify import KIND_LABELS, WARNING_TEXT, VerifyResult, verify_claim

Factory = async_sessionmaker[AsyncSession]

# The bot answers when the best article's blended confidence reaches this; below it, a
# human takes over. The engine's own `declined` (calibrated to maximise right decisions,
# about 0.43-0.51 on Banking77) answers nearly every out-of-scope question too; it still
# vetoes an answer, but the bot's point is stricter: the highest threshold at which every
# held-out draw of Banking77 *train* still answered >= 85.5% of in-scope questions
# (docs/chat.md, "The bot").
BOT_MIN_CONFIDENCE = 0.88
MAX_LINKS = 3
ANSWER_CHARS = 280  # of the article's text in a plain answer
FREEZE_URL = "/portal/security/freeze"


class Action(StrEnum):
    ANSWER = "answer"
    HANDOFF = "handoff"
    SECURITY = "security"
    OFFICIAL = "official"


class Reason(StrEnum):
    ASKED = "asked"
    LOW_CONFIDENCE = "low_confidence"
    BLOCKED = "blocked"  # the answer failed the outbound secret check


@dataclass(frozen=True)
class ArticleLink:
    title: str
    url: str
    article_id: int


@dataclass(frozen=True)
class BotTurn:
    """What the bot does with one message. `text` is plain text in the chat's language;
    `articles` are the ones the text used (answers only); `check` is the official-channel
    result (official only); `confidence` is the help centre's for the article answered
    with, or the best one when handing over for low confidence."""

    action: Action
    text: str
    articles: tuple[ArticleLink, ...] = ()
    reason: Reason | None = None
    confidence: float = 0.0
    check: VerifyResult | None = None

    @property
    def ask_feedback(self) -> bool:
        """Whether the service asks "did this solve it?" (yes/no buttons)."""
        return self.action is Action.ANSWER


# English msgids; kefu.core.i18n.translate gives the zh-CN text (locale/zh_CN).
SOLVED_QUESTION = "Did this solve it?"
HANDOFF_ASKED = "I'm connecting you with a support agent. Please stay in this chat."
HANDOFF_UNSURE = ("I'm not sure I can answer this correctly, so I'm connecting you with a "
                  "support agent. Please stay in this chat.")
SECURITY_NOTICE = (
    "This looks urgent: I'm passing you straight to our security team. If someone else may "
    "have access to your account, freeze it now at %(url)s. Withdrawals, trading and logins "
    "stop until you contact us. Never share your password, 2FA codes or seed phrase with "
    "anyone.")
OFFICIAL_YES = "%(value)s is an official channel (%(kind)s)."
OFFICIAL_ADVICE = ("Even on an official channel, never share your password, 2FA codes, seed "
                   "phrase, private keys or API secret.")
OFFICIAL_LOOKALIKE = "Not official: this looks like an imitation"
OFFICIAL_LOOKALIKE_ADVICE = ("Do not sign in, pay, or share anything there. Report it to us "
                             "through a security request.")
OFFICIAL_NO = "is not in our list. Treat messages from it as a possible scam."


def handoff_text(lang: str, reason: Reason) -> str:
    return translate(lang, HANDOFF_ASKED if reason is Reason.ASKED else HANDOFF_UNSURE)


def security_text(lang: str) -> str:
    return translate(lang, SECURITY_NOTICE) % {"url": FREEZE_URL}


async def bot_turn(question: str, *, lang: str, problem_type: str, index: KbIndex,
                   factory: Factory, offered: Collection[int] = (),
                   composer: Composer | None = None,
                   min_confidence: float = BOT_MIN_CONFIDENCE) -> BotTurn:
    """The bot's reply to `question` (already through the inbound secret guard).

    `offered`: articles this chat already offered that did not help; they are not offered
    again. `problem_type` is the customer's choice in the widget; the help centre's search
    ranks the same without it (it is the service's routing key on handover).
    """
    lang = normalise(lang)
    if security_intent(question):
        return _checked(BotTurn(Action.SECURITY, security_text(lang)), lang)
    claim = official_question(question)
    if claim is not None:
        turn = await _official(claim, lang, factory)
        if turn is not None:
            return _checked(turn, lang)
    if wants_human(question):
        return _handoff(lang, Reason.ASKED)
    return await _answer(question, lang, index, factory, offered, composer, min_confidence)


def _handoff(lang: str, reason: Reason, confidence: float = 0.0) -> BotTurn:
    return BotTurn(Action.HANDOFF, handoff_text(lang, reason), reason=reason,
                   confidence=confidence)


def _checked(turn: BotTurn, lang: str) -> BotTurn:
    """`turn`, or a handoff when its text asks the customer for a secret."""
    if check_outbound(turn.text).blocked:
        return _handoff(lang, Reason.BLOCKED, turn.confidence)
    return turn


async def _official(claim: str, lang: str, factory: Factory) -> BotTurn | None:
    async with factory() as db:
        registry = await load_registry(db=db)
    result = verify_claim(claim, registry)
    if result.verdict == "invalid":
        return None  # not something the registry can judge: answer as a question
    return BotTurn(Action.OFFICIAL, official_text(result, lang), check=result)


def official_text(result: VerifyResult, lang: str) -> str:
    """The registry's verdict as one chat message (the same texts as /verify)."""
    if result.official and result.match is not None:
        match = result.match
        said = translate(lang, OFFICIAL_YES) % {
            "value": match.display or match.value,
            "kind": translate(lang, KIND_LABELS[match.kind])}
        return f"{said} {translate(lang, OFFICIAL_ADVICE)}"
    if result.warnings:
        first = result.warnings[0]
        why = translate(lang, WARNING_TEXT[first.code]) % {"official": first.similar_to}
        return (f"{result.normalised}: {translate(lang, OFFICIAL_LOOKALIKE)}. {why} "
                f"{translate(lang, OFFICIAL_LOOKALIKE_ADVICE)}")
    return f"{result.normalised} {translate(lang, OFFICIAL_NO)}"


async def _answer(question: str, lang: str, index: KbIndex, factory: Factory,
                  offered: Collection[int], composer: Composer | None,
                  min_confidence: float) -> BotTurn:
    found = await index.answer(factory, question, limit=len(offered) + MAX_LINKS)
    fresh = [hit for hit in found.hits if hit.article_id not in offered]
    # The engine's decision still vetoes its own best article (a help centre whose
    # calibration came out stricter than the bot's point).
    vetoed = found.declined and bool(fresh) and fresh[0] is found.hits[0]
    if not fresh or vetoed or fresh[0].score < min_confidence:
        return _handoff(lang, Reason.LOW_CONFIDENCE, fresh[0].score if fresh else 0.0)
    if composer is not None:
        composed = await _composed(question, lang, fresh, factory, composer)
        if composed is not None and not check_outbound(composed.text).blocked:
            return composed
    return _checked(_plain(fresh[0], lang), lang)


def _link(hit: ArticleHit, lang: str) -> ArticleLink:
    title = hit.card.shown_in(lang)[0]
    return ArticleLink(title, f"/help/articles/{hit.card.slug}?lang={lang}", hit.article_id)


def _plain(hit: ArticleHit, lang: str) -> BotTurn:
    """The best article's title and the start of its text, with its link."""
    title, _, excerpt, _ = hit.card.shown_in(lang)
    summary = f"{title}\n{shorten(excerpt, ANSWER_CHARS)}" if excerpt else title
    return BotTurn(Action.ANSWER, f"{summary}\n\n{translate(lang, SOLVED_QUESTION)}",
                   (_link(hit, lang),), confidence=hit.score)


async def _composed(question: str, lang: str, hits: Sequence[ArticleHit], factory: Factory,
                    composer: Composer) -> BotTurn | None:
    """The composer's answer from the best articles (those with a real share of the score),
    linking only the ones it cites."""
    used = [hits[0]] + [h for h in hits[1:MAX_LINKS] if h.score >= MIN_SHARE]
    sources = await _sources(factory, used, lang)
    composed = await composer.compose(question, sources, lang)
    if composed is None:
        return None
    links = tuple(_link(used[n - 1], lang) for n in composed.cited)
    return BotTurn(Action.ANSWER, f"{composed.text}\n\n{translate(lang, SOLVED_QUESTION)}",
                   links, confidence=hits[0].score)


async def _sources(factory: Factory, hits: Sequence[ArticleHit], lang: str) -> list[Source]:
    """The articles' whole text in the reader's language (else the other one), numbered
    in rank order; an article unpublished since the index saw it is left out."""
    async with factory() as db:
        articles = await articles_by_ids(db, [h.article_id for h in hits])
    sources = []
    for number, hit in enumerate(hits, start=1):
        article = articles.get(hit.article_id)
        if article is not None and article.versions:
            version = article.best_version(lang)
            sources.append(Source(number, version.title, plain_text(version.body)))
    return sources
