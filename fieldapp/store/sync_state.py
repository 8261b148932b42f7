"""The laptop's sync state, one owner: the outbox, conflicts, the pull cursor, and the
registry's view of records written into the local store.

The sync engine (sync/engine.py) talks to the registry and decides; every read and write of
this state is here, so `sync/` holds no SQL. Functions that change several rows run inside the
caller's transaction (the engine commits a push answer, or a pulled page with its cursor, as
one), except those that say they commit.

Records from the registry are read by attribute (`rec.id`, `rec.data`, ...): the protocol's
Record (sync/protocol.py) or a `RemoteRecord` here; history entries, areas and attachment rows
likewise. The store does not import the protocol, so the TUI never pays for pydantic.

Rules that keep the user's work safe:
- a sealed outbox row never changes again, so a batch resent after a lost answer carries the
  same mutation ids and content, and the registry answers "already applied";
- a pulled change never overwrites a field an unpushed entry still carries;
- nothing is ordered by a clock: the registry's versions and feed sequence decide.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fieldapp.domain.areas import Area
from fieldapp.domain.records import title_of
from fieldapp.store.db import transaction
from fieldapp.store.records import (
    COMMENT_FIELD,
    STATUS_FIELD,
    Record,
    RecordStore,
    carries_decision,
    utcnow,
)

ALL_FIELDS = "*"  # in unpushed_fields: an unpushed create, every field is the laptop's
DELETED = "_deleted"  # the pseudo-field of a delete, in outbox fields and conflicts
MINE, THEIRS = "mine", "theirs"


def cursor_key(user: str) -> str:
    # One cursor per enrolled user: a team laptop's users have different scopes.
    return f"sync_cursor:{user}"


@contextmanager
def batch(store: RecordStore) -> Iterator[None]:
    """One local transaction for a push answer or a pulled page."""
    with transaction(store.conn):
        yield


# -- the outbox ------------------------------------------------------------------------------
@dataclass
class OutboxEntry:
    seq: int
    mutation_id: str
    record_id: str
    kind: str
    op: str
    base_version: int
    fields: dict
    created_at: str
    state: str
    sealed: bool
    attempts: int
    last_error: dict | None
    author: str | None = None
    server_failures: int = 0  # answers with a server error (or none readable) for it alone
    retry_at: str | None = None  # parked after server errors: tried again from then (UTC)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxEntry:
        return cls(row["seq"], row["mutation_id"], row["record_id"], row["kind"], row["op"],
                   row["base_version"], json.loads(row["fields"]), row["created_at"],
                   row["state"], bool(row["sealed"]), row["attempts"],
                   json.loads(row["last_error"]) if row["last_error"] else None,
                   row["author"], row["server_failures"], row["retry_at"])

    def mutation(self) -> dict:
        """The wire form (PROTOCOL.md, Mutation)."""
        return {"mutation_id": self.mutation_id, "record_id": self.record_id,
                "kind": self.kind, "op": self.op, "base_version": self.base_version,
                "fields": self.fields, "client_time": self.created_at}

    def reason(self, lang: str = "zh") -> str:
        """The bilingual reason a parked entry was refused."""
        err = self.last_error or {}
        head = err.get("message_zh") if lang == "zh" else err.get("message")
        details = [e.get("zh" if lang == "zh" else "en", "") for e in err.get("errors") or []]
        if err.get("detail"):
            details.append(str(err["detail"]))
        if self.retry_at and self.state == "parked":
            from fieldapp.localtime import show

            when = show(self.retry_at, zone=True)
            details.append(f"{when} 自动重试" if lang == "zh" else
                           f"retried automatically at {when}")
        return "; ".join(x for x in [head or err.get("code", ""), *details] if x)


def entries(store: RecordStore, state: str | None = None) -> list[OutboxEntry]:
    sql, params = "SELECT * FROM outbox", ()
    if state:
        sql, params = sql + " WHERE state = ?", (state,)
    return [OutboxEntry.from_row(r) for r in store.conn.execute(sql + " ORDER BY seq", params)]


def unsent_marker(conn: sqlite3.Connection) -> tuple:
    """(highest seq, count) of entries not sent yet: it changes when someone saves."""
    return tuple(conn.execute("SELECT max(seq), count(*) FROM outbox "
                              "WHERE state = 'pending' AND sealed = 0").fetchone())


#: Entries the current user may send: their own, and those made before anyone enrolled.
_MINE = "(author IS NULL OR author = '' OR author = ?)"
#: An entry waits while an earlier entry of its record is parked (it builds on that one).
_NOT_HELD = ("NOT EXISTS (SELECT 1 FROM outbox p WHERE p.record_id = o.record_id "
             "AND p.seq < o.seq AND p.state = 'parked')")


def seal_batch(store: RecordStore, limit: int, after: int = 0) -> list[OutboxEntry]:
    """The next pending entries in order (after seq `after`: those up to it are on the wire
    already), sealed in a committed transaction before sending.

    Only the current user's entries (queued entries go with their author's credential), and
    none held behind a parked entry of the same record. Entries parked after server errors
    whose time has come are pending again first."""
    with transaction(store.conn):
        store.conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE state = 'parked' "
            "AND retry_at IS NOT NULL AND retry_at <= ?", (utcnow(),))
        _fold_edited_parked(store)
        rows = store.conn.execute(
            f"SELECT * FROM outbox o WHERE state = 'pending' AND seq > ? AND {_MINE} "
            f"AND {_NOT_HELD} ORDER BY seq LIMIT ?",
            (after, store.user or "", limit)).fetchall()
        store.conn.executemany(
            "UPDATE outbox SET sealed = 1, attempts = attempts + 1 WHERE seq = ?",
            [(r["seq"],) for r in rows])
    return [OutboxEntry.from_row(r) for r in rows]


def _fold_edited_parked(store: RecordStore) -> None:
    """Parked entries of a record the user acted on since are sent again, with the edit.

    A refused mutation was never applied, so it may change: the content of the newer unsent
    entries moves into the first parked one (the edit usually fixed what was refused), and
    every parked entry of the record is pending again, in its place, under a new mutation id.
    Newer entries holding a decision stay as they are, after them. Entries parked after
    server errors wait for their retry time instead (the registry may yet take them as sent).
    """
    records = [r[0] for r in store.conn.execute(
        "SELECT DISTINCT p.record_id FROM outbox p JOIN outbox n ON n.record_id = p.record_id "
        "AND n.seq > p.seq AND n.sealed = 0 AND n.state = 'pending' "
        "WHERE p.state = 'parked' AND p.retry_at IS NULL")]
    for record_id in records:
        rows = [OutboxEntry.from_row(r) for r in store.conn.execute(
            "SELECT * FROM outbox WHERE record_id = ? ORDER BY seq", (record_id,))]
        parked = [e for e in rows if e.state == "parked"]
        if any(e.retry_at for e in parked):
            continue
        newer = [e for e in rows if e.seq > parked[-1].seq and not e.sealed
                 and e.state == "pending"]
        if any(e.op == "delete" for e in newer):
            if any(e.op == "create" for e in parked):  # the registry never had it
                store.conn.execute("DELETE FROM outbox WHERE record_id = ?", (record_id,))
                _forget_unsent(store, record_id)
            else:  # refused changes of a record the user deletes anyway
                store.conn.executemany("DELETE FROM outbox WHERE seq = ?",
                                       [(e.seq,) for e in parked])
            continue
        edits = [e for e in newer if not carries_decision(e.op, e.fields)]
        fields = dict(parked[0].fields)
        for e in edits:
            fields.update(e.fields)
        store.conn.executemany("DELETE FROM outbox WHERE seq = ?", [(e.seq,) for e in edits])
        store.conn.execute("UPDATE outbox SET fields = ? WHERE seq = ?",
                           (json.dumps(fields, ensure_ascii=False), parked[0].seq))
        store.conn.executemany(
            "UPDATE outbox SET state = 'pending', last_error = NULL, sealed = 0, "
            "server_failures = 0, mutation_id = ? WHERE seq = ?",
            [(str(uuid.uuid4()), e.seq) for e in parked])


def _forget_unsent(store: RecordStore, record_id: str) -> None:
    """Remove a record the registry never accepted and nothing in the outbox still needs."""
    if store.conn.execute("SELECT 1 FROM outbox WHERE record_id = ?", (record_id,)).fetchone():
        return
    row = store.conn.execute("SELECT server_version FROM record WHERE id = ?",
                             (record_id,)).fetchone()
    if row is not None and row["server_version"] == 0:
        store.purge(record_id)


def ack(store: RecordStore, applied: list[tuple[OutboxEntry, int | None, Any | None]]) -> None:
    """The registry applied these entries, each now at `version` (inside the caller's
    transaction): they leave the outbox, into the journal. An answer with the registry's
    record makes it the laptop's copy, keeping fields that later entries still carry. An
    answer with the version only means the registry stored the entry exactly as sent on the
    laptop's base, so the new base is the old one with the entry's fields: only the base and
    its version move."""
    if not applied:
        return
    store.conn.executemany("DELETE FROM outbox WHERE seq = ?", [(e.seq,) for e, _, _ in applied])
    journal(store, *(e for e, _, _ in applied))
    known = []
    for entry, version, record in applied:
        if record is not None:
            apply_remote(store, record, unpushed_fields(store, record.id))
        elif version is not None:
            known.append((entry, version))
    _advance_bases(store, known)


def _advance_bases(store: RecordStore, known: list[tuple[OutboxEntry, int]]) -> None:
    rows = {r["id"]: (r["rid"], r["server_version"], r["base_data"])
            for r in _rows_by_id(store, "id, rid, server_version, base_data",
                                 [e.record_id for e, _ in known])}
    changed: dict[int, tuple] = {}
    for entry, version in known:  # in order: a batch may hold several entries of a record
        if entry.record_id not in rows:
            continue
        rid, at, base_json = rows[entry.record_id]
        if at >= version:
            continue  # the laptop has this version or a newer one already
        if entry.op == "create":
            base: dict = {}
        elif base_json is None:
            continue  # nothing to build on: the record comes back in the next pull
        else:
            base = json.loads(base_json)
        if entry.op != "delete":
            merged = {**base, **entry.fields}
            base = {k: v for k, v in merged.items() if v is not None and k != COMMENT_FIELD}
            base[STATUS_FIELD] = merged.get(STATUS_FIELD) or "draft"
            base[COMMENT_FIELD] = merged.get(COMMENT_FIELD)
        base_json = json.dumps(base, ensure_ascii=False)
        rows[entry.record_id] = (rid, version, base_json)
        changed[rid] = (version, base_json, rid)
    store.conn.executemany("UPDATE record SET server_version = ?, base_data = ? WHERE rid = ?",
                           list(changed.values()))


def _rows_by_id(store: RecordStore, columns: str, ids: list[str], table: str = "record",
                key: str = "id") -> list[sqlite3.Row]:
    """Rows whose `key` is one of `ids`, read 500 at a time (one statement per chunk)."""
    rows: list[sqlite3.Row] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        rows += store.conn.execute(
            f"SELECT {columns} FROM {table} WHERE {key} IN ({','.join('?' * len(chunk))})",
            chunk).fetchall()
    return rows


def park(store: RecordStore, entry: OutboxEntry, reason: dict) -> None:
    """The registry refused the entry: it waits, with the reason, for the user."""
    store.conn.execute("UPDATE outbox SET state = 'parked', last_error = ? WHERE seq = ?",
                       (json.dumps(reason, ensure_ascii=False), entry.seq))
    entry.state, entry.last_error = "parked", reason


#: Server errors (or unreadable answers) for an entry alone before it is parked.
POISON_AFTER = 3
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)


def server_failed(store: RecordStore, entry: OutboxEntry, reason: dict) -> bool:
    """The registry failed on this entry alone (a server error, or an answer that cannot be
    read). After POISON_AFTER such answers it is parked with the reason and tried again by
    itself later, waiting twice as long each time: one entry never blocks the queue. Returns
    True if it was parked. Commits."""
    with transaction(store.conn):
        store.conn.execute("UPDATE outbox SET server_failures = server_failures + 1 "
                           "WHERE seq = ?", (entry.seq,))
        failures = store.conn.execute("SELECT server_failures FROM outbox WHERE seq = ?",
                                      (entry.seq,)).fetchone()[0]
        entry.server_failures = failures
        if failures < POISON_AFTER:
            return False
        wait = min(RETRY_MAX, RETRY_FIRST * 2 ** (failures - POISON_AFTER))
        entry.retry_at = (datetime.now(UTC) + wait).isoformat(timespec="milliseconds")
        store.conn.execute("UPDATE outbox SET retry_at = ? WHERE seq = ?",
                           (entry.retry_at, entry.seq))
        park(store, entry, {"code": "server_error", **reason})
        return True


def held_behind(store: RecordStore) -> dict[int, int]:
    """{seq: seq of the parked entry it waits for} for entries held behind a parked one."""
    return dict(store.conn.execute(
        "SELECT o.seq, (SELECT max(p.seq) FROM outbox p WHERE p.record_id = o.record_id "
        "AND p.seq < o.seq AND p.state = 'parked') AS behind FROM outbox o "
        "WHERE o.state = 'pending' AND behind IS NOT NULL").fetchall())


def retry(store: RecordStore, seq: int) -> bool:
    """Send a parked entry again (the admin fixed the scope, say); False if there is none.
    Commits."""
    with transaction(store.conn):
        return store.conn.execute(
            "UPDATE outbox SET state = 'pending', retry_at = NULL, server_failures = 0 "
            "WHERE seq = ? AND state = 'parked'", (seq,)).rowcount > 0


def discard(store: RecordStore, seq: int) -> bool:
    """Give up a parked entry: the record goes back to what the registry last said. Commits.

    A record the registry never had disappears; otherwise its content returns to the last
    server copy unless later entries still carry the user's newer edits.
    """
    with transaction(store.conn):
        row = store.conn.execute("SELECT * FROM outbox WHERE seq = ? AND state = 'parked'",
                                 (seq,)).fetchone()
        if row is None:
            return False
        record_id = row["record_id"]
        if row["op"] == "create":
            # The registry never had the record: what was queued after it goes with it.
            store.conn.execute("DELETE FROM outbox WHERE record_id = ?", (record_id,))
        else:
            store.conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
        if store.conn.execute("SELECT 1 FROM outbox WHERE record_id = ?",
                              (record_id,)).fetchone():
            return True
        rec = store.conn.execute("SELECT * FROM record WHERE id = ?", (record_id,)).fetchone()
        if rec is None:
            return True
        if rec["server_version"] == 0:
            _forget_unsent(store, record_id)
        elif rec["base_data"]:
            base = json.loads(rec["base_data"])
            data = {k: v for k, v in base.items() if k not in (STATUS_FIELD, COMMENT_FIELD)}
            # The registry's approved values are not in the base: keep the laptop's.
            apply_remote(store, RemoteRecord(
                id=record_id, kind=rec["kind"], data=data, status=base.get(STATUS_FIELD),
                review_comment=base.get(COMMENT_FIELD), version=rec["server_version"],
                updated_at=rec["updated_at"], device_id=rec["device_id"],
                approved=json.loads(rec["approved_data"]) if rec["approved_data"] else None,
                queued_at=rec["queued_at"]), force=True)
        return True


def unpushed_fields(store: RecordStore, record_id: str) -> set[str]:
    """Fields that outbox entries of the record still carry (pending, in flight or parked).

    Contains DELETED for an unpushed delete and ALL_FIELDS for an unpushed create.
    """
    fields: set[str] = set()
    for op, raw in store.conn.execute(
            "SELECT op, fields FROM outbox WHERE record_id = ?", (record_id,)):
        if op == "create":
            fields.add(ALL_FIELDS)
        elif op == "delete":
            fields.add(DELETED)
        fields.update(json.loads(raw))
    return fields


def seal_open_entry(store: RecordStore, record_id: str) -> None:
    """Close the record's unsent entry, so the next save gets an entry of its own (based on
    the server's current version) instead of folding into it. Commits."""
    with transaction(store.conn):
        store.conn.execute("UPDATE outbox SET sealed = 1 WHERE record_id = ? AND sealed = 0",
                           (record_id,))


