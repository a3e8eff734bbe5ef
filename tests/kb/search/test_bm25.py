from kefu.kb.search.bm25 import BM25Index


def test_incremental_add_remove_replace() -> None:
    idx = BM25Index()
    idx.add("a", ["deposit", "usdt", "arrive"])
    idx.add("b", ["withdraw", "fee"])
    assert idx.search(["deposit"])[0][0] == "a"
    idx.add("c", ["deposit", "fee", "fee"])
    assert {k for k, _ in idx.search(["fee"])} == {"b", "c"}
    assert idx.remove("c") and not idx.remove("c")
    assert [k for k, _ in idx.search(["fee"])] == ["b"]
    idx.add("a", ["kyc"])  # replace: old terms gone
    assert idx.search(["deposit"]) == []
    assert len(idx) == 2 and "a" in idx


def test_rare_terms_weigh_more_and_stats_stay_consistent() -> None:
    idx = BM25Index()
    for i in range(10):
        idx.add(f"d{i}", ["card"] + (["freeze"] if i == 3 else []))
    assert idx.idf("freeze") > idx.idf("card") > 0
    assert idx.search(["card", "freeze"])[0][0] == "d3"
    for i in range(10):
        idx.remove(f"d{i}")
    assert len(idx) == 0 and idx.search(["card"]) == []
    assert idx._total_len == 0 and not idx._postings


def test_scores_of_given_keys_equal_the_full_scores() -> None:
    idx = BM25Index()
    for i in range(40):
        idx.add(f"d{i}", ["card"] * (1 + i % 3) + (["freeze"] if i % 7 == 0 else [])
                + ["fee"] * (i % 2))
    query = ["card", "freeze", "fee", "fee", "unknown"]
    full = idx.scores(query)
    few = ["d7", "d1", "missing"]  # shorter than the postings: walks the keys
    many = [f"d{i}" for i in range(40)] + ["missing"]  # longer: walks the postings
    repeated = ["d7", "d7", "d14"]
    for keys in (few, many, repeated):
        assert idx.score_keys(query, keys) == [full.get(k, 0.0) for k in keys]
