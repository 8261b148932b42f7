"""Schema migrations for the local SQLite file, tracked in `PRAGMA user_version`.

Each migration runs once, in its own transaction, in order. A released migration is never
edited: a change to the schema is a new migration at the end of `MIGRATIONS`, so a laptop in
the field upgrades from whatever it has without loss (tests/fixtures keeps a database made
by the first schema).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

V1 = """
CREATE TABLE area (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
    parent_code TEXT,
    lat REAL,
    lng REAL,
    households INTEGER
);
CREATE INDEX area_parent ON area(parent_code);

-- One row per record of any kind; its fields live in `data` (JSON) as defined by
-- fieldapp.domain.records, the columns beside it are what lists, filters and sync need.
CREATE TABLE record (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('site', 'facility', 'inspection')),
    grid_code TEXT,
    status TEXT NOT NULL DEFAULT 'draft',
    title TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    search_text TEXT NOT NULL DEFAULT '',
    address_key TEXT,
    review_comment TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    author TEXT,
    device_id TEXT,
    local_rev INTEGER NOT NULL DEFAULT 1,
    server_version INTEGER NOT NULL DEFAULT 0,
    base_data TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX record_list ON record(kind, deleted, updated_at);
CREATE INDEX record_grid ON record(kind, grid_code, updated_at);
CREATE INDEX record_status ON record(kind, status, updated_at);
CREATE INDEX record_address ON record(address_key);

CREATE VIRTUAL TABLE record_fts USING fts5(uni, bi, content='', tokenize='unicode61');

-- Mutations waiting to reach the registry. A row is sealed once a push has carried it:
-- its content may then never change, so a retry sends exactly what the server may have seen.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL REFERENCES record(id),
    kind TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    base_version INTEGER NOT NULL,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    author TEXT,
    device_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'parked')),
    sealed INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_record ON outbox(record_id);

-- Append-only: every change to a record, who made it, on which device, from what to what.
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL,
    at TEXT NOT NULL,
    who TEXT,
    device_id TEXT,
    action TEXT NOT NULL,
    changes TEXT NOT NULL DEFAULT '{}',
    comment TEXT,
    mutation_id TEXT,
    server_seq INTEGER
);
CREATE INDEX history_record ON history(record_id, id);

CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- Unsaved form input, written as the user types, offered back after a crash.
CREATE TABLE form_draft (
    form_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    record_id TEXT,
    data TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"""

# Sync: conflicts the registry reported, kept until the user resolves them. `fields` is
# {field: {"mine": value, "theirs": value}} as the server sent it; `mine` is the laptop's
# whole content when the conflict arose, so "keep mine" works even after a remote delete.
V2_SYNC = """
CREATE TABLE conflict (
    id INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    mutation_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    mine TEXT NOT NULL DEFAULT '{}',
    server_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT
);
CREATE INDEX conflict_open ON conflict(resolved_at, record_id);
CREATE INDEX history_server_seq ON history(record_id, server_seq)
"""


# The TUI's home screen: counts by kind and status and by grid read from this index alone
# (a full scan of the record rows took half a second at 100,000 records), and the footer's
# count of mutations waiting to sync.
V3_HOME_INDEXES = """
CREATE INDEX record_home_counts ON record(kind, deleted, status, grid_code);
CREATE INDEX outbox_pending_state ON outbox(state)
"""


# Photos and documents attached to records (fieldapp/store/attachments.py). The content lives
# once per SHA-256 under <data_dir>/attachments/; a row is metadata only. `state` local rows
# wait for upload; `has_content` is 0 for a pulled row whose file has not been fetched.
V4_ATTACHMENTS = """
CREATE TABLE attachment (
    id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    caption TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    author TEXT,
    state TEXT NOT NULL DEFAULT 'local' CHECK (state IN ('local', 'uploaded')),
    has_content INTEGER NOT NULL DEFAULT 1,
    deleted INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX attachment_record ON attachment(record_id, deleted);
CREATE INDEX attachment_sha ON attachment(sha256);
CREATE INDEX attachment_state ON attachment(state)
"""


# Lookups by what is inside a record's JSON: the duplicate check's "within 30 m" (latitude
# range, then longitude) and a site's or facility's inspections. Without these each was a
# scan of every record: 1.2 s and 0.4 s at 100,000 records.
V5_JSON_LOOKUPS = """
CREATE INDEX record_lat ON record(kind, json_extract(data, '$.lat'));
CREATE INDEX record_inspection_target ON record(json_extract(data, '$.target_id'))
    WHERE kind = 'inspection'
"""


# Smaller photos (fieldapp/store/photos.py): a photo downscaled when attached keeps its
# original on the laptop (`original_sha256`, NULL when not kept); `pixels` and
# `original_pixels` ("4032x3024") show the effect. Local only: the wire carries the small file.
V6_PHOTO_ORIGINALS = """
ALTER TABLE attachment ADD COLUMN original_sha256 TEXT;
ALTER TABLE attachment ADD COLUMN original_size INTEGER;
ALTER TABLE attachment ADD COLUMN original_mime TEXT;
ALTER TABLE attachment ADD COLUMN original_pixels TEXT;
ALTER TABLE attachment ADD COLUMN pixels TEXT;
CREATE INDEX attachment_original ON attachment(original_sha256)
"""


# Grid outlines from the registry (`admin load-areas grids.geojson`), drawn on the map and in
# the area report: JSON rings [[[lat, lng], …], …] (fieldapp/domain/grid_shapes.py).
V7_AREA_BOUNDARY = """
ALTER TABLE area ADD COLUMN boundary TEXT
"""


def _area_pilot(conn: sqlite3.Connection) -> None:
    """Pilot communities and each area's annual plan of facilities to open, from the
    registry. Adds only what is missing: a re-run (a laptop set back a version) is harmless."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(area)")}
    if "pilot" not in have:
        conn.execute("ALTER TABLE area ADD COLUMN pilot INTEGER NOT NULL DEFAULT 0")
    if "annual_target" not in have:
        conn.execute("ALTER TABLE area ADD COLUMN annual_target INTEGER")


