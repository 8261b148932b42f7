"""A lock file that two processes cannot hold at once: msvcrt on Windows, flock elsewhere.

The lock belongs to the open file, so it is released when the holder closes it or dies
(a killed `sync --watch` never leaves a stale lock behind).
"""

from __future__ import annotations

import os
from pathlib import Path

from fieldapp.compat import IS_WINDOWS


class FileLock:
    """Non-blocking exclusive lock: `acquire()` answers at once whether we got it."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fh = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> bool:
        if self._fh is not None:
            return True
        fh = open(self.path, "a+b")  # noqa: SIM115  (kept open while the lock is held)
        try:
            if IS_WINDOWS:
                _lock_windows(fh)
            else:
                _lock_posix(fh)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            if IS_WINDOWS:
                _unlock_windows(fh)
        except OSError:
            pass  # closing releases it anyway
        finally:
            fh.close()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock_windows(fh) -> None:  # noqa: ANN001
    if IS_WINDOWS:
        import msvcrt

        fh.seek(0)  # always the first byte, whatever the file's length (past EOF is allowed)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)


def _unlock_windows(fh) -> None:  # noqa: ANN001
    if IS_WINDOWS:
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


def _lock_posix(fh) -> None:  # noqa: ANN001
    if not IS_WINDOWS:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def switch_to_wal(cursor, seconds: float = 30) -> None:  # noqa: ANN001
    """`PRAGMA journal_mode=WAL` on a new SQLite file, retried while another connection holds
    the lock: SQLite answers "database is locked" at once, without its busy handler, when two
    connections make the switch together (registry workers starting on a fresh file; the TUI
    and the background sync opening a new laptop database)."""
    import sqlite3
    import time

    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
