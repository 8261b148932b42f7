"""What `fieldapp doctor` reads from the laptop itself: the database's integrity, the outbox
(entries refused or stuck), and free disk space beside the data. No network here."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from fieldapp.store.records import RecordStore

STUCK_ATTEMPTS = 5  # sent this often without an answer that took it off the outbox


@dataclass
class LocalState:
    integrity: str  # "ok" or SQLite's first complaint
    pending: int
    parked: int
    stuck: int
    oldest_pending: str | None  # UTC ISO
    free_bytes: int


def local_state(store: RecordStore, data_dir: Path) -> LocalState:
    conn = store.conn
    integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
    pending, parked, stuck, oldest = conn.execute(
        "SELECT sum(state = 'pending'), sum(state = 'parked'), "
        "sum(state = 'pending' AND attempts >= ?), "
        "min(CASE WHEN state = 'pending' THEN created_at END) FROM outbox",
        (STUCK_ATTEMPTS,)).fetchone()
    return LocalState(integrity, pending or 0, parked or 0, stuck or 0, oldest,
                      shutil.disk_usage(data_dir).free)