# -- conflicts -------------------------------------------------------------------------------
@dataclass
class Conflict:
    """One or more fields (or DELETED) this laptop and someone else both changed since the
    same version; the record shows the registry's values until the user resolves it."""
    id: int
    record_id: str
    kind: str
    mutation_id: str
    fields: dict[str, dict[str, Any]]  # {field: {"mine": v, "theirs": v}}
    mine: dict  # the laptop's whole content when the conflict arose
    server_version: int
    created_at: str
    resolved_at: str | None = None
    resolution: dict | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Conflict:
        return cls(row["id"], row["record_id"], row["kind"], row["mutation_id"],
                   json.loads(row["fields"]), json.loads(row["mine"]), row["server_version"],
                   row["created_at"], row["resolved_at"],
                   json.loads(row["resolution"]) if row["resolution"] else None)

    @property
    def is_delete(self) -> bool:
        return DELETED in self.fields

    def describe(self, lang: str = "zh") -> str:
        """One line for lists: which fields, or which side deleted the record."""
        if self.is_delete:
            if self.fields[DELETED].get(MINE):
                return "本机已删除,他人已修改" if lang == "zh" else "deleted here, edited elsewhere"
            return "本机已修改,他人已删除" if lang == "zh" else "edited here, deleted elsewhere"
        return ", ".join(sorted(self.fields))


