"""PDF area report of the district with the most records, on the 100,000-record demo."""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import Row


def rows(store, work: Path, args) -> list[Row]:
    from fieldapp.reports.area import write_area_report

    district, records = store.conn.execute(
        "SELECT substr(grid_code, 1, 6) AS d, count(*) FROM record WHERE deleted = 0 "
        "GROUP BY d ORDER BY 2 DESC LIMIT 1").fetchone()
    start, cpu = time.perf_counter(), time.process_time()
    report = write_area_report(store, district, work / "district.pdf")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = (work / "district.pdf").stat().st_size / 1_048_576
    return [Row(f"PDF report of a district ({district}: {records:,} of "
                f"{store.count_all():,} records, {report.grids} grids, {report.pages} pages)",
                f"{seconds:.1f} s (CPU {cpu:.1f} s), {size:.1f} MB", "", "< 30 s",
                seconds < 30)]
