"""What readers do with articles: views, votes, deflections and proposed example questions.

Readers are anonymous, so these verbs are not audited (they would flood the audit log);
author decisions on proposed questions are.
"""

import copy
import hashlib
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import events
from kefu.core.audit import Ref, record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput, NotFound
from kefu.kb.models import (
    KB_LANGUAGES,
    KbArticle,
    KbArticleView,
    KbDeflection,
    KbProposedQuestion,
    KbVote,
    ProposalStatus,
)
from kefu.kb.service import enqueue_reindex

# A ticket filed within this window after opening a suggestion means it did not help.
DEFLECTION_WINDOW = timedelta(minutes=30)
QUESTION_PROPOSED = "kb.question_proposed"


def record_view(db: AsyncSession, *, article: KbArticle, lang: str) -> None:
    db.add(KbArticleView(article_id=article.id, lang=lang, at=utcnow()))


def voter_key(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


async def vote(db: AsyncSession, *, article: KbArticle, voter: str, helpful: bool) -> None:
    """One vote per visitor: voting again replaces the earlier vote (and its time)."""
    key = voter_key(voter)
    found = (await db.execute(select(KbVote).where(
        KbVote.article_id == article.id, KbVote.voter == key))).scalar_one_or_none()
    if found is None:
        db.add(KbVote(article_id=article.id, voter=key, helpful=helpful, at=utcnow()))
    else:
        found.helpful, found.at = helpful, utcnow()


async def record_deflection(db: AsyncSession, *, article: KbArticle, customer_id: int) -> None:
    """Note that a customer opened this article from the ticket form. Re-opening it within
    the window is the same event, so reloads do not inflate the count."""
    since = utcnow() - DEFLECTION_WINDOW
    recent = (await db.execute(select(func.count(KbDeflection.id)).where(
        KbDeflection.article_id == article.id, KbDeflection.customer_id == customer_id,
        KbDeflection.opened_at >= since))).scalar_one()
    if not recent:
        db.add(KbDeflection(article_id=article.id, customer_id=customer_id, opened_at=utcnow()))


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


async def propose_example_question(*, db: AsyncSession, article_slug: str, lang: str,
                                   question: str, source: str = "bot"
                                   ) -> KbProposedQuestion | None:
    """Called by the bot when a trader confirms an answer solved their question.

    Returns None when the article already lists the question or it is already pending.
    """
    text = " ".join(question.split())[:300]
    if lang not in KB_LANGUAGES or not text:
        raise InvalidInput("A proposed question needs a known language and some text.")
    article = (await db.execute(select(KbArticle).where(KbArticle.slug == article_slug))
               ).scalar_one_or_none()
    if article is None:
        raise NotFound()
    version = article.version(lang)
    known = {_normal(q) for q in (version.questions if version else [])}
    pending = (await db.execute(select(KbProposedQuestion.question).where(
        KbProposedQuestion.article_id == article.id,
        KbProposedQuestion.status == ProposalStatus.PENDING))).scalars().all()
    if _normal(text) in known | {_normal(q) for q in pending}:
        return None
    proposal = KbProposedQuestion(article_id=article.id, lang=lang, question=text,
                                  source=source[:32], status=ProposalStatus.PENDING,
                                  created_at=utcnow())
    db.add(proposal)
    events.emit(db, QUESTION_PROPOSED, slug=article.slug, lang=lang)
    return proposal


def _add_to_pending(article: KbArticle, lang: str, question: str) -> None:
    """An accepted question also joins a draft of changes, or publishing the draft would
    drop it again."""
    versions = (article.pending or {}).get("versions", {})
    if lang not in versions or not article.pending:
        return
    questions = versions[lang].get("questions", [])
    if _normal(question) not in {_normal(q) for q in questions}:
        # A new dict, so SQLAlchemy sees the JSON column change.
        pending = copy.deepcopy(article.pending)
        pending["versions"][lang]["questions"] = [*questions, question]
        article.pending = pending


async def decide_proposal(*, db: AsyncSession, actor: Ref, agent_id: int,
                          proposal: KbProposedQuestion, accept: bool) -> None:
    """Accepting adds the question to the article's version in that language (creating no
    version: a question without an article text in that language has nothing to answer)."""
    if proposal.status != ProposalStatus.PENDING:
        raise InvalidInput("This question was already decided.")
    article = proposal.article
    version = article.version(proposal.lang)
    if accept:
        if version is None:
            raise InvalidInput("The article has no version in this language yet.")
        if _normal(proposal.question) not in {_normal(q) for q in version.questions}:
            # A new list, so SQLAlchemy sees the JSON column change.
            version.questions = [*version.questions, proposal.question]
            version.updated_at = utcnow()
        _add_to_pending(article, proposal.lang, proposal.question)
        await enqueue_reindex(db, [article.id])
    proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED
    proposal.decided_at, proposal.decided_by = utcnow(), agent_id
    record(db, actor=actor, action="kb.question_accepted" if accept else "kb.question_rejected",
           target=("kb_article", article.slug), detail={"lang": proposal.lang})
