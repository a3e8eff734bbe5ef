"""`kefu eval bot`: every test question through the bot's real decision path.

A help centre is built from TRAIN (one article per label, its rows as the article's example
questions, as `kefu eval retrieval` does) in a temporary SQLite desk, indexed by the
server's `KbIndex`, and each TEST question goes through `bot_turn`: the intents, the
official-channel check on that desk's (empty) registry, the index and the bot's operating
point. An answer is right when its article is the question's label.

Out of scope: `--leave-out N` removes N labels (a seeded choice, printed) from the help
centre; their test questions become `oos`, as do rows already labelled `oos`. For them
the right move is to hand over.

`--heldout` never reads TEST: it answers a fixed stratified 15% of TRAIN with the help
centre built from the rest (kefu.kb.eval.heldout_split), and prints, beside the figures at
the bot's operating point, the same figures for a range of confidence thresholds. The
bot's threshold (`kefu.chat.bot.BOT_MIN_CONFIDENCE`) is chosen there.
"""

import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kefu.chat.bot import BOT_MIN_CONFIDENCE, Action, BotTurn, Factory, Reason, bot_turn
from kefu.core.clock import utcnow
from kefu.core.db import make_engine, make_session_factory
from kefu.core.migrate import upgrade
from kefu.kb.eval import _percentile, heldout_split, humanise, load_labelled_csv
from kefu.kb.index import KbIndex
from kefu.kb.models import ArticleStatus, KbArticle, KbArticleVersion, KbCategory
from kefu.kb.search.engine import SearchEngine
from kefu.kb.search.text import detect_lang
from kefu.kb.search.training import OOS_LABELS

Row = tuple[str, str]
OOS = "oos"
LEAVE_OUT_SEED = 77
SWEEP = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96)
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def left_out_labels(train: Iterable[Row], n: int, seed: int = LEAVE_OUT_SEED) -> list[str]:
    """N in-scope labels chosen by a seeded draw over the sorted label set."""
    labels = sorted({label for _, label in train if label not in OOS_LABELS})
    if n > len(labels) - 2:
        raise ValueError(f"--leave-out {n}: the help centre needs at least 2 of "
                         f"{len(labels)} labels")
    return sorted(random.Random(seed).sample(labels, n))  # noqa: S311 - not security


def scoped(train: list[Row], test: list[Row], left_out: Collection[str]
           ) -> tuple[list[Row], list[Row]]:
    """(help-centre rows, test rows with out-of-scope labels as `oos`)."""
    kb = [(t, label) for t, label in train if label not in left_out and label not in OOS_LABELS]
    marked = [(t, OOS if label in left_out or label in OOS_LABELS else label)
              for t, label in test]
    return kb, marked


def slug_for(label: str) -> str:
    return _SLUG_JUNK.sub("-", label.lower()).strip("-")[:100] or "article"


async def load_help_centre(factory: Factory, rows: Iterable[Row]) -> dict[int, str]:
    """One published article per label (title = humanised label, example questions = its
    rows, no body: as `kefu.kb.eval.build_engine`); returns article id -> label."""
    by_label: dict[str, list[str]] = {}
    for text, label in rows:
        by_label.setdefault(label, []).append(text)
    now = utcnow()
    async with factory() as db:
        category = KbCategory(slug="eval", title_en="Evaluation", title_zh="评测")
        db.add(category)
        articles = {}
        for label, questions in by_label.items():
            lang = detect_lang(" ".join(questions[:20]))
            version = KbArticleVersion(lang=lang, title=humanise(label), body="",
                                       questions=questions, updated_at=now)
            articles[label] = KbArticle(
                slug=slug_for(label), category=category, status=ArticleStatus.PUBLISHED,
                created_at=now, updated_at=now, published_at=now, versions=[version])
        db.add_all(articles.values())
        await db.commit()
        return {article.id: label for label, article in articles.items()}


@dataclass(frozen=True)
class Outcome:
    label: str  # the gold label, or OOS
    turn: BotTurn
    answered_label: str | None  # the label of the article answered with
    ms: float


async def _ask_all(index: KbIndex, factory: Factory, labels: dict[int, str], test: list[Row],
                   min_confidence: float, progress: bool) -> list[Outcome]:
    outcomes = []
    await bot_turn("warm up", lang="en", problem_type="other", index=index, factory=factory)
    for text, label in _progress(test, progress):
        started = time.perf_counter()
        turn = await bot_turn(text, lang="en", problem_type="other", index=index,
                              factory=factory, min_confidence=min_confidence)
        ms = (time.perf_counter() - started) * 1000
        answered = labels.get(turn.articles[0].article_id) if turn.articles else None
        outcomes.append(Outcome(label, turn, answered, ms))
    return outcomes


