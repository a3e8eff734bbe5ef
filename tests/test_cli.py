import json
from pathlib import Path

from typer.testing import CliRunner

from kefu.cli import app


def test_eval_retrieval_heldout_flag_never_reads_test(tmp_path: Path) -> None:
    words = ("login", "web", "app", "pc", "mac", "ios", "tablet", "email", "phone", "api")
    rows = [(f"how do i reset my {w} password", "pw") for w in words]
    rows += [(f"where is my {w} deposit", "dep") for w in words]
    train = tmp_path / "train.csv"
    train.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), "utf-8")
    result = CliRunner().invoke(app, ["eval", "retrieval", "--train", str(train),
                                      "--test", str(tmp_path / "missing.csv"), "--heldout"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout.strip().splitlines()[-1])
    assert res["split"] == "heldout" and res["n"] == 2