def take_conflict(store: RecordStore, entry: OutboxEntry, version: int, record: Any | None,
                  fields: dict[str, dict[str, Any]]) -> int:
    """The registry answered the entry with a conflict: keep it for the user, and show the
    registry's values meanwhile. Returns the conflict's id."""
    local = store.get(entry.record_id, include_deleted=True)
    mine = local.content() if local else dict(entry.fields)
    store.conn.execute("DELETE FROM outbox WHERE seq = ?", (entry.seq,))
    journal(store, entry)  # the registry applied what did not conflict
    conflict_id = store.conn.execute(
        "INSERT INTO conflict(record_id, kind, mutation_id, fields, mine, server_version, "
        "created_at) VALUES (?,?,?,?,?,?,?)",
        (entry.record_id, entry.kind, entry.mutation_id, json.dumps(fields, ensure_ascii=False),
         json.dumps(mine, ensure_ascii=False), version, utcnow())).lastrowid
    if record is not None:
        # Force: the laptop may already be at this version (it pulled before pushing) yet
        # show its own values; until the user resolves, it must show the registry's.
        apply_remote(store, record, unpushed_fields(store, record.id), force=True)
    return conflict_id


def open_conflicts(store: RecordStore, record_id: str | None = None) -> list[Conflict]:
    sql, params = "SELECT * FROM conflict WHERE resolved_at IS NULL", []
    if record_id:
        sql += " AND record_id = ?"
        params.append(record_id)
    return [Conflict.from_row(r) for r in store.conn.execute(sql + " ORDER BY id", params)]


