"""`kefu bench chat` end to end: a real uvicorn subprocess on a fresh SQLite, tiny numbers;
and the accounting that turns frames into lost and duplicated."""

import json

import pytest

from kefu.bench.chat import run_chat_bench, sample_questions
from kefu.bench.chat_load import ChatBenchConfig
from kefu.bench.chat_tally import Customer, RelayLedger, Tally

HEADLINE = {"connections", "msgs_per_s", "bot_reply_p50_ms", "bot_reply_p99_ms",
            "relay_p99_ms", "lost", "duplicated", "rss_mb"}
PARAMETERS = {"connections_asked", "seconds", "bot_rate", "relay_rate", "drop_share",
              "db", "client_processes"}


@pytest.mark.timeout(300)  # the server builds its help-centre index before it serves
def test_bench_chat_sqlite_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    config = ChatBenchConfig(connections=20, seconds=4, bot_rate=5, relay_rate=20,
                             relay_chats=4, drop_share=0.25, drain_seconds=15)
    returned = run_chat_bench(config)
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures == returned
    assert figures.keys() >= HEADLINE | PARAMETERS
    assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
    assert figures["connections"] == 20 and figures["drops"] == 5
    assert figures["bot_replies_timed"] > 0 and figures["bot_unanswered"] == 0
    assert figures["relay_timed"] + figures["relay_untimed"] == figures["relay_messages"] > 0
    assert 0 < figures["bot_reply_p50_ms"] <= figures["bot_reply_p99_ms"]
    assert figures["relay_p99_ms"] > 0 and figures["rss_mb"] > 0
    assert (figures["db"], figures["agents"], figures["relay_chats"]) == ("sqlite", 1, 4)


def _message(seq: int, author: str = "customer", client_id: str | None = None
             ) -> dict[str, object]:
    return {"type": "message", "message": {"seq": seq, "author": author,
                                           "client_id": client_id}}


def test_a_repeated_seq_or_client_id_counts_as_duplicated() -> None:
    tally, customer = Tally(), Customer("t", 1, relay=False)
    customer.on_frame(_message(1, "system"), tally)
    customer.on_frame(_message(2, client_id="q1"), tally)
    customer.on_frame(_message(2, client_id="q9"), tally)  # seq again
    customer.on_frame(_message(3, client_id="q1"), tally)  # client id again
    assert tally.duplicated == {"seq": 1, "client_id": 1}
    assert customer.last_seq == 3


def test_lost_is_what_was_sent_and_never_came_back() -> None:
    tally, customer = Tally(), Customer("t", 1, relay=False)
    customer.send("q1", "hello")
    customer.send("q2", "again")
    customer.on_frame(_message(2, client_id="q1"), tally)
    assert customer.missing() == 1 and list(customer.pending) == ["q2"]
    customer.expected.add("agent-a1")
    assert customer.replies_missing() == 1


def test_a_bot_reply_is_timed_only_on_the_socket_that_asked() -> None:
    tally, customer = Tally(), Customer("t", 1, relay=False)
    customer.generation = 1
    customer.ask("q1", "how do I top up?")
    customer.on_frame(_message(2, client_id="q1"), tally)  # the echo is not the answer
    assert customer.waiting is not None
    customer.on_frame(_message(3, "bot"), tally)
    customer.ask("q2", "and now?")
    customer.generation = 2  # dropped and reconnected before the answer
    customer.on_frame(_message(4, "system"), tally)
    assert len(tally.bot_latencies) == 1 and tally.bot_untimed == 1


def test_a_handover_frees_the_chat_from_bot_questions() -> None:
    tally, customer = Tally(), Customer("t", 1, relay=False)
    customer.ws = object()  # type: ignore[assignment]
    assert customer.free_for_bot
    customer.on_frame({"type": "chat", "chat": {"owner": "queue"}}, tally)
    assert not customer.free_for_bot and tally.handovers == 1


def test_the_relay_ledger_times_counts_twice_seen_and_undelivered() -> None:
    tally, ledger = Tally(), RelayLedger()
    ledger.sent("r1", 7)
    ledger.sent("r2", 7)
    ledger.sent("r3", 8)
    ledger.untime(["r3"], tally)
    assert ledger.received(7, "r1", 5, tally)
    assert not ledger.received(7, "r1", 5, tally)
    assert ledger.received(8, "r3", 2, tally)
    assert tally.duplicated == {"agent": 1} and tally.relay_untimed == 1
    assert len(tally.relay_latencies) == 1 and ledger.undelivered() == 1


def test_questions_are_a_fixed_sample_of_banking77_test() -> None:
    first, again = sample_questions(50, seed=3), sample_questions(50, seed=3)
    assert first == again and len(set(first)) == 50
    assert sample_questions(50, seed=4) != first


def test_a_message_read_back_after_a_reload_is_delivered_but_not_a_duplicate() -> None:
    tally, ledger = Tally(), RelayLedger()
    ledger.sent("r1", 7)
    ledger.caught_up(7, "r1", 4, tally)
    assert ledger.undelivered() == 0 and tally.relay_untimed == tally.relay_caught_up == 1
    ledger.caught_up(7, "r1", 4, tally)  # read again: still one message, nothing doubled
    assert ledger.received(7, "r1", 4, tally)  # then its frame, late: one frame, no double
    assert not ledger.received(7, "r1", 4, tally)  # a second frame is
    assert tally.duplicated == {"agent": 1} and tally.relay_caught_up == 1
