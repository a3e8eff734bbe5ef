"""Evaluation of the secret guard: recall, false positives on real support text, latency.

Positives are generated (`guard_samples`); a positive counts as caught only when its
kind is reported AND every piece of secret material is inside a mask. Negatives are
ordinary customer-support messages: Banking77 (English) and AFQMC (Chinese); any
finding in them is a false positive. Two more generated sets, reported separately:
deposit/withdrawal messages carrying TxIDs, addresses, memos and order ids (any finding
is a false positive; `tx_heldout_*` covers only the templates held out from tuning,
`tx_fresh_*` templates written after the last change to the detector),
and private keys stated as keys inside such messages (`recall_key_in_tx_context`).
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
from kefu.security.guard_tx_samples import fresh_tx_messages, key_in_tx_context, tx_messages

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
    report.update(_transaction_report(seed, latencies))
    report["p95_ms"] = round(_p95(latencies), 3)
    return report


def _transaction_report(seed: int, latencies: list[float]) -> dict[str, float | int]:
    """False positives on the TxID messages (all, held-out templates, per language) and
    recall on keys stated as keys among them."""
    messages = tx_messages(seed)
    flagged = [_timed(m.text, latencies).masked for m in messages]
    held = [f for f, m in zip(flagged, messages, strict=True) if m.held_out]
    report: dict[str, float | int] = {
        "tx_false_positive_rate": round(sum(flagged) / len(flagged), 5),
        "tx_n_neg": len(flagged),
        "tx_false_positives": sum(flagged),
        "tx_heldout_false_positive_rate": round(sum(held) / len(held), 5),
        "tx_heldout_n_neg": len(held),
    }
    for lang in ("en", "zh"):
        part = [f for f, m in zip(flagged, messages, strict=True) if m.lang == lang]
        report[f"tx_false_positive_rate_{lang}"] = round(sum(part) / len(part), 5)
    fresh = [_timed(m.text, latencies).masked for m in fresh_tx_messages(seed)]
    report["tx_fresh_false_positive_rate"] = round(sum(fresh) / len(fresh), 5)
    report["tx_fresh_n_neg"] = len(fresh)
    keys = key_in_tx_context(seed)
    found = [caught(s, _timed(s.text, latencies)) for s in keys]
    report["recall_key_in_tx_context"] = round(sum(found) / len(found), 4)
    report["n_key_in_tx_context"] = len(found)
    return report


def main() -> None:
    """Print the evaluation of the shared data set as one JSON line."""
    print(json.dumps(evaluate_guard(DEFAULT_DATA_DIR)))


if __name__ == "__main__":
    main()
