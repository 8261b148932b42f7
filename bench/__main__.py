"""`python -m bench [--records N] [--only SECTION…]`: build data, measure, print the table.

Every figure is printed beside the baseline it should be compared with, measured in the same
run, so a slow or busy machine shows up in both.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, build_store

SECTIONS = ["tui", "store", "list", "import", "sync", "coverage", "memory", "map", "report",
            "city"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--workdir", help="reuse a folder between runs (data is kept)")
    parser.add_argument("--postgres", default=None,
                        help="PostgreSQL URL for the registry figures (default: "
                             "FIELDAPP_TEST_DATABASE_URL, or skip)")
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="fieldapp-bench-"))
    print(f"# fieldapp benchmarks — {platform.node()}, {platform.processor() or platform.machine()}"
          f", Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}", flush=True)
    start = time.perf_counter()
    store = build_store(work / "laptop", args.records)
    print(f"(data: {args.records:,} records built/reused in {time.perf_counter() - start:.0f} s,"
          f" {work})", file=sys.stderr, flush=True)
    rows: list[Row] = []
    for section in args.only:
        try:
            rows += run_section(section, store, work, args)
        except Exception as exc:  # one broken section must not hide the others
            rows.append(Row(section, f"failed: {type(exc).__name__}: {exc}", "", "", False))
        print(f"  {section} done", file=sys.stderr, flush=True)
    print_table(rows)
    return 0


def run_section(section: str, store, work: Path, args) -> list[Row]:
    if section == "store":
        from bench.store_bench import save_rows, search_rows

        return search_rows(store) + save_rows(store)
    module = __import__(f"bench.{section}_bench", fromlist=["rows"])
    return module.rows(store, work, args)


def print_table(rows: list[Row]) -> None:
    header = ["figure", "measured", "baseline (same run)", "goal", "ok"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
