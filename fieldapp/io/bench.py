"""Import benchmark: rows per second of `import_file` against a bare sqlite3 executemany of the
same rows into a plain table, both on real files (`python -m fieldapp.io.bench 100000`).

The rows are demo sites written as a user's spreadsheet would hold them (Chinese headers and
labels). The bare baseline reads the same CSV and inserts every cell as text into a table with
one column per header, in one transaction: the fastest any importer could store those rows.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fieldapp.demo import DemoMaker, demo_areas
from fieldapp.domain.records import SPECS
from fieldapp.io.exporter import display_value
from fieldapp.io.importer import BATCH_ROWS, import_file
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore


@dataclass
class BenchResult:
    rows: int
    import_seconds: float
    bare_seconds: float
    added: int
    import_cpu: float = 0.0  # process CPU seconds: steadier than wall time on a busy machine
    bare_cpu: float = 0.0

    @property
    def import_rate(self) -> float:
        return self.rows / self.import_seconds

    @property
    def bare_rate(self) -> float:
        return self.rows / self.bare_seconds

    @property
    def ratio(self) -> float:
        return self.import_rate / self.bare_rate

    @property
    def cpu_ratio(self) -> float:
        return self.bare_cpu / self.import_cpu if self.import_cpu else 0.0

    def line(self) -> str:
        return (f"{self.rows:,} rows: import {self.import_rate:,.0f} rows/s "
                f"({self.import_seconds:.2f}s wall, {self.import_cpu:.2f}s CPU), bare "
                f"executemany {self.bare_rate:,.0f} rows/s ({self.bare_seconds:.2f}s wall, "
                f"{self.bare_cpu:.2f}s CPU); ratio {self.ratio:.1%} wall, "
                f"{self.cpu_ratio:.1%} CPU")


def write_sites_csv(path: Path, n: int, seed: int = 11) -> None:
    maker = DemoMaker(seed)
    specs = SPECS["site"]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([s.zh for s in specs])
        for number in range(n):
            data = maker.site()
            data["external_id"] = f"B{number:07d}"  # unique, like a street office's own numbers
            writer.writerow([display_value(s, data.get(s.name)) for s in specs])


def bare_insert(csv_path: Path, db_path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds to read the CSV and executemany every row into a plain table."""
    started, cpu = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = ", ".join(f"c{i} TEXT" for i in range(len(header)))
        conn.execute(f"CREATE TABLE bare ({columns})")
        marks = ",".join("?" * len(header))
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO bare VALUES ({marks})", reader)
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, time.process_time() - cpu


def run(n: int, folder: Path | None = None, batch_rows: int = BATCH_ROWS) -> BenchResult:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(folder or tmp)
        csv_path = base / "sites.csv"
        write_sites_csv(csv_path, n)
        bare, bare_cpu = bare_insert(csv_path, base / "bare.sqlite3")
        store = RecordStore(connect(base / "fieldapp.sqlite3"), user="bench")
        store.load_areas(demo_areas())
        started, cpu = time.perf_counter(), time.process_time()
        report = import_file(store, csv_path, "site", batch_rows=batch_rows)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.conn.close()
        return BenchResult(n, seconds, bare, report.added, cpu, bare_cpu)


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
                 batch_rows=int(sys.argv[2]) if len(sys.argv) > 2 else BATCH_ROWS)
    print(result.line())
