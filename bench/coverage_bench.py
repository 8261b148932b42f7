"""Coverage analysis of a district-sized area (domain layer)."""

from __future__ import annotations

from pathlib import Path

from bench.common import Row


def rows(store, work: Path, args) -> list[Row]:
    from fieldapp.domain.coverage import bench

    r = bench(2000, 10_000, 10_000)
    return [Row(f"coverage of a district: {r['grids']:,} grids, {r['facilities']:,} facilities, "
                f"{r['sites']:,} sites",
                f"{r['analyse_ms']:.0f} ms (CPU {r['analyse_cpu_ms']:.0f})",
                f"+ matching elderly care {r['match_ms']:.0f} ms", "≤ 200 ms",
                r["analyse_ms"] <= 200)]