def open_conflict_count(store: RecordStore) -> int:
    return store.conn.execute(
        "SELECT count(*) FROM conflict WHERE resolved_at IS NULL").fetchone()[0]


def get_conflict(store: RecordStore, conflict_id: int) -> Conflict | None:
    row = store.conn.execute("SELECT * FROM conflict WHERE id = ?", (conflict_id,)).fetchone()
    return Conflict.from_row(row) if row else None


def mark_resolved(store: RecordStore, conflict_id: int, picked: dict) -> None:
    """Commits."""
    with transaction(store.conn):
        store.conn.execute("UPDATE conflict SET resolved_at = ?, resolution = ? WHERE id = ?",
                           (utcnow(), json.dumps(picked, ensure_ascii=False), conflict_id))


# -- the registry's view ---------------------------------------------------------------------
@dataclass
class RemoteRecord:
    """A record as the registry holds it, when it does not come off the wire (same attributes
    as the protocol's Record)."""
    id: str
    kind: str
    data: dict
    status: str | None = "draft"
    review_comment: str | None = None
    version: int = 0
    deleted: bool = False
    grid_code: str | None = None
    author: str | None = None
    device_id: str | None = None
    created_at: str = ""
    updated_at: str = ""
    approved: dict | None = None
    queued_at: str | None = None

    @classmethod
    def of(cls, wire: dict) -> RemoteRecord:
        return cls(**{k: wire.get(k) for k in cls.__dataclass_fields__ if k in wire})


