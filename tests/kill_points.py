"""Kill a child process at a named point, not after a guessed sleep.

The child runs its job with `stop_at(conn, pattern, nth)` installed on its SQLite
connection(s): when the nth statement starting with `pattern` is about to run, the child
prints `AT <in_transaction> <pattern>` and waits; the parent (`Child.kill_at_marker`) reads
that line and kills it there with SIGKILL. So a test knows which window it hit (a record row
written but not its outbox entry, a batch's COMMIT begun, ...) and can say so in its asserts.

Children also print progress lines of their own (`SAVED id ...`, `SEALED n`, ...); the parent
collects every line it read.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Paste at the top of a child script: `install(conn, pattern, nth)` makes that connection
#: stop at the marker; `marker(text)` prints a progress line at once.
CHILD_PRELUDE = r'''
import sys, time, threading
_stop = {"pattern": None, "nth": 0, "seen": 0}
_lock = threading.Lock()

def marker(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()

def install(conn, pattern, nth):
    _stop.update(pattern=pattern, nth=int(nth))
    def trace(sql):
        if not _stop["pattern"] or not sql.lstrip().startswith(_stop["pattern"]):
            return
        with _lock:
            _stop["seen"] += 1
            hit = _stop["seen"] == _stop["nth"]
        if hit:
            marker(f"AT {conn.in_transaction} {_stop['pattern']}")
            time.sleep(3600)  # the parent kills us here
    conn.set_trace_callback(trace)
'''


class Child:
    """A child Python process running `script` (CHILD_PRELUDE is prepended) with `args`."""

    def __init__(self, script: str, *args: str, env: dict | None = None) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD_PRELUDE + script, *map(str, args)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float = 120.0) -> str:
        """The first line starting with `prefix` (every line read is kept in `lines`)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise AssertionError(f"child never printed {prefix!r}; last lines "
                                     f"{self.lines[-5:]}")
            try:
                line = self._queue.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None:
                err = self.proc.stderr.read()
                raise AssertionError(f"child ended before {prefix!r} (exit "
                                     f"{self.proc.wait()}): {err[-2000:]}")
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def kill_at_marker(self, timeout: float = 120.0) -> tuple[bool, str]:
        """Wait for the child's `AT` line, kill it there; (in_transaction, pattern)."""
        line = self.wait_for("AT ", timeout)
        self.kill()
        _, in_transaction, pattern = line.split(" ", 2)
        return in_transaction == "True", pattern

    def kill(self) -> None:
        if self.proc.poll() is None:
            if hasattr(signal, "SIGKILL"):
                os.kill(self.proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows: TerminateProcess is as abrupt
                self.proc.kill()
        self.proc.wait()
        # Lines the child printed before it died are still in the pipe.
        while True:
            try:
                line = self._queue.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()

    def finish(self, timeout: float = 300.0) -> int:
        """Wait for a child that was not killed; its exit code."""
        code = self.proc.wait(timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code
