"""Connecting to the registry database: SQLite file or PostgreSQL, with sane settings.

Writers lock the one-row seq counter first (see PROTOCOL.md), so they commit in seq order; on
SQLite a writing transaction starts with BEGIN IMMEDIATE, which gives the same order, and
readers use plain BEGIN so a pull never waits for a push.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

from fieldapp.compat.locking import switch_to_wal


def normalise_url(url: str) -> str:
    """Accept a plain file path and bare `postgresql://` too; SQLAlchemy needs the driver."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, pool_size: int = 5) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # noqa: ANN001
            # Take transaction control away from pysqlite so BEGIN IMMEDIATE is ours to send.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            switch_to_wal(cur)
            cur.execute("PRAGMA synchronous=FULL")  # a push answered "applied" must survive
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql"):
        _require_postgres_driver()
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                             pool_pre_ping=True, pool_recycle=1800)
    raise ValueError(f"不支持的数据库地址(请用 sqlite:/// 或 postgresql+psycopg://): "
                     f"{url.split('://')[0]} / unsupported database url (use sqlite:/// or "
                     f"postgresql+psycopg://): {url.split('://')[0]}")


def _require_postgres_driver() -> None:
    """A laptop install has no PostgreSQL driver (it is the `postgres` extra): say how to get
    it instead of SQLAlchemy's bare "No module named 'psycopg'"."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise ValueError("PostgreSQL support is not installed: pip install 'fieldapp[postgres]' "
                         "(or 'fieldapp[server]') / 未安装 PostgreSQL 支持") from exc


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A writing transaction (BEGIN IMMEDIATE on SQLite); commits on success."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn
