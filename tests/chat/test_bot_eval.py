"""`kefu eval bot`: the plumbing on tiny CSVs with a lexical engine (the Banking77 figures
come from the real engine; docs/chat.md)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from kefu.chat.bot import Action, BotTurn, Reason
from kefu.chat.bot_eval import (
    OOS,
    Outcome,
    at_threshold,
    left_out_labels,
    scoped,
    summarise,
    sweep,
)
from kefu.cli import app

TOPICS = {"pw": "how do i reset my {} password", "dep": "where is my {} deposit",
          "lang": "how to change the {} language", "fee": "what is the {} withdrawal fee"}
WORDS = ("login", "web", "app", "pc", "mac", "ios", "tablet", "email", "phone", "api")


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), "utf-8")
    return path


def train_csv(tmp_path: Path) -> Path:
    rows = [(pattern.format(w), label) for label, pattern in TOPICS.items() for w in WORDS]
    return write_csv(tmp_path / "train.csv", rows)


def test_eval_bot_prints_its_figures_last(tmp_path: Path) -> None:
    test = write_csv(tmp_path / "test.csv", [
        ("reset my password please", "pw"), ("my usdt deposit is missing", "dep"),
        ("change site language", "lang"), ("withdrawal fee for btc", "fee"),
        ("转人工", "pw"), ("my account was hacked", "dep"), ("what is the weather", "oos")])
    result = CliRunner().invoke(app, ["eval", "bot", "--train", str(train_csv(tmp_path)),
                                      "--test", str(test), "--leave-out", "1", "--lexical"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout.strip().splitlines()[-1])
    left = res["left_out"]
    assert len(left) == 1 and f"Left out of the help centre: {left[0]}" in result.stdout
    assert res["articles"] == 3 and res["n"] == 7
    assert (res["n_inscope"], res["n_oos"]) == (5, 2)  # the left-out label's row + "oos"
    counts = res["counts"]
    assert counts["actions"]["security"] == 1 and counts["reasons"]["asked"] == 1
    assert counts["answered_correct"] + counts["answered_wrong"] + counts["handed_over"] == 5
    assert res["handed_over"] >= 0.4  # at least the two intents
    assert 0 <= res["oos_handed_over"] <= 1 and res["p95_ms"] >= res["p50_ms"] > 0


def test_heldout_never_reads_test_and_sweeps(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "bot", "--train", str(train_csv(tmp_path)),
                                      "--test", str(tmp_path / "missing.csv"), "--heldout",
                                      "--lexical"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout.strip().splitlines()[-1])
    assert res["split"] == "heldout" and res["n"] == 4  # 15% of 10 rows per label
    thresholds = [row["threshold"] for row in res["sweep"]]
    assert thresholds == sorted(thresholds) and thresholds[0] == 0.0
    handed = [row["handed_over"] for row in res["sweep"]]
    assert handed == sorted(handed)  # a higher threshold never answers more


def test_missing_test_file_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "bot", "--train", str(train_csv(tmp_path)),
                                      "--test", str(tmp_path / "missing.csv"), "--lexical"])
    assert result.exit_code == 2


def test_left_out_labels_are_a_seeded_choice() -> None:
    rows = [(f"q{i}", f"label{i % 20}") for i in range(100)] + [("hi", "oos")]
    first = left_out_labels(rows, 5)
    assert first == left_out_labels(list(reversed(rows)), 5)  # the row order does not matter
    assert len(set(first)) == 5 and "oos" not in first
    assert left_out_labels(rows, 5, seed=1) != first
    kb, marked = scoped(rows, [("x", first[0]), ("y", "label_kept"), ("z", "oos")], first)
    assert not {label for _, label in kb} & set(first) and ("hi", "oos") not in kb
    assert [label for _, label in marked] == [OOS, "label_kept", OOS]


def _outcome(label: str, action: Action, answered: str | None, confidence: float) -> Outcome:
    reason = Reason.LOW_CONFIDENCE if action is Action.HANDOFF else None
    return Outcome(label, BotTurn(action, "", reason=reason, confidence=confidence),
                   answered, 1.0)


def test_summary_and_threshold_sweep_arithmetic() -> None:
    outcomes = [
        _outcome("a", Action.ANSWER, "a", 0.9), _outcome("a", Action.ANSWER, "b", 0.4),
        _outcome("b", Action.SECURITY, None, 0.0), _outcome("b", Action.HANDOFF, None, 0.1),
        _outcome(OOS, Action.ANSWER, "a", 0.6), _outcome(OOS, Action.HANDOFF, None, 0.2),
    ]
    res = summarise(outcomes)
    assert (res["answered_correct"], res["answered_wrong"], res["handed_over"]) == \
        (0.25, 0.25, 0.5)
    assert res["oos_handed_over"] == 0.5 and res["counts"]["oos_answered"] == 1
    raised = summarise(at_threshold(outcomes, 0.5))
    assert (raised["answered_correct"], raised["answered_wrong"]) == (0.25, 0.0)
    assert raised["oos_handed_over"] == 0.5
    rows = {row["threshold"]: row for row in sweep(outcomes, (0.0, 0.5, 0.7, 0.95))}
    assert rows[0.7]["oos_handed_over"] == 1.0 and rows[0.95]["answered_correct"] == 0.0