# The sync journal (fieldapp/store/sync_state.py): every mutation the registry acknowledged,
# kept for a while, so a registry restored from an older backup can be given them again.
V8_SYNC_JOURNAL = """
CREATE TABLE sync_journal (
    jseq INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    user TEXT NOT NULL,
    body TEXT NOT NULL,
    acked_at TEXT NOT NULL
);
CREATE INDEX sync_journal_user ON sync_journal(user, jseq);
CREATE INDEX sync_journal_acked ON sync_journal(acked_at)
"""


# Poison entries (fieldapp/store/sync_state.py): how often the registry failed on an entry,
# and when an entry parked for that is tried again by itself.
V9_OUTBOX_RETRY = """
ALTER TABLE outbox ADD COLUMN server_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN retry_at TEXT
"""


# Revisions of approved records (fieldapp/domain/revision.py): the last approved values of a
# record (JSON, NULL if never approved; reports of approved records read them) and when it
# last entered the review queue (a joint-review save must not move it to the back).
def _approved_snapshot(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(record)")}
    for name in ("approved_data", "queued_at"):
        if name not in columns:  # a file marked older than it is (tests do) has them already
            conn.execute(f"ALTER TABLE record ADD COLUMN {name} TEXT")
    conn.execute("UPDATE record SET approved_data = data WHERE status = 'approved' "
                 "AND approved_data IS NULL")
    conn.execute("UPDATE record SET queued_at = updated_at WHERE status = 'submitted' "
                 "AND queued_at IS NULL")


def _run_script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in _statements(sql):
            conn.execute(statement)

    return apply


def _statements(sql: str) -> list[str]:
    # executescript() would commit the open transaction; split instead (no ';' inside strings).
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _rebuild_search(conn: sqlite3.Connection) -> None:
    """Index every live record's search text again with today's `index_terms` (the
    contentless index forgets a row only when given the terms it was indexed with, so the
    terms of every row must change at once)."""
    from fieldapp.domain.search import index_terms

    conn.execute("INSERT INTO record_fts(record_fts) VALUES ('delete-all')")
    rows = conn.execute("SELECT rid, search_text FROM record WHERE deleted = 0").fetchall()
    conn.executemany("INSERT INTO record_fts(rowid, uni, bi) VALUES (?, ?, ?)",
                     [(rid, *index_terms(text or "")) for rid, text in rows])


#: (version, what it does, how). Append only.
MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "first schema", _run_script(V1)),
    (2, "sync conflicts", _run_script(V2_SYNC)),
    (3, "indexes for the home screen counts", _run_script(V3_HOME_INDEXES)),
    (4, "photo and document attachments", _run_script(V4_ATTACHMENTS)),
    (5, "indexes for nearby records and inspections of a record", _run_script(V5_JSON_LOOKUPS)),
    (6, "originals of downscaled photos", _run_script(V6_PHOTO_ORIGINALS)),
    (7, "grid outlines", _run_script(V7_AREA_BOUNDARY)),
    (8, "sync journal of acknowledged mutations", _run_script(V8_SYNC_JOURNAL)),
    (9, "outbox entries the registry failed on, retried later", _run_script(V9_OUTBOX_RETRY)),
    (10, "search index rebuilt: a phrase never matches across two words", _rebuild_search),
    (11, "pilot communities and annual targets", _area_pilot),
    (12, "approved values of revised records; place in the review queue",
     _approved_snapshot),
]

LATEST = MIGRATIONS[-1][0]


def current_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int | None = None) -> list[int]:
    """Apply every migration above the file's version (up to `target`); return those applied."""
    target = LATEST if target is None else target
    version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"数据库版本 {version} 比本程序新,请升级 fieldapp / the database (schema {version}) "
            f"is newer than this fieldapp (schema {LATEST}): please upgrade"
        )
    applied = []
    for number, _what, apply in MIGRATIONS:
        if version < number <= target:
            conn.execute("BEGIN IMMEDIATE")
            if current_version(conn) >= number:  # another process got here first
                conn.execute("ROLLBACK")
                continue
            try:
                apply(conn)
                conn.execute(f"PRAGMA user_version = {number}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            applied.append(number)
    return applied
