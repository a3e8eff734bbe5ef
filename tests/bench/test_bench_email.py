"""`kefu bench email` end to end: a real receiver and worker on a fresh SQLite, tiny numbers."""

from pathlib import Path

from kefu.bench.email import corpus, run_email_bench
from kefu.channels.email.parser import parse

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "data" / "email_fixtures"


def test_bench_email_sqlite_end_to_end() -> None:
    result = run_email_bench(db="sqlite", messages=30, connections=2, workers=1,
                             kill_worker=False, fixtures=FIXTURES)
    assert result["acknowledged"] == 30 and result["lost"] == 0
    assert sum(result["statuses"].values()) == 30 and result["statuses"]["processed"] >= 15
    assert result["msgs_per_s"] > 0 and result["p99_ingest_to_ticket_ms"] > 0


def test_bench_corpus_mixes_fixtures_new_mail_and_replies() -> None:
    mails = corpus(FIXTURES, 60, "mail.example", "support@bench.example")
    parsed = [parse(m) for m in mails]
    assert len({p.message_id for p in parsed}) == 60  # nothing is a duplicate by accident
    assert sum(1 for p in parsed if p.in_reply_to) >= 15
    assert any("充值" in p.subject or "提现" in p.subject for p in parsed)
