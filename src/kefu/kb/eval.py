"""Evaluation harness for the knowledge-base search engine.

Everything goes through the production path (``SearchEngine.add_document``,
``fit_head``, ``answer``), so the numbers describe what the help centre and the
bot actually do. Data stays in the shared data directory; nothing is copied.

CLI (to be wired as ``kefu eval retrieval``)::

    python -m kefu.kb.eval retrieval --train TRAIN.csv --test TEST.csv
    python -m kefu.kb.eval retrieval --dataset banking77 --data-dir ../shared/data
    python -m kefu.kb.eval retrieval --dataset afqmc --data-dir ../shared/data
    python -m kefu.kb.eval retrieval --dataset banking77 --heldout

``--heldout`` never reads TEST: it evaluates on a fixed stratified 15% of TRAIN
(seed 0) with the engine built from the rest. Tune on that; report TEST last.

The last printed line is the JSON result.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kefu.core.datasets import shared_data_dir
from kefu.kb.search.engine import SearchEngine
from kefu.kb.search.text import detect_lang
from kefu.kb.search.training import OOS_LABELS, stratified_split

Row = tuple[str, str]
T = TypeVar("T")
DEFAULT_DATA_DIR = shared_data_dir()


def load_labelled_csv(path: str | Path, limit: int | None = None) -> list[Row]:
    """Read ``text,label`` (or Banking77's ``text,category``) rows."""
    rows: list[Row] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        label_col = next((c for c in ("label", "category", "intent") if c in fields), None)
        if "text" not in fields or label_col is None:
            raise ValueError(f"{path}: need columns text and label/category, got {fields}")
        for rec in reader:
            rows.append((rec["text"], rec[label_col]))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def humanise(label: str) -> str:
    """``card_arrival`` → ``Card arrival``."""
    text = label.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _progress(items: Sequence[T], label: str, enabled: bool) -> Iterator[T]:
    if not enabled:
        yield from items
        return
    from rich.progress import track

    yield from track(items, description=label, transient=True, console=_stderr_console())


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def build_engine(train: Iterable[Row], engine: SearchEngine | None = None) -> SearchEngine:
    """One article per label: title = humanised label, example questions = its rows."""
    engine = engine if engine is not None else SearchEngine()
    by_label: dict[str, list[str]] = {}
    for text, label in train:
        if label not in OOS_LABELS:
            by_label.setdefault(label, []).append(text)
    for label, questions in by_label.items():
        lang = detect_lang(" ".join(questions[:20]))
        engine.add_document(label, lang=lang, title=humanise(label), body="", questions=questions)
    return engine


HELDOUT_SHARE = 0.15
HELDOUT_SEED = 0


def heldout_split(train: list[Row]) -> tuple[list[Row], list[Row]]:
    """(fit rows, held-out rows): a fixed stratified 15% of TRAIN for model selection."""
    return stratified_split(train, HELDOUT_SHARE, HELDOUT_SEED)


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def evaluate_retrieval(
    train: list[Row],
    test: list[Row],
    *,
    engine: SearchEngine | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Top-1/top-3 accuracy, out-of-scope decline quality and latency on ``test``."""
    t0 = time.perf_counter()
    engine = build_engine(train, engine)
    engine.flush()
    t_index = time.perf_counter() - t0
    fit = engine.fit_head(train)
    t_fit = time.perf_counter() - t0 - t_index
    engine.answer("warm up")  # first-call costs (jieba dictionary, BLAS) are not per-query
    top1 = top3 = declined = declined_oos = n_oos = n_in = 0
    latencies: list[float] = []
    for text, label in _progress(test, "answering", progress):
        start = time.perf_counter()
        ans = engine.answer(text, limit=3)
        latencies.append((time.perf_counter() - start) * 1000)
        ids = [h.doc_id for h in ans.hits]
        is_oos = label in OOS_LABELS
        n_oos += is_oos
        declined += ans.declined
        declined_oos += ans.declined and is_oos
        if not is_oos:
            n_in += 1
            top1 += bool(ids) and ids[0] == label
            top3 += label in ids[:3]
    return {
        "n": len(test),
        "top1": round(top1 / n_in, 4) if n_in else None,
        "top3": round(top3 / n_in, 4) if n_in else None,
        "declined_rate": round(declined / len(test), 4) if test else 0.0,
        "oos_recall": round(declined_oos / n_oos, 4) if n_oos else None,
        "oos_precision": round(declined_oos / declined, 4) if n_oos and declined else None,
        "threshold": round(engine.threshold, 4),
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "index_s": round(t_index, 2),
        "fit_head_s": round(t_fit, 2),
        "calibration": fit.get("calibration"),
        "model": _model_names(engine),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _model_names(engine: SearchEngine) -> str | None:
    names = [m.name for m in (engine.embedder, engine.english) if m is not None]
    return " + ".join(names) or None


def load_afqmc(path: str | Path, limit: int | None = None) -> list[tuple[str, str, int]]:
    """AFQMC JSON lines: sentence1, sentence2, label "0"/"1"."""
    pairs: list[tuple[str, str, int]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                pairs.append((rec["sentence1"], rec["sentence2"], int(rec["label"])))
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Mann–Whitney ROC AUC with average ranks for ties (no sklearn needed)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return 0.5
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def best_threshold_accuracy(scores: Sequence[float], labels: Sequence[int]) -> tuple[float, float]:
    """(accuracy, threshold) of the best single cut ``score >= t → same meaning``."""
    pairs = sorted(zip(scores, labels, strict=True), reverse=True)
    correct = len(labels) - sum(labels)  # threshold above everything: all "different"
    best, best_t = correct, float("inf")
    for s, y in pairs:
        correct += 1 if y else -1
        if correct > best:
            best, best_t = correct, s
    return best / len(labels) if labels else 0.0, best_t


def evaluate_afqmc(
    path: str | Path,
    *,
    engine: SearchEngine | None = None,
    limit: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """ROC AUC of the engine's similarity score on AFQMC sentence pairs."""
    engine = engine if engine is not None else SearchEngine()
    pairs = load_afqmc(path, limit)
    scores = [engine.similarity(a, b) for a, b, _ in _progress(pairs, "afqmc", progress)]
    labels = [y for _, _, y in pairs]
    acc, threshold = best_threshold_accuracy(scores, labels)
    return {
        "n": len(pairs),
        "auc": round(roc_auc(scores, labels), 4),
        "best_threshold_accuracy": round(acc, 4),
        "threshold": round(threshold, 4),
        "model": _model_names(engine),
    }


def run(
    *,
    train: str | None = None,
    test: str | None = None,
    dataset: str | None = None,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    limit: int | None = None,
    progress: bool = True,
    heldout: bool = False,
) -> dict[str, Any]:
    """Entry point for the CLI: a CSV pair or a named dataset under ``data_dir``.

    ``heldout``: evaluate on the held-out split of TRAIN instead of TEST.
    """
    data = Path(data_dir)
    if dataset == "afqmc":
        return evaluate_afqmc(data / "afqmc" / "dev.json", limit=limit, progress=progress)
    if dataset == "banking77":
        train = str(data / "banking77" / "train.csv")
        test = str(data / "banking77" / "test.csv")
    elif dataset is not None:
        raise ValueError(f"unknown dataset {dataset!r} (banking77, afqmc)")
    if heldout and train:
        fit_rows, held = heldout_split(load_labelled_csv(train))
        result = evaluate_retrieval(fit_rows, held[:limit], progress=progress)
        return {"split": "heldout", **result}
    if not train or not test:
        raise ValueError("give --train and --test, or --dataset")
    return evaluate_retrieval(
        load_labelled_csv(train), load_labelled_csv(test, limit), progress=progress
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kefu eval")
    parser.add_argument("what", choices=["retrieval"])
    parser.add_argument("--train")
    parser.add_argument("--test")
    parser.add_argument("--dataset", choices=["banking77", "afqmc"])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--limit", type=int, help="evaluate only the first N test rows")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--heldout", action="store_true",
        help="evaluate on a fixed stratified 15%% of TRAIN (for tuning); TEST is not read",
    )
    args = parser.parse_args(argv)
    try:
        result = run(
            train=args.train, test=args.test, dataset=args.dataset, data_dir=args.data_dir,
            limit=args.limit, progress=not args.no_progress, heldout=args.heldout,
        )
    except (OSError, ValueError) as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
