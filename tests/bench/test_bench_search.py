"""`kefu bench search` runs the real index and query path over the demo help centre."""

from kefu.bench.search import run_search_bench


def test_bench_search_reports_real_figures() -> None:
    result = run_search_bench(repeat=1)
    assert result["documents"] >= 120  # 60+ articles in two languages
    assert result["queries"] == 16 and result["p95_ms"] > 0
    assert result["top3"] >= 0.75  # honest floor: these queries are not article examples


def test_distinct_queries_are_each_asked_once_in_both_languages() -> None:
    from kefu.bench.search import _distinct_queries

    queries = _distinct_queries(20)
    assert len(queries) == len(set(queries)) == 40
    assert any("\u4e00" <= ch <= "\u9fff" for ch in queries[-1])  # the AFQMC half is Chinese
    assert queries[0].isascii()


def test_steal_share_is_read_from_the_cpu_counters() -> None:
    from kefu.bench.search import _cpu_steal, _steal_share

    assert _steal_share((10, 1000), (30, 1200)) == 10.0
    assert _steal_share(None, (30, 1200)) is None
    assert _steal_share((10, 1000), (10, 1000)) is None  # no time passed
    reading = _cpu_steal()
    if reading is not None:  # Linux
        steal, total = reading
        assert 0 <= steal <= total
