"""Helpers for the TUI tests: a demo data folder made once per session and copied per test,
and small waits for thread workers, so each test drives the real app on real SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldapp.context import AppContext
from fieldapp.demo import populate
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore

DEMO_RECORDS = 600
SIZE = (120, 40)
DB_NAME = "fieldapp.sqlite3"


def make_template(folder: Path) -> Path:
    """A demo database as `fieldapp demo` makes it (fixed seed), for copying."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = connect(folder / DB_NAME)
    store = RecordStore(conn, user="wangfang", role="worker")
    store.set_setting("current_user", "wangfang")
    store.set_setting("role:wangfang", "worker")
    populate(store, DEMO_RECORDS)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return folder / DB_NAME


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """Registered for all tests in conftest.py, with `demo`."""
    return make_template(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture
def demo(demo_template, tmp_path):
    """A fresh copy of the demo data folder for one test."""
    return copy_demo(demo_template, tmp_path / "data")


def copy_demo(template: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target / DB_NAME)
    return target


def make_app(data_dir: Path, lang: str | None = None):
    from fieldapp.ui.app import FieldApp

    return FieldApp(AppContext.create(str(data_dir), lang))


def open_store(data_dir: Path) -> RecordStore:
    conn = connect(data_dir / DB_NAME)
    return RecordStore(conn, user="wangfang", role="worker")


async def workers_done(app) -> None:
    """Wait for the app's workers; one replaced by a newer one (exclusive) counts as done."""
    from textual.worker import WorkerCancelled

    for _ in range(5):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def settle(pilot, rounds: int = 3, delay: float = 0.05) -> None:
    """Let workers finish and their messages land."""
    await workers_done(pilot.app)
    for _ in range(rounds):
        await pilot.pause(delay)
    await workers_done(pilot.app)
    await pilot.pause()


async def wait_for_screen(pilot, cls, timeout: float = 15.0):
    waited = 0.0
    while not isinstance(pilot.app.screen, cls):
        if waited > timeout:
            raise AssertionError(f"screen {cls.__name__} never came; at {pilot.app.screen!r}")
        await pilot.pause(0.05)
        waited += 0.05
    await settle(pilot)
    return pilot.app.screen


def text_of(widget) -> str:
    """What a Static shows, as plain text (rich tables and Text rendered at 200 columns)."""
    from rich.console import Console

    from fieldapp.ui.widgets.status_bar import StatusBar

    content = widget.render() if isinstance(widget, StatusBar) else widget.content
    if isinstance(content, str):
        return content
    import io

    console = Console(width=200, record=True, color_system=None, file=io.StringIO())
    console.print(content)
    return console.export_text()


async def wait_until(pilot, predicate, timeout: float = 15.0) -> None:
    """Poll `predicate` (which may raise while widgets are being rebuilt) until it holds."""
    waited = 0.0
    while True:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - a query during a recompose may find nothing yet
            pass
        if waited > timeout:
            raise AssertionError("condition never held")
        await pilot.pause(0.05)
        waited += 0.05


class MainThreadWrites:
    """Every SQLite connection opened while this is active refuses a write made on the main
    (UI) thread and remembers it: the UI must write only through its writer thread. It also
    times every statement the main thread runs (`slowest`): a read there must never wait.

    Enter it before the app is made, so the app's own connections are watched too. A test's
    own setup writes on the main thread go inside `allowed()`.
    """

    def __init__(self) -> None:
        self.offences: list[str] = []
        self.slowest = 0.0  # seconds, the longest statement run on the main thread
        self._allowed = 0
        self._real_connect = None

    def _authorize(self, action, arg1, arg2, db_name, source):  # noqa: ANN001
        import sqlite3
        import threading

        writes = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)
        if action in writes and db_name != "temp" and not self._allowed \
                and threading.current_thread() is threading.main_thread():
            self.offences.append(f"{action} on {arg1}")
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def __enter__(self) -> MainThreadWrites:
        import sqlite3
        import threading
        import time

        self._real_connect = real = sqlite3.connect
        guard = self

        class TimedConnection(sqlite3.Connection):
            def execute(self, *args, **kwargs):  # noqa: ANN002,ANN003
                if threading.current_thread() is not threading.main_thread():
                    return super().execute(*args, **kwargs)
                started = time.perf_counter()
                try:
                    return super().execute(*args, **kwargs)
                finally:
                    guard.slowest = max(guard.slowest, time.perf_counter() - started)

        def connect(*args, **kwargs):
            kwargs.setdefault("factory", TimedConnection)
            conn = real(*args, **kwargs)
            conn.set_authorizer(self._authorize)
            return conn

        sqlite3.connect = connect
        return self

    def __exit__(self, *exc) -> None:
        import sqlite3

        sqlite3.connect = self._real_connect

    def allowed(self):
        from contextlib import contextmanager

        @contextmanager
        def scope():
            self._allowed += 1
            try:
                yield
            finally:
                self._allowed -= 1

        return scope()