@dataclass
class PageCounts:
    pulled: int = 0  # records inserted, updated or deleted
    deleted: int = 0
    evicted: int = 0


def cursor(store: RecordStore) -> str | None:
    return store.setting(cursor_key(store.user))


# -- the journal and the registry's generation (PROTOCOL.md, "Restored registry") ------------
JOURNAL_DAYS = 30  # default; the setting `journal_days` changes it


def journal(store: RecordStore, *entries: OutboxEntry) -> None:
    """Keep acknowledged mutations as they were sent (in the caller's transaction)."""
    import orjson

    now, user = utcnow(), store.user or ""
    store.conn.executemany(
        "INSERT OR IGNORE INTO sync_journal(mutation_id, user, body, acked_at) VALUES (?,?,?,?)",
        [(e.mutation_id, user, orjson.dumps(e.mutation()).decode(), now) for e in entries])


def journal_mutations(store: RecordStore) -> list[dict]:
    """The current user's acknowledged mutations in the order they were acknowledged."""
    return [json.loads(r[0]) for r in store.conn.execute(
        "SELECT body FROM sync_journal WHERE user = ? ORDER BY jseq", (store.user or "",))]


def prune_journal(store: RecordStore) -> int:
    """Forget mutations acknowledged longer ago than `journal_days` (commits)."""
    from datetime import UTC, datetime, timedelta

    days = store.setting("journal_days")
    keep = int(days) if days and days.isdigit() else JOURNAL_DAYS
    before = (datetime.now(UTC) - timedelta(days=keep)).isoformat()
    with transaction(store.conn):
        return store.conn.execute("DELETE FROM sync_journal WHERE acked_at < ?",
                                  (before,)).rowcount


def generation_key(user: str) -> str:
    return f"registry_generation:{user}"


def known_generation(store: RecordStore) -> str | None:
    return store.setting(generation_key(store.user))


def set_generation(store: RecordStore, generation: str) -> None:
    with transaction(store.conn):
        store.set_setting(generation_key(store.user), generation)


def realigning(store: RecordStore) -> bool:
    return store.setting(f"realign:{store.user}") == "1"


def start_realign(store: RecordStore) -> None:
    """After a restore: pull everything again, taking the registry's versions as they are
    now (they were renumbered), and send every attachment row again (commits)."""
    with transaction(store.conn):
        store.set_setting(f"realign:{store.user}", "1")
        store.conn.execute("DELETE FROM setting WHERE key = ?", (cursor_key(store.user),))
        store.conn.execute("UPDATE attachment SET state = 'local' WHERE state = 'uploaded' "
                           "AND has_content = 1")


