import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import tiny_train_csv
from kefu.cli import app


def test_eval_retrieval_heldout_flag_never_reads_test(tmp_path: Path) -> None:
    train = tiny_train_csv(tmp_path)
    result = CliRunner().invoke(app, ["eval", "retrieval", "--train", str(train),
                                      "--test", str(tmp_path / "missing.csv"), "--heldout"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout.strip().splitlines()[-1])
    assert res["split"] == "heldout" and res["n"] == 2
