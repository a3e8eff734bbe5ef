"""`kefu bench tickets` end to end: a real uvicorn subprocess on a fresh SQLite, tiny numbers."""

import json

import pytest

from kefu.bench.load import encode_bodies, percentile
from kefu.bench.tickets import run_bench
from kefu.tickets.schemas import ApiTicketCreate

KEYS = {"creates_per_s", "p50_ms", "p99_ms", "db", "clients", "requests", "errors",
        "server_workers"}


def _bench(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    returned = run_bench(url="", db="sqlite", clients=2, requests=20, server_workers=1, token="",
                         warmup=5)
    lines = capsys.readouterr().out.strip().splitlines()
    figures: dict[str, object] = json.loads(lines[-1])
    assert figures == returned
    return figures


@pytest.mark.timeout(120)  # the server warms its help-centre index first
def test_bench_tickets_sqlite_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    figures = _bench(capsys)
    assert figures.keys() >= KEYS
    assert figures["errors"] == 0
    assert isinstance(figures["creates_per_s"], float) and figures["creates_per_s"] > 0
    assert (figures["db"], figures["clients"], figures["requests"], figures["server_workers"]) \
        == ("sqlite", 2, 20, 1)
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]  # type: ignore[operator]


def test_bench_bodies_are_valid_and_varied() -> None:
    bodies = [json.loads(b) for b in encode_bodies(0, 300, seed=1, run="t")]
    for body in bodies:
        ApiTicketCreate.model_validate(body)
    assert len({b["contact_email"] for b in bodies}) == 300
    assert len({b["category"] for b in bodies}) >= 6
    assert len({b["subject"] for b in bodies}) > 50
    narrowed = [json.loads(b) for b in encode_bodies(0, 50, 1, "t", categories=["api"])]
    assert {b["category"] for b in narrowed} == {"api"}


def test_percentile_nearest_rank() -> None:
    values = [float(x) for x in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0