def _progress(rows: Sequence[Row], enabled: bool) -> Iterable[Row]:
    if not enabled:
        return rows
    from rich.console import Console
    from rich.progress import track

    return track(rows, description="bot", transient=True, console=Console(stderr=True))


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Shares of in-scope questions answered right / wrong / handed over, and of oos
    questions handed over; "official" turns are counted apart (neither)."""
    inscope = [o for o in outcomes if o.label != OOS]
    oos = [o for o in outcomes if o.label == OOS]
    right = sum(o.turn.action is Action.ANSWER and o.answered_label == o.label for o in inscope)
    wrong = sum(o.turn.action is Action.ANSWER and o.answered_label != o.label for o in inscope)
    handed = sum(_handed_over(o.turn) for o in inscope)
    oos_handed = sum(_handed_over(o.turn) for o in oos)
    actions = Counter(o.turn.action.value for o in outcomes)
    reasons = Counter(o.turn.reason.value for o in outcomes if o.turn.reason is not None)
    latencies = [o.ms for o in outcomes]
    return {
        "answered_correct": _share(right, len(inscope)),
        "answered_wrong": _share(wrong, len(inscope)),
        "handed_over": _share(handed, len(inscope)),
        "oos_handed_over": _share(oos_handed, len(oos)),
        "n": len(outcomes), "n_inscope": len(inscope), "n_oos": len(oos),
        "counts": {"answered_correct": right, "answered_wrong": wrong, "handed_over": handed,
                   "oos_handed_over": oos_handed, "oos_answered": len(oos) - oos_handed,
                   "actions": dict(sorted(actions.items())),
                   "reasons": dict(sorted(reasons.items()))},
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
    }


def _handed_over(turn: BotTurn) -> bool:
    return turn.action in (Action.HANDOFF, Action.SECURITY)


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def sweep(outcomes: Sequence[Outcome], thresholds: Iterable[float] = SWEEP
          ) -> list[dict[str, Any]]:
    """The figures had the bot answered at each threshold, from outcomes asked at
    threshold 0 (every question the intents left to the help centre was answered)."""
    rows = []
    for t in thresholds:
        figures = summarise(at_threshold(outcomes, t))
        rows.append({"threshold": t, **{k: figures[k] for k in (
            "answered_correct", "answered_wrong", "handed_over", "oos_handed_over")}})
    return rows


def at_threshold(outcomes: Sequence[Outcome], threshold: float) -> list[Outcome]:
    """Outcomes asked at threshold 0 as the bot would have decided at `threshold`: an
    answer below it becomes a low-confidence handoff."""
    decided = []
    for o in outcomes:
        if o.turn.action is Action.ANSWER and o.turn.confidence < threshold:
            turn = replace(o.turn, action=Action.HANDOFF, reason=Reason.LOW_CONFIDENCE,
                           articles=())
            o = replace(o, turn=turn, answered_label=None)
        decided.append(o)
    return decided


async def evaluate_bot(train: list[Row], test: list[Row], *, leave_out: int = 0,
                       seed: int = LEAVE_OUT_SEED, min_confidence: float = BOT_MIN_CONFIDENCE,
                       with_sweep: bool = False, lexical: bool = False,
                       progress: bool = False) -> dict[str, Any]:
    """Build the help centre from `train` in a temporary SQLite desk and ask `test`."""
    left = left_out_labels(train, leave_out, seed) if leave_out else []
    kb_rows, marked = scoped(train, test, left)
    with tempfile.TemporaryDirectory(prefix="kefu-eval-bot-") as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'eval.db'}")
        try:
            await upgrade(engine)
            factory = make_session_factory(engine)
            labels = await load_help_centre(factory, kb_rows)
            index = KbIndex(make_engine=_lexical if lexical else SearchEngine)
            started = time.perf_counter()
            await index.rebuild(factory)
            index_s = time.perf_counter() - started
            outcomes = await _ask_all(index, factory, labels, marked,
                                      0.0 if with_sweep else min_confidence, progress)
        finally:
            await engine.dispose()
    result = summarise(at_threshold(outcomes, min_confidence) if with_sweep else outcomes)
    result.update({"min_confidence": min_confidence, "left_out": left, "articles": len(labels),
                   "index_s": round(index_s, 2)})
    if with_sweep:
        result["sweep"] = sweep(outcomes)
    return result


def _lexical() -> SearchEngine:
    return SearchEngine(use_model=False)


def run(*, train: str, test: str | None, leave_out: int = 0, heldout: bool = False,
        limit: int | None = None, min_confidence: float = BOT_MIN_CONFIDENCE,
        lexical: bool = False, progress: bool = True) -> dict[str, Any]:
    """The CLI's entry: TRAIN and TEST CSVs (text,label), or TRAIN alone with `heldout`."""
    train_rows = load_labelled_csv(train)
    if heldout:
        fit, held = heldout_split(train_rows)
        result = asyncio.run(evaluate_bot(
            fit, held[:limit], leave_out=leave_out, min_confidence=min_confidence,
            with_sweep=True, lexical=lexical, progress=progress))
        return {"split": "heldout", **result}
    if not test:
        raise ValueError("give --test, or --heldout to evaluate on a held-out part of TRAIN")
    return asyncio.run(evaluate_bot(
        train_rows, load_labelled_csv(test, limit), leave_out=leave_out,
        min_confidence=min_confidence, lexical=lexical, progress=progress))
