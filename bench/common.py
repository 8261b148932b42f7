"""Shared benchmark helpers: timing statistics, result rows, building a 100,000-record store."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    figure: str
    measured: str
    baseline: str  # the limit it is compared with, measured in the same run
    goal: str
    ok: bool | None  # None: no verdict (informational)

    def cells(self) -> list[str]:
        verdict = {True: "✓", False: "✗", None: "·"}[self.ok]
        return [self.figure, self.measured, self.baseline, self.goal, verdict]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def build_store(folder: Path, records: int):
    """A store with demo areas and `records` demo records (made once, reused if present)."""
    from fieldapp.demo import populate
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    folder.mkdir(parents=True, exist_ok=True)
    conn = connect(folder / "fieldapp.sqlite3")
    store = RecordStore(conn, user="bench")
    if store.count_all() < records:
        # Drafts and submissions only: the sync figures push these records as a worker.
        populate(store, records - store.count_all(), statuses=("draft", "submitted"))
    store.set_setting("current_user", "bench")
    return store
