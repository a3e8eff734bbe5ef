"""`kefu bench index`: build time, query latency and memory for a large help centre.

Synthetic articles are assembled from real support questions (Banking77: five example
questions and a ~600-character body each, half of them tagged Chinese), then indexed the
way the server indexes the help centre (`kefu.kb.index`): every document embedded, then
the classifier head trained on the example questions when the centre is small enough.
"""

import json
import random
import resource
import time
from pathlib import Path
from typing import Any

from kefu.core.datasets import shared_data_dir
from kefu.kb.eval import load_labelled_csv
from kefu.kb.index import train_head
from kefu.kb.search.engine import SearchEngine


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


def run_index_bench(*, articles: int = 10_000, seed: int = 0) -> dict[str, Any]:
    rows = load_labelled_csv(str(shared_data_dir() / "banking77" / "train.csv"))
    rng = random.Random(seed)  # noqa: S311 (reproducible sample, not a secret)
    engine = SearchEngine()
    engine.answer("warm up")  # load the model before the clock starts
    labelled: list[tuple[str, str]] = []
    started = time.perf_counter()
    for i in range(articles):
        questions = [rng.choice(rows)[0] for _ in range(5)]
        body = " ".join(rng.choice(rows)[0] for _ in range(8))
        lang = "zh-CN" if i % 2 else "en"
        title = f"Article {i}" if lang == "en" else f"文章 {i} 充值未到账 提币"
        engine.add_document(f"a{i}", lang=lang, title=title, body=body, questions=questions)
        labelled.extend((q, f"a{i}") for q in questions)
    engine.flush()
    embedded_s = time.perf_counter() - started
    head = train_head(engine, labelled)
    build_s = time.perf_counter() - started
    latencies = []
    for query, _ in rows[:300]:
        began = time.perf_counter()
        engine.answer(query)
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    result = {
        "articles": articles, "head": head, "embed_s": round(embedded_s, 1),
        "build_s": round(build_s, 1),
        "p50_ms": round(latencies[150], 2), "p95_ms": round(latencies[285], 2),
        "rss_mb": round(_rss_mb()), "max_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result))
    return result
