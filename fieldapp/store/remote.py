"""Writing the registry's view of records into the local store (for the sync engine).

Every function here runs inside the caller's transaction: the engine commits a pulled page
together with its cursor, and a push batch's answers together. Record rows and their search
terms change only through RecordStore's helpers, so the search index never drifts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fieldapp.domain.areas import Area
from fieldapp.domain.records import title_of

if TYPE_CHECKING:
    from fieldapp.store.records import RecordStore

STATUS, COMMENT = "status", "review_comment"
ALL_FIELDS = "*"  # an unpushed create: every field is the laptop's


def unpushed_fields(store: RecordStore, record_id: str) -> set[str]:
    """Fields that outbox entries of the record still carry (pending, in flight or parked).

    Contains "_deleted" for an unpushed delete and ALL_FIELDS for an unpushed create.
    """
    fields: set[str] = set()
    for op, raw in store.conn.execute(
            "SELECT op, fields FROM outbox WHERE record_id = ?", (record_id,)):
        if op == "create":
            fields.add(ALL_FIELDS)
        elif op == "delete":
            fields.add("_deleted")
        fields.update(json.loads(raw))
    return fields


def server_content(rec: dict) -> dict:
    """The registry record's content as the laptop compares it: fields plus status/comment."""
    data = {k: v for k, v in (rec.get("data") or {}).items() if v is not None}
    return {**data, STATUS: rec.get("status") or "draft", COMMENT: rec.get("review_comment")}


def apply_remote(store: RecordStore, rec: dict, keep: set[str] | None = None, *,
                 force: bool = False) -> str:
    """Make the local copy of `rec` (the server's Record) match it, keeping unpushed edits.

    `keep` is `unpushed_fields` of the record: those fields keep the laptop's value (the push
    will meet the server's conflict rule). Returns what happened: inserted, updated, deleted,
    kept (a local delete or create is waiting) or stale (older than what the laptop has).
    `force` rewrites the record even at the version it has (undoing a discarded local edit).
    """
    from fieldapp.store.records import Record

    keep = keep or set()
    version = int(rec.get("version") or 0)
    row = store.conn.execute("SELECT * FROM record WHERE id = ?", (rec["id"],)).fetchone()
    existing = Record.from_row(row) if row else None
    if existing and (existing.server_version > version
                     or existing.server_version == version and not keep and not force):
        # A version names one content: the laptop has this one already (often its own push
        # coming back through the feed), or a newer one.
        return "stale"
    theirs = server_content(rec)
    base_json = json.dumps(theirs, ensure_ascii=False)

    if rec.get("deleted"):
        if existing is None:
            return "stale"  # never here: nothing to bury
        if keep:
            # An unpushed edit meets the `_deleted` conflict on the server; until then the
            # laptop keeps its record (and its old base, so the push does meet it).
            return "kept"
        if not existing.deleted:
            store._fts_delete(existing.rid, existing.kind, existing.data)
        store.conn.execute(
            "UPDATE record SET deleted = 1, server_version = ?, base_data = ?, updated_at = ? "
            "WHERE rid = ?", (version, base_json, rec.get("updated_at") or existing.updated_at,
                              existing.rid))
        return "deleted"

    if existing is not None and ({"_deleted", ALL_FIELDS} & keep):
        # The laptop deleted it, or created it and has not heard back: its version stands.
        store.conn.execute("UPDATE record SET server_version = ?, base_data = ? WHERE rid = ?",
                           (version, base_json, existing.rid))
        return "kept"

    mine = existing.content() if existing else {}
    merged = {**theirs, **{k: mine.get(k) for k in keep if k in mine or k in theirs}}
    data = {k: v for k, v in merged.items() if k not in (STATUS, COMMENT) and v is not None}
    if existing and not existing.deleted and existing.content() == {
            **data, STATUS: merged.get(STATUS), COMMENT: merged.get(COMMENT)}:
        store.conn.execute("UPDATE record SET server_version = ?, base_data = ? WHERE rid = ?",
                           (version, base_json, existing.rid))
        return "updated"
    record = Record(
        id=rec["id"], kind=rec["kind"], status=merged.get(STATUS) or "draft", data=data,
        grid_code=data.get("grid_code"), title=title_of(rec["kind"], data),
        review_comment=merged.get(COMMENT),
        created_at=existing.created_at if existing else (rec.get("created_at") or ""),
        updated_at=(existing.updated_at if existing and keep else rec.get("updated_at") or ""),
        author=existing.author if existing else rec.get("author"),
        device_id=rec.get("device_id"))
    rid = store._write_row(record, existing)
    store.conn.execute("UPDATE record SET server_version = ?, base_data = ? WHERE rid = ?",
                       (version, base_json, rid))
    return "updated" if existing else "inserted"


def evict(store: RecordStore, record_id: str) -> bool:
    """Remove a record that left this laptop's scope, with its history; False if it must stay.

    A record with outbox entries stays: dropping them would lose the user's work, and their
    push will be refused by scope and parked where the user can see it.
    """
    if store.conn.execute("SELECT 1 FROM outbox WHERE record_id = ? LIMIT 1",
                          (record_id,)).fetchone():
        return False
    row = store.conn.execute("SELECT rid, kind, data, deleted FROM record WHERE id = ?",
                             (record_id,)).fetchone()
    if row is None:
        return True
    if not row["deleted"]:
        store._fts_delete(row["rid"], row["kind"], json.loads(row["data"]))
    store.conn.execute("DELETE FROM record WHERE rid = ?", (row["rid"],))
    store.conn.execute("DELETE FROM history WHERE record_id = ?", (record_id,))
    store.conn.execute("DELETE FROM conflict WHERE record_id = ?", (record_id,))
    return True


def add_history(store: RecordStore, entry: dict) -> bool:
    """Keep one history entry from the registry; False if the laptop already has it.

    The laptop wrote its own entries when it saved; the server's copies of those (same
    device, a mutation id) would show every change twice.
    """
    record_id = entry.get("record_id")
    seq = entry.get("seq")
    if not record_id or (entry.get("device_id") == store.device_id and entry.get("mutation_id")):
        return False
    if store.conn.execute("SELECT 1 FROM record WHERE id = ?", (record_id,)).fetchone() is None:
        return False
    if store.conn.execute(
            "SELECT 1 FROM history WHERE record_id = ? AND server_seq IS ? AND action = ? "
            "AND mutation_id IS ?",
            (record_id, seq, entry.get("action") or "edit", entry.get("mutation_id"))).fetchone():
        return False
    changes = entry.get("changes") or {}
    store.conn.execute(
        "INSERT INTO history(record_id, at, who, device_id, action, changes, comment, "
        "mutation_id, server_seq) VALUES (?,?,?,?,?,?,?,?,?)",
        (record_id, entry.get("at") or "", entry.get("who"), entry.get("device_id"),
         entry.get("action") or "edit", json.dumps(changes, ensure_ascii=False),
         entry.get("comment"), entry.get("mutation_id"), seq))
    return True


def areas_from_wire(rows: list[dict]) -> list[Area]:
    names = Area.__dataclass_fields__
    return [Area(**{k: v for k, v in row.items() if k in names}) for row in rows]
