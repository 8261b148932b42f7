"""Store-layer figures: search over 100,000 sites, saving one record."""

from __future__ import annotations

import time
import uuid

from bench.common import Row, median, ms, percentile, timed

QUERIES = {
    "1-char Chinese": ["养", "路", "托", "门"],
    "2-char Chinese": ["养老", "托育", "门面", "天平", "助餐"],
    "3-char Chinese": ["天平路", "养老服", "宝宝屋", "物业管"],
    "ASCII / digits": ["12", "1", "a3", "101"],
}


def search_rows(store, repeat: int = 15) -> list[Row]:
    from fieldapp.store.records import Query

    rows = []
    # Baseline: the unfiltered first page, read straight off an index.
    bare = timed(lambda: store.query(Query(kind="site"), limit=50), 50)
    baseline = f"unsearched page {ms(median(bare))}"
    for label, words in QUERIES.items():
        samples = []
        for word in words:
            samples += timed(lambda w=word: store.query(Query(kind="site", search=w), limit=50),
                             repeat)
        p95 = percentile(samples, 95)
        rows.append(Row(f"search {label} (first page of 50)",
                        f"median {ms(median(samples))}, p95 {ms(p95)}", baseline,
                        "p95 ≤ 30 ms", p95 <= 0.030))
    counts = []
    for words in QUERIES.values():
        for word in words:
            counts += timed(lambda w=word: store.count(Query(kind="site", search=w), cap=10000), 3)
    rows.append(Row("search result count (capped at 10,000, off the UI thread)",
                    f"median {ms(median(counts))}, p95 {ms(percentile(counts, 95))}", "",
                    "informational", None))
    return rows


def save_rows(store, repeat: int = 200) -> list[Row]:
    from fieldapp.demo import DemoMaker

    maker = DemoMaker(seed=99)
    sites = [maker.site() for _ in range(repeat)]
    samples = []
    for data in sites:
        data = {k: v for k, v in data.items() if v not in ("", None)}
        start = time.perf_counter()
        store.save("site", data)
        samples.append(time.perf_counter() - start)
    store.conn.execute("CREATE TABLE IF NOT EXISTS bench_bare(id TEXT, data TEXT)")

    def bare_insert():
        store.conn.execute("BEGIN IMMEDIATE")
        store.conn.execute("INSERT INTO bench_bare VALUES (?, ?)", (str(uuid.uuid4()), "x" * 900))
        store.conn.execute("COMMIT")

    bare = timed(bare_insert, repeat)
    store.conn.execute("DROP TABLE bench_bare")
    return [Row("save one site (record + search terms + outbox + history)",
                f"median {ms(median(samples))}, p95 {ms(percentile(samples, 95))}",
                f"bare 1-row commit {ms(median(bare))}", "median ≤ 5 ms",
                median(samples) <= 0.005)]