def end_realign(store: RecordStore) -> None:
    with transaction(store.conn):
        store.conn.execute("DELETE FROM setting WHERE key = ?", (f"realign:{store.user}",))


def outbox_counts(store: RecordStore) -> dict[str, int]:
    """Entries by state (pending, parked)."""
    return {state: n for state, n in store.conn.execute(
        "SELECT state, count(*) FROM outbox GROUP BY state")}


def apply_page(store: RecordStore, page: Any, new_cursor: str) -> PageCounts:
    """Apply one pulled page (protocol PullPage: changes, history, areas, attachments) and
    move the cursor to `new_cursor`, all in one transaction: a crash never leaves the cursor
    ahead of the data. Commits."""
    from fieldapp.store import attachments

    counts = PageCounts()
    realign = realigning(store)
    with transaction(store.conn):
        if page.areas:
            store.upsert_areas(Area(code=a.code, name=a.name, level=a.level,
                                    parent_code=a.parent_code, lat=a.lat, lng=a.lng,
                                    households=a.households, boundary=a.boundary,
                                    pilot=bool(getattr(a, "pilot", False)),
                                    annual_target=getattr(a, "annual_target", None))
                               for a in page.areas)
        ids = [c.record_id for c in page.changes]
        here = {r["id"] for r in _rows_by_id(store, "id", ids)}
        waiting = {r["record_id"] for r in _rows_by_id(store, "record_id", ids, "outbox",
                                                        "record_id")}
        new: list[Any] = []
        for change in page.changes:
            if change.op == "evict":
                counts.evicted += evict(store, change.record_id)
                continue
            rec = change.record
            if rec is None:
                continue
            if change.op == "delete" and not rec.deleted:
                rec = _as_deleted(rec)
            if rec.id not in here and rec.id not in waiting:
                if not rec.deleted:  # a record the laptop never had: written with the rest
                    new.append(rec)
                    here.add(rec.id)
                    counts.pulled += 1
                continue
            keep = unpushed_fields(store, rec.id) if rec.id in waiting else set()
            outcome = apply_remote(store, rec, keep, realign=realign)
            counts.pulled += outcome in ("inserted", "updated", "deleted")
            counts.deleted += outcome == "deleted"
        _insert_remote(store, new)
        _add_history_all(store, page.history)
        attachments.apply_remote(store, [_attachment_dict(a) for a in page.attachments])
        store.set_setting(cursor_key(store.user), new_cursor)
    return counts


def _insert_remote(store: RecordStore, records: list[Any]) -> None:
    """New records from the registry, as `apply_remote` would write each, in a few
    statements (a first pull brings thousands)."""
    rows = []
    for rec in records:
        theirs = server_content(rec)
        data = {k: v for k, v in theirs.items()
                if k not in (STATUS_FIELD, COMMENT_FIELD) and v is not None}
        rows.append(Record(
            id=rec.id, kind=rec.kind, status=theirs[STATUS_FIELD] or "draft", data=data,
            grid_code=data.get("grid_code"), title=title_of(rec.kind, data),
            review_comment=theirs[COMMENT_FIELD], created_at=rec.created_at or "",
            updated_at=rec.updated_at or "", author=rec.author, device_id=rec.device_id,
            server_version=int(rec.version or 0), base_data=theirs,
            approved=_approved(rec, data), queued_at=_queued_at(rec)))
    if rows:
        store.insert_rows(rows)


def _add_history_all(store: RecordStore, entries: list[Any]) -> None:
    """`add_history` for a page's entries, in a few statements."""
    import orjson

    mine = own_devices(store)
    wanted = [e for e in entries if e.record_id
              and not (e.device_id in mine and e.mutation_id)]
    if not wanted:
        return
    ids = [e.record_id for e in wanted]
    here = {r["id"] for r in _rows_by_id(store, "id", ids)}
    seen = {(r["record_id"], r["server_seq"], r["action"], r["mutation_id"]) for r in
            _rows_by_id(store, "record_id, server_seq, action, mutation_id", ids, "history",
                        "record_id")}
    rows = []
    for e in wanted:
        action = e.action or "edit"
        key = (e.record_id, e.seq, action, e.mutation_id)
        if e.record_id not in here or key in seen:
            continue
        seen.add(key)
        rows.append((e.record_id, e.at or "", e.who, e.device_id, action,
                     orjson.dumps(e.changes or {}).decode(), e.comment, e.mutation_id, e.seq))
    store.conn.executemany(
        "INSERT INTO history(record_id, at, who, device_id, action, changes, comment, "
        "mutation_id, server_seq) VALUES (?,?,?,?,?,?,?,?,?)", rows)


