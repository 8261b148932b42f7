"""TUI start-up and list figures at 100,000 records, beside a bare Textual app's start-up.

Each start is a fresh Python process running the app headless, timed from interpreter start
to (a) the home screen painted and (b) its counts shown; then the sites list's first page, a
two-character search and the next page. `python -m bench.tui_bench [--records N]` prints them;
`rows()` gives them to `python -m bench`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Row, median, ms

RUNS = 7  # cold starts of each; medians (a start varies by ±30 % on a busy machine)

# Runs in a child process; prints one JSON line of seconds since the interpreter started.
# It imports only what the app imports itself before its first paint.
_FIELDAPP = r"""
import json, sys, time
t0 = time.perf_counter()
from fieldapp.context import AppContext
from fieldapp.ui.app import FieldApp
marks = {}

class Timed(FieldApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(lambda: marks.setdefault("painted", time.perf_counter() - t0))

    def on_home_loaded(self, message):
        self.call_after_refresh(self._loaded)

    def _loaded(self):
        marks["usable"] = time.perf_counter() - t0
        self.t_list = time.perf_counter()
        self.action_sites()

    def on_page_loaded(self, message):
        self.call_after_refresh(self._page, message)

    def _page(self, message):
        now = time.perf_counter()
        screen = self.screen
        if "list" not in marks:
            marks["list"] = now - self.t_list
            self.t_list = now
            screen.query_one("#search").value = "养老"
        elif "search" not in marks:
            marks["search"] = now - self.t_list
            self.t_list = now
            screen.action_page(1)
        else:
            marks["next_page"] = now - self.t_list
            self.exit()

app = Timed(AppContext.create(sys.argv[1]))
app.run(headless=True, size=(120, 40))
print(json.dumps(marks))
"""

_BARE = r"""
import json, time
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("hello")
    def on_mount(self):
        self.call_after_refresh(self.done)
    def done(self):
        self.mark = time.perf_counter() - t0
        self.exit()

app = Bare()
app.run(headless=True, size=(120, 40))
print(json.dumps({"painted": app.mark}))
"""


def _run(script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_app() -> None:
    """Byte-compile fieldapp as installing it does (pip writes the .pyc files; Textual's are
    there already): a checkout run with PYTHONDONTWRITEBYTECODE, as on the build machine,
    would otherwise compile every module at every start, which no user's start does."""
    import compileall

    import fieldapp

    compileall.compile_dir(str(Path(fieldapp.__file__).parent), quiet=1)


def measure(data_dir: Path, runs: int = RUNS) -> dict[str, float]:
    """Median seconds for each mark over `runs` cold starts, and the bare Textual start."""
    compile_app()
    bare, starts = [], []
    for _ in range(runs):  # alternated, so a change in the machine's load hits both alike
        bare.append(_run(_BARE)["painted"])
        starts.append(_run(_FIELDAPP, str(data_dir)))
    result = {key: median([s[key] for s in starts]) for key in starts[0]}
    result["bare"] = median(bare)
    return result


def rows(store, work: Path, args) -> list[Row]:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data_dir = Path(store.conn.execute("PRAGMA database_list").fetchone()[2]).parent
    m = measure(data_dir)
    n = store.count_all()
    return [
        Row("TUI start: home painted", ms(m["painted"]), f"bare Textual {ms(m['bare'])}",
            "", None),
        Row(f"TUI start: counts shown ({n:,} records)", ms(m["usable"]),
            f"bare Textual {ms(m['bare'])} (×{m['usable'] / m['bare']:.2f})",
            "≤ 1.5 × bare", m["usable"] <= 1.5 * m["bare"]),
        Row("sites list: first page", ms(m["list"]), "", "< 300 ms", m["list"] < 0.3),
        Row("sites list: search 养老, first page", ms(m["search"]), "", "< 300 ms",
            m["search"] < 0.3),
        Row("sites list: next page", ms(m["next_page"]), "", "< 300 ms", m["next_page"] < 0.3),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_bench")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    from bench.common import build_store

    work = Path(args.workdir or tempfile.mkdtemp(prefix="fieldapp-tui-bench-"))
    store = build_store(work / "laptop", args.records)
    for row in rows(store, work, args):
        print(" | ".join(row.cells()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
