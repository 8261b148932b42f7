"""Several writers pushing while a reader pulls: the reader must see every committed change,
each record's final version, in strictly increasing seq order and never a seq twice. This is
what the locked seq counter buys on PostgreSQL, where sequences commit out of order."""

from __future__ import annotations

import threading

import pytest
from server_support import (
    BACKENDS,
    DISTRICT,
    GRID,
    GRID_SAME_STREET,
    mutation,
    push,
    registry_for,
    site,
)

WRITERS, BATCHES, PER_BATCH = 4, 8, 10


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_writers_while_pulling(backend, tmp_path):
    with registry_for(backend, tmp_path) as reg:
        writers = [reg.user(f"w{n}", "worker", DISTRICT) for n in range(WRITERS)]
        reader = reg.user("reader", "supervisor", DISTRICT)
        final: dict[str, int] = {}  # record → version the writers were last told
        lock, errors = threading.Lock(), []

        def write(c, n: int) -> None:  # noqa: ANN001
            try:
                for b in range(BATCHES):
                    grid = GRID if (n + b) % 2 else GRID_SAME_STREET
                    creates = [mutation(fields=site(grid_code=grid, address=f"路{n}-{b}-{i}号"))
                               for i in range(PER_BATCH)]
                    results = push(c, *creates, fill=False)
                    # Touch half of them again, so records change after the reader saw them.
                    edits = [mutation("update", {"notes": f"第{b}批复核"}, m["record_id"],
                                      r["version"])
                             for m, r in zip(creates, results, strict=True)][::2]
                    results += push(c, *edits, fill=False)
                    with lock:
                        for m, r in zip(creates + edits, results, strict=True):
                            assert r["outcome"] == "applied", r
                            final[m["record_id"]] = r["version"]
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        seen: dict[str, int] = {}
        seqs: list[int] = []

        def drain(cursor: str | None) -> str | None:
            while True:
                page = reader.get("/api/v1/pull", params={"limit": 25, **(
                    {"cursor": cursor} if cursor else {})}).json()
                for ch in page["changes"]:
                    seqs.append(ch["seq"])
                    seen[ch["record_id"]] = ch["record"]["version"]
                cursor = page["cursor"]
                if not page["more"]:
                    return cursor

        threads = [threading.Thread(target=write, args=(c, n)) for n, c in enumerate(writers)]
        for t in threads:
            t.start()
        cursor = None
        while any(t.is_alive() for t in threads):
            cursor = drain(cursor)
        for t in threads:
            t.join()
        cursor = drain(cursor)
        assert not errors, errors[0]
        assert len(final) == WRITERS * BATCHES * PER_BATCH
        assert seqs == sorted(set(seqs)), "a seq was seen twice or out of order"
        assert seen.keys() == final.keys()
        assert all(seen[k] == final[k] for k in final), "a pulled record is not its last state"
        # Every change took one seq (seq 1 loaded the demo areas) and the cursor ends at the last.
        changes_total = len(final) + WRITERS * BATCHES * (PER_BATCH // 2)
        assert int(cursor.rsplit(":", 1)[1]) == max(seqs) == changes_total + 1
