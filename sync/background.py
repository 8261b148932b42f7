"""Background sync beside the app: a daemon thread running the engine's watch loop on its own
database connection, reporting state through a callback (the TUI footer's set_sync_status).

A save anywhere in the app (or in another process) adds an outbox entry; a cheap watcher
notices the outbox change and pokes the engine, so a save syncs at once when online without
the screens knowing about sync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fieldapp.context import AppContext

StatusCallback = Callable[..., None]  # (status, pending=None, last_sync_at=None)


class BackgroundSync:
    def __init__(self, ctx: AppContext, on_status: StatusCallback | None = None, *,
                 interval: float = 60.0, watch_every: float = 1.0,
                 enroll_check_every: float = 3.0) -> None:
        self.ctx = ctx
        self.on_status = on_status
        self.interval = interval
        self.watch_every = watch_every
        self.enroll_check_every = enroll_check_every
        self.stop_event = threading.Event()
        self.engine = None
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the threads; they wait until the laptop is enrolled (here or by
        `fieldapp enroll` in another terminal) and then sync."""
        for target, name in ((self._run, "sync"), (self._watch, "sync-watch")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def _open_engine(self) -> bool:
        from sync.client import SyncError
        from sync.credentials import Locked
        from sync.engine import open_engine

        said = None
        while not self.stop_event.is_set():
            try:
                self.engine = open_engine(self.ctx)
                return True
            except SyncError as exc:
                # The user's credential waits for their PIN: say so (the footer shows it).
                state = "locked" if isinstance(exc, Locked) else None
                if state and state != said:
                    self._report(state)
                said = state
                self.stop_event.wait(self.enroll_check_every)
        return False

    def poke(self) -> None:
        """Sync now (e.g. the registry just came up); a no-op until the engine is open."""
        if self.engine is not None:
            self.engine.poke()

    def stop(self) -> None:
        self.stop_event.set()
        if self.engine is not None:
            self.engine.poke()
        for thread in self.threads:
            thread.join(5)
        if self.engine is not None and not any(t.is_alive() for t in self.threads):
            self.engine.client.close()
            self.engine.store.conn.close()

    def _report(self, status: str, **extra) -> None:
        if self.on_status is None:
            return
        try:
            self.on_status(status, **extra)
        except Exception:  # noqa: BLE001  (the app may be closing; sync must not die of it)
            pass

    def _run(self) -> None:
        if not self._open_engine():
            return
        engine = self.engine

        def reported(report) -> None:
            status = "online" if report.ok else ("offline" if report.offline else "sync_error")
            self._report(status, pending=engine.store.pending_count(),
                         last_sync_at=report.finished_at if not report.errors else None)

        original = engine.run_cycle

        def cycle():
            self._report("syncing")
            return original()

        engine.run_cycle = cycle
        engine.run_forever(self.stop_event, interval=self.interval, on_report=reported)

    def _watch(self) -> None:
        from fieldapp.store.db import connect
        from fieldapp.store.sync_state import unsent_marker

        conn = connect(self.ctx.database_path, migrate_schema=False)
        try:
            last = None
            while not self.stop_event.wait(self.watch_every):
                marker = unsent_marker(conn)
                # Unsent entries that are new since the last look: a save happened. A spurious
                # poke costs one cycle; a missed one would leave the save waiting.
                if marker != last and marker[1] and self.engine:
                    self.engine.poke()
                last = marker
        finally:
            conn.close()