def _as_deleted(rec: Any) -> RemoteRecord:
    values = {k: getattr(rec, k, None) for k in RemoteRecord.__dataclass_fields__}
    values["deleted"] = True
    return RemoteRecord(**values)


_ATTACHMENT_KEYS = ("id", "record_id", "sha256", "name", "kind", "mime", "size", "caption",
                    "created_at", "author", "uploaded_at", "deleted")


def _attachment_dict(row: Any) -> dict:
    return row if isinstance(row, dict) else {k: getattr(row, k, None) for k in _ATTACHMENT_KEYS}


def server_content(rec: Any) -> dict:
    """The registry record's content as the laptop compares it: fields plus status/comment."""
    data = {k: v for k, v in (rec.data or {}).items() if v is not None}
    return {**data, STATUS_FIELD: rec.status or "draft", COMMENT_FIELD: rec.review_comment}


def apply_remote(store: RecordStore, rec: Any, keep: set[str] | None = None, *,
                 force: bool = False, realign: bool = False) -> str:
    """Make the local copy of `rec` (the registry's record) match it, keeping unpushed edits.

    `keep` is `unpushed_fields` of the record: those fields keep the laptop's value (the push
    will meet the server's conflict rule). Returns what happened: inserted, updated, deleted,
    kept (a local delete or create is waiting) or stale (older than what the laptop has).
    `force` rewrites the record even at the version it has (undoing a discarded local edit);
    `realign` takes the registry's version even when lower (it was restored from a backup).
    """
    keep = keep or set()
    version = int(rec.version or 0)
    row = store.conn.execute("SELECT * FROM record WHERE id = ?", (rec.id,)).fetchone()
    existing = Record.from_row(row) if row else None
    if existing and not realign and (
            existing.server_version > version
            or existing.server_version == version and not keep and not force):
        # A version names one content: the laptop has this one already (often its own push
        # coming back through the feed), or a newer one.
        return "stale"
    theirs = server_content(rec)
    base_json = json.dumps(theirs, ensure_ascii=False)

    if rec.deleted:
        if existing is None:
            return "stale"  # never here: nothing to bury
        if keep:
            # An unpushed edit meets the `_deleted` conflict on the server; until then the
            # laptop keeps its record (and its old base, so the push does meet it).
            return "kept"
        store.tombstone(existing, rec.updated_at or existing.updated_at)
        _set_base(store, existing.rid, version, base_json)
        return "deleted"

    if existing is not None and ({DELETED, ALL_FIELDS} & keep):
        # The laptop deleted it, or created it and has not heard back: its version stands.
        _set_base(store, existing.rid, version, base_json)
        return "kept"

    mine = existing.content() if existing else {}
    merged = {**theirs, **{k: mine.get(k) for k in keep if k in mine or k in theirs}}
    data = {k: v for k, v in merged.items()
            if k not in (STATUS_FIELD, COMMENT_FIELD) and v is not None}
    if existing and not existing.deleted and existing.content() == {
            **data, STATUS_FIELD: merged.get(STATUS_FIELD),
            COMMENT_FIELD: merged.get(COMMENT_FIELD)}:
        _set_base(store, existing.rid, version, base_json)
        if STATUS_FIELD not in keep:
            approved = _approved(rec, data)
            store.conn.execute(
                "UPDATE record SET approved_data = ?, queued_at = ? WHERE rid = ?",
                (json.dumps(approved, ensure_ascii=False) if approved is not None else None,
                 _queued_at(rec), existing.rid))
        return "updated"
    # The approved values and queue place are the registry's, unless a decision made here
    # is still on its way there (then the laptop's own, decided by the same rule).
    local_step = existing is not None and STATUS_FIELD in keep
    record = Record(
        id=rec.id, kind=rec.kind, status=merged.get(STATUS_FIELD) or "draft", data=data,
        grid_code=data.get("grid_code"), title=title_of(rec.kind, data),
        review_comment=merged.get(COMMENT_FIELD),
        created_at=existing.created_at if existing else (rec.created_at or ""),
        updated_at=(existing.updated_at if existing and keep else rec.updated_at or ""),
        author=existing.author if existing else rec.author,
        device_id=rec.device_id,
        approved=existing.approved if local_step else _approved(rec, data),
        queued_at=existing.queued_at if local_step else _queued_at(rec))
    rid = store.write_row(record, existing)
    _set_base(store, rid, version, base_json)
    return "updated" if existing else "inserted"


