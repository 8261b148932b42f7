"""Import of 100,000 CSV rows through the real importer, beside a bare executemany."""

from __future__ import annotations

from pathlib import Path

from bench.common import Row


def rows(store, work: Path, args) -> list[Row]:
    from fieldapp.io.bench import run

    folder = work / "import"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.sqlite3*"):
        stale.unlink()
    result = run(min(args.records, 100_000), folder)
    rate, bare_rate = result.rows / result.import_seconds, result.rows / result.bare_seconds
    per_row = result.import_cpu / result.rows * 1e6
    return [Row(f"import {result.rows:,} rows from CSV (validated, searchable, queued to sync)",
                f"{rate:,.0f} rows/s ({result.import_seconds:.1f} s) = {result.ratio:.1%} of "
                f"bare; CPU {per_row:.0f} µs/row = {result.cpu_ratio:.1%} of bare's",
                f"bare executemany {bare_rate:,.0f} rows/s, CPU "
                f"{result.bare_cpu / result.rows * 1e6:.0f} µs/row", "≥ 25% of bare",
                rate >= 0.25 * bare_rate)]
