"""Evaluation of the secret guard: recall, false positives on real support text, latency.

Positives are generated (`guard_samples`); a positive counts as caught only when its
kind is reported AND every piece of secret material is inside a mask. Negatives are
ordinary customer-support messages: Banking77 (English) and AFQMC (Chinese); any
finding in them is a false positive.
"""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from kefu.core.datasets import shared_data_dir
from kefu.security.guard import GuardResult, mask_secrets
from kefu.security.guard_samples import Sample, positives

DEFAULT_DATA_DIR = shared_data_dir()


def negatives(data_dir: Path) -> Iterator[str]:
    """Every Banking77 `text` (train + test) and AFQMC dev sentence1/sentence2."""
    for name in ("train.csv", "test.csv"):
        with (data_dir / "banking77" / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                yield row["text"]
    with (data_dir / "afqmc" / "dev.json").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                pair = json.loads(line)
                yield pair["sentence1"]
                yield pair["sentence2"]


def caught(sample: Sample, result: GuardResult) -> bool:
    """The sample's kind was reported and every secret span lies inside some finding."""
    if sample.kind not in result.kinds:
        return False
    return all(
        any(f.start <= start and end <= f.end for f in result.findings)
        for start, end in sample.spans
    )


def _timed(text: str, latencies: list[float]) -> GuardResult:
    started = time.perf_counter()
    result = mask_secrets(text)
    latencies.append((time.perf_counter() - started) * 1000)
    return result


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def evaluate_guard(data_dir: Path, *, seed: int = 7) -> dict[str, float | int]:
    """Recall (overall and per kind), false-positive rate and p95 latency in ms."""
    mask_secrets("warm up 1234")  # load word lists outside the timed calls
    latencies: list[float] = []
    hits: dict[str, list[bool]] = defaultdict(list)
    for sample in positives(seed):
        hits[sample.kind].append(caught(sample, _timed(sample.text, latencies)))
    texts = list(negatives(data_dir))
    false_positives = sum(_timed(text, latencies).masked for text in texts)
    all_hits = [h for kind_hits in hits.values() for h in kind_hits]
    report: dict[str, float | int] = {
        "recall": round(sum(all_hits) / len(all_hits), 4),
        "false_positive_rate": round(false_positives / len(texts), 5),
        "n_pos": len(all_hits),
        "n_neg": len(texts),
        "false_positives": false_positives,
        "p95_ms": round(_p95(latencies), 3),
    }
    for kind in sorted(hits):
        report[f"recall_{kind}"] = round(sum(hits[kind]) / len(hits[kind]), 4)
    return report


def main() -> None:
    """Print the evaluation of the shared data set as one JSON line."""
    print(json.dumps(evaluate_guard(DEFAULT_DATA_DIR)))


if __name__ == "__main__":
    main()