def _approved(rec: Any, data: dict) -> dict | None:
    """The registry's last approved values: an approved record's are its own."""
    return dict(data) if rec.status == "approved" else getattr(rec, "approved", None)


def _queued_at(rec: Any) -> str | None:
    """The registry's queue place (older registries send none: the last change's time)."""
    return getattr(rec, "queued_at", None) or (
        rec.updated_at if rec.status == "submitted" else None)


def _set_base(store: RecordStore, rid: int, version: int, base_json: str) -> None:
    store.conn.execute("UPDATE record SET server_version = ?, base_data = ? WHERE rid = ?",
                       (version, base_json, rid))


def evict(store: RecordStore, record_id: str) -> bool:
    """Remove a record that left this laptop's scope, with its history and conflicts; False
    if it must stay.

    A record with outbox entries stays: dropping them would lose the user's work, and their
    push will be refused by scope and parked where the user can see it.
    """
    if store.conn.execute("SELECT 1 FROM outbox WHERE record_id = ? LIMIT 1",
                          (record_id,)).fetchone():
        return False
    if store.purge(record_id):
        store.conn.execute("DELETE FROM history WHERE record_id = ?", (record_id,))
        store.conn.execute("DELETE FROM conflict WHERE record_id = ?", (record_id,))
    return True


def take_identity(store: RecordStore, role: str, scopes: list[str]) -> int | None:
    """The registry's view of the current user (role, scopes) at the start of a sync; None
    when it is what the registry said before, else how many records were evicted: those
    outside every enrolled user's scope now (an admin narrowed it), unless they wait to be
    sent. Only a change on the registry is followed (`registry_identity:USER`). Commits."""
    from fieldapp.store.scope import ScopeError, user_scope

    user = store.user
    text = ",".join(sorted(scopes))
    said = store.setting(f"registry_identity:{user}") or \
        f"{store.setting(f'role:{user}')}|{store.setting(f'scopes:{user}')}"
    if said == f"{role}|{text}":
        return None
    evicted = 0
    with transaction(store.conn):
        store.set_setting(f"registry_identity:{user}", f"{role}|{text}")
        store.set_setting(f"scopes:{user}", text)
        store.set_setting(f"role:{user}", role)
        store.role = role
        # A team laptop keeps what any of its users may see.
        keep: set[str] = set()
        try:
            for (key,) in store.conn.execute("SELECT key FROM setting WHERE key LIKE 'scopes:%'"):
                grids = user_scope(store, key.split(":", 1)[1]).grids
                if grids is None:
                    return 0
                keep |= grids
        except ScopeError:
            return 0
        for (record_id, grid) in store.conn.execute(
                "SELECT id, grid_code FROM record WHERE grid_code IS NOT NULL").fetchall():
            if grid not in keep and evict(store, record_id):
                evicted += 1
    return evicted


def own_devices(store: RecordStore) -> set[str]:
    """The ids this laptop goes by: its own, and the one the registry issued to each user's
    credential here (`registry_device:USER`), which is what the registry's history names."""
    rows = store.conn.execute("SELECT value FROM setting WHERE key LIKE 'registry_device:%'")
    return {store.device_id, *(r[0] for r in rows)}


def add_history(store: RecordStore, entry: Any) -> bool:
    """Keep one history entry from the registry; False if the laptop already has it.

    The laptop wrote its own entries when it saved; the server's copies of those (same
    device, a mutation id) would show every change twice.
    """
    record_id, seq = entry.record_id, entry.seq
    if not record_id or (entry.device_id in own_devices(store) and entry.mutation_id):
        return False
    if store.conn.execute("SELECT 1 FROM record WHERE id = ?", (record_id,)).fetchone() is None:
        return False
    action = entry.action or "edit"
    if store.conn.execute(
            "SELECT 1 FROM history WHERE record_id = ? AND server_seq IS ? AND action = ? "
            "AND mutation_id IS ?", (record_id, seq, action, entry.mutation_id)).fetchone():
        return False
    store.conn.execute(
        "INSERT INTO history(record_id, at, who, device_id, action, changes, comment, "
        "mutation_id, server_seq) VALUES (?,?,?,?,?,?,?,?,?)",
        (record_id, entry.at or "", entry.who, entry.device_id, action,
         json.dumps(entry.changes or {}, ensure_ascii=False), entry.comment, entry.mutation_id,
         seq))
    return True


def replace_with_remote(store: RecordStore, records: Iterable[Any]) -> None:
    """Take the registry's copies as they are, dropping the records' outbox entries (the demo
    seeds a registry from this laptop's records). Commits."""
    with transaction(store.conn):
        for rec in records:
            store.conn.execute("DELETE FROM outbox WHERE record_id = ?", (rec.id,))
            apply_remote(store, rec, force=True)
