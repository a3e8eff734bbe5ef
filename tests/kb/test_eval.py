from pathlib import Path

import pytest

from conftest import tiny_train_csv
from kefu.kb import eval as kb_eval

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BANKING = DATA / "banking77"


def test_helpers() -> None:
    assert kb_eval.humanise("card_arrival") == "Card arrival"
    assert kb_eval.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    acc, t = kb_eval.best_threshold_accuracy([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])
    assert acc == 1.0 and t == 0.8


def test_csv_loader_accepts_label_or_category(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text('text,label\n"hi, there",greet\nbye,oos\n', encoding="utf-8")
    assert kb_eval.load_labelled_csv(p) == [("hi, there", "greet"), ("bye", "oos")]
    q = tmp_path / "b.csv"
    q.write_text("text,category\nx,y\n", encoding="utf-8")
    assert kb_eval.load_labelled_csv(q) == [("x", "y")]
    bad = tmp_path / "c.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError):
        kb_eval.load_labelled_csv(bad)


def test_oos_metrics(tmp_path: Path) -> None:
    train = [(f"how do i reset my {w} password", "pw") for w in ("login", "account", "web")]
    train += [(f"where is my {w} deposit", "dep") for w in ("usdt", "btc", "eth")]
    test = [("reset my password", "pw"), ("deposit missing", "dep"), ("🙂", "oos")]
    res = kb_eval.evaluate_retrieval(train, test)
    assert res["n"] == 3 and res["oos_recall"] == 1.0
    assert res["top1"] is not None and res["top1"] >= 0.5


@pytest.mark.skipif(not BANKING.exists(), reason="shared Banking77 data not present")
def test_banking77_slice_well_above_chance() -> None:
    train = kb_eval.load_labelled_csv(BANKING / "train.csv")
    labels = sorted({lab for _, lab in train})[:10]
    train = [r for r in train if r[1] in labels][:600]
    test = [r for r in kb_eval.load_labelled_csv(BANKING / "test.csv") if r[1] in labels][:150]
    res = kb_eval.evaluate_retrieval(train, test)
    assert res["oos_recall"] is None
    assert res["top1"] > 0.6  # chance is 0.1


@pytest.mark.skipif(not (DATA / "afqmc").exists(), reason="shared AFQMC data not present")
def test_afqmc_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert kb_eval.main(["retrieval", "--dataset", "afqmc", "--data-dir", str(DATA),
                         "--limit", "200", "--no-progress"]) == 0
    import json

    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["n"] == 200 and 0.5 < res["auc"] <= 1.0


def test_heldout_split_is_fixed_stratified_and_disjoint() -> None:
    train = [(f"question {label} {i}", label) for label in "abc" for i in range(20)]
    fit_rows, held = kb_eval.heldout_split(train)
    assert kb_eval.heldout_split(train) == (fit_rows, held)
    assert len(held) == 9 and {lab for _, lab in held} == {"a", "b", "c"}
    assert not set(fit_rows) & set(held) and len(fit_rows) + len(held) == len(train)


def test_heldout_mode_never_reads_test(tmp_path: Path) -> None:
    train = tiny_train_csv(tmp_path)
    res = kb_eval.run(train=str(train), test=str(tmp_path / "missing.csv"), heldout=True,
                      progress=False)
    assert res["split"] == "heldout" and res["n"] == 2
