"""Opening the local SQLite file: WAL, foreign keys, busy timeout, migrations applied.

The local store uses the standard library's sqlite3 rather than SQLAlchemy/SQLModel: importing
SQLModel costs about 0.5 s, more than Textual itself, and the TUI must start fast. The server,
which needs PostgreSQL too, uses SQLModel.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fieldapp.compat.locking import switch_to_wal
from fieldapp.i18n import BilingualError, Msg
from fieldapp.store.migrations import migrate


class StoreError(BilingualError, RuntimeError):
    """A problem with the local database that the user can act on; `str()` is bilingual."""


def connect(path: Path | str, *, migrate_schema: bool = True) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        switch_to_wal(conn, seconds=10)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        if migrate_schema:
            migrate(conn)
    except sqlite3.OperationalError as exc:
        raise StoreError(explain(exc, path)) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(Msg(f"数据库文件已损坏或不是 fieldapp 数据库: {path}",
                             f"the database file is damaged or not a fieldapp database: {path}"),
                         detail=str(exc)) from exc
    return conn


def explain(exc: Exception, path: Path | str = "") -> Msg:
    """A message a user can act on for a low-level database error."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return Msg(f"数据目录只读,无法保存: {path}",
                   f"the data folder is read-only, cannot save: {path}")
    if "disk" in text and "full" in text or "database or disk is full" in text:
        return Msg("磁盘已满,未保存任何内容", "the disk is full, nothing was saved")
    if "locked" in text or "busy" in text:
        return Msg("数据库正被其他程序占用,未保存,请稍后再试",
                   "the database is busy in another program, nothing was saved: try again")
    if "unable to open" in text:
        return Msg(f"无法打开数据库: {path}", f"cannot open the database: {path}")
    return Msg(f"数据库错误: {exc}", f"database error: {exc}")


@contextmanager
def transaction(conn: sqlite3.Connection, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """One atomic unit: everything inside commits together or not at all."""
    try:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    except sqlite3.OperationalError as exc:
        raise StoreError(explain(exc)) from exc
    try:
        yield conn
    except sqlite3.OperationalError as exc:
        _rollback(conn)
        raise StoreError(explain(exc)) from exc
    except BaseException:
        _rollback(conn)
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            _rollback(conn)
            raise StoreError(explain(exc)) from exc


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back by itself (e.g. after SQLITE_FULL).
    if conn.in_transaction:
        conn.execute("ROLLBACK")
