"""Peak memory of the TUI holding 100,000 local records (start, list, search, next page)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import Row
from bench.tui_bench import _FIELDAPP


def rows(store, work: Path, args) -> list[Row]:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data_dir = Path(store.conn.execute("PRAGMA database_list").fetchone()[2]).parent
    # VmHWM, not ru_maxrss: after fork+exec ru_maxrss still counts the forked parent's pages
    # (here a benchmark process holding 100,000 records), which read 527 MB for a 50 MB app.
    script = _FIELDAPP.replace(
        "print(json.dumps(marks))",
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "marks['rss_mb'] = int(hwm.split()[1]) / 1024\nprint(json.dumps(marks))")
    out = subprocess.run([sys.executable, "-c", script, str(data_dir)], capture_output=True,
                         text=True, timeout=180, check=True)
    peak = json.loads(out.stdout.strip().splitlines()[-1])["rss_mb"]
    return [Row(f"TUI peak RSS ({store.count_all():,} records: start, list, search, page)",
                f"{peak:.0f} MB", "", "≤ 200 MB", peak <= 200)]
