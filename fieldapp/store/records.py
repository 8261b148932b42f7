"""Saving, reading and searching records in the local store, with outbox and history.

Every save is one transaction: the record row, its search terms, its outbox mutation and its
history entry commit together or not at all, so a killed process never leaves half a record
or an outbox entry without its record.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fieldapp.domain.catalog import codes_in_scene
from fieldapp.domain.normalize import normalise_address
from fieldapp.domain.project import stage_change_problems
from fieldapp.domain.records import SEARCH_FIELDS, title_of
from fieldapp.domain.revision import is_revision, snapshot_after, status_after_edit
from fieldapp.domain.search import index_terms, match_expression
from fieldapp.domain.validation import (
    FieldError,
    InvalidValue,
    check_record,
    coerce_comment,
    forbidden_fields,
)
from fieldapp.domain.workflow import TransitionError, check_transition
from fieldapp.store.db import transaction
from fieldapp.store.scope import grid_condition, user_scope

#: Fields of the record envelope that travel like content fields in diffs and mutations.
STATUS_FIELD = "status"
COMMENT_FIELD = "review_comment"


#: The unsent outbox entry of a record. `+state` keeps the planner on the record_id index:
#: the state index matches every pending row, and a save took 90 ms with 100,000 waiting.
OPEN_ENTRY_SQL = ("SELECT seq, op, fields, author FROM outbox WHERE record_id = ? "
                  "AND sealed = 0 AND +state = 'pending' ORDER BY seq DESC LIMIT 1")


def carries_decision(op: str, fields: dict) -> bool:
    """True when an outbox entry holds a workflow step or a review comment. Such an entry is
    never merged with another: each decision reaches the registry as it was made (create,
    submit, approve as three steps the registry accepts; two returns as two comments)."""
    if op == "create":
        return fields.get(STATUS_FIELD) not in (None, "draft") or bool(fields.get(COMMENT_FIELD))
    return STATUS_FIELD in fields or COMMENT_FIELD in fields


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ValidationFailed(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.en for e in errors))
        self.errors = errors


@dataclass
class Record:
    id: str
    kind: str
    status: str
    data: dict
    grid_code: str | None = None
    title: str = ""
    review_comment: str | None = None
    created_at: str = ""
    updated_at: str = ""
    author: str | None = None
    device_id: str | None = None
    server_version: int = 0
    deleted: bool = False
    rid: int = 0
    base_data: dict | None = None
    pending: int = 0  # outbox entries not yet acknowledged
    extra: dict = field(default_factory=dict)
    # The last approved values (fieldapp/domain/revision.py); None if never approved.
    approved: dict | None = None
    queued_at: str | None = None  # when it last entered the review queue (its place there)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Record:
        return cls(
            id=row["id"], kind=row["kind"], status=row["status"], data=json.loads(row["data"]),
            grid_code=row["grid_code"], title=row["title"], review_comment=row["review_comment"],
            created_at=row["created_at"], updated_at=row["updated_at"], author=row["author"],
            device_id=row["device_id"], server_version=row["server_version"],
            deleted=bool(row["deleted"]), rid=row["rid"],
            base_data=json.loads(row["base_data"]) if row["base_data"] else None,
            approved=json.loads(row["approved_data"]) if row["approved_data"] else None,
            queued_at=row["queued_at"],
        )

    def approved_view(self) -> Record:
        """The record as approved-record reports read it: its last approved values (itself
        when it is approved and not under revision)."""
        from dataclasses import replace

        if self.approved is None or self.status == "approved":
            return self
        return replace(self, status="approved", data=dict(self.approved),
                       title=title_of(self.kind, self.approved),
                       grid_code=self.approved.get("grid_code") or self.grid_code)

    def content(self) -> dict:
        """Fields plus status and comment: what diffs and mutations compare."""
        return {**self.data, STATUS_FIELD: self.status, COMMENT_FIELD: self.review_comment}


@dataclass(frozen=True)
class Query:
    kind: str = "site"
    search: str | None = None
    grid_code: str | None = None  # a grid, or any area code: matches grids below it
    status: str | None = None
    source_type: str | None = None
    function: str | None = None
    author: str | None = None
    sort: str = "updated_at"
    descending: bool = True
    # The grids shown: `user_scope(store).grids` (fieldapp/store/scope.py); None is all local.
    scope: frozenset[str] | None = None
    # status="approved" means "has approved values", read from them (reports, exports): a
    # revision under review never reaches them (fieldapp/domain/revision.py).
    approved_values: bool = False


SORTABLE = {"updated_at", "created_at", "title", "grid_code", "status"}


def search_text(kind: str, data: dict) -> str:
    return " ".join(str(data[f]) for f in SEARCH_FIELDS[kind] if data.get(f))


def diff(old: dict, new: dict) -> dict[str, list]:
    """{field: [old, new]} for every field whose value differs."""
    keys = list(old) + [k for k in new if k not in old]
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def _content_json(data_json: str, r: Record) -> str:
    """The JSON of {**data, status, comment}, spliced onto the data's (compact) JSON.

    Bulk imports spent as long encoding the outbox copy as the record itself; content fields
    are never named status or review_comment, so the splice equals the full encoding.
    """
    tail = (f'"{STATUS_FIELD}":{json.dumps(r.status, ensure_ascii=False)},'
            f'"{COMMENT_FIELD}":{json.dumps(r.review_comment, ensure_ascii=False)}}}')
    return data_json[:-1] + ("," if r.data else "") + tail


class RecordStore:
    """The local records of one laptop, seen as one user on one device."""

    def __init__(self, conn: sqlite3.Connection, user: str = "", role: str = "worker",
                 device_id: str | None = None) -> None:
        self.conn = conn
        self.user = user
        self.role = role
        self.device_id = device_id or self._device_id()
        self._scope_cache: tuple | None = None  # fieldapp.store.scope.user_scope's

    # -- settings ---------------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO setting(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def _device_id(self) -> str:
        existing = self.setting("device_id")
        if existing:
            return existing
        new_id = str(uuid.uuid4())
        self.conn.execute("INSERT OR IGNORE INTO setting(key, value) VALUES ('device_id', ?)",
                          (new_id,))
        return self.setting("device_id") or new_id

    # -- areas ------------------------------------------------------------------------------
    def grid_exists(self, code: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM area WHERE code = ? AND level = 'grid'", (code,)).fetchone() is not None

    def canonical_grid(self, code: str) -> str:
        """The grid a typed code names: as typed when it exists, else the grid whose code it
        spells in another case (310104003001g01); else as typed, for validation to refuse."""
        from fieldapp.domain.normalize import halfwidth

        code = halfwidth(code)
        if not code or self.grid_exists(code):
            return code
        row = self.conn.execute("SELECT code FROM area WHERE code = ? COLLATE NOCASE AND "
                                "level = 'grid' LIMIT 2", (code,)).fetchall()
        return row[0][0] if len(row) == 1 else code

    def area_codes_below(self, code: str) -> list[str]:
        """Grid codes at or below an area code (a grid gives itself)."""
        rows = self.conn.execute(
            """WITH RECURSIVE sub(code, level) AS (
                   SELECT code, level FROM area WHERE code = ?
                   UNION ALL
                   SELECT a.code, a.level FROM area a JOIN sub ON a.parent_code = sub.code)
               SELECT code FROM sub WHERE level = 'grid'""", (code,)).fetchall()
        return [r[0] for r in rows] or [code]

    @property
    def path(self) -> Path | None:
        """The database file (None for an in-memory database)."""
        row = self.conn.execute("PRAGMA database_list").fetchone()
        return Path(row[2]) if row and row[2] else None

    # -- reading ----------------------------------------------------------------------------
    def get(self, record_id: str, include_deleted: bool = False) -> Record | None:
        row = self.conn.execute("SELECT * FROM record WHERE id = ?", (record_id,)).fetchone()
        if row is None or (row["deleted"] and not include_deleted):
            return None
        record = Record.from_row(row)
        record.pending = self.conn.execute(
            "SELECT count(*) FROM outbox WHERE record_id = ?", (record_id,)).fetchone()[0]
        return record

    def where_sql(self, q: Query) -> tuple[str, list[Any]]:
        """The WHERE clause (alias r) and parameters of a query, for lists and exports."""
        clauses, params = ["r.kind = ?", "r.deleted = 0"], [q.kind]
        by_approved = q.approved_values and q.status == "approved"
        data = "coalesce(r.approved_data, r.data)" if by_approved else "r.data"
        if q.grid_code:
            grids = self.area_codes_below(q.grid_code)
            clauses.append(f"r.grid_code IN ({','.join('?' * len(grids))})")
            params.extend(grids)
        if q.scope is not None:
            condition, codes = grid_condition(q.scope)
            clauses.append(condition)
            params.extend(codes)
        if by_approved:
            clauses.append("(r.approved_data IS NOT NULL OR r.status = 'approved')")
        elif q.status:
            clauses.append("r.status = ?")
            params.append(q.status)
        if q.author:
            clauses.append("r.author = ?")
            params.append(q.author)
        if q.source_type:
            clauses.append(f"json_extract({data}, '$.source_type') = ?")
            params.append(q.source_type)
        if q.function:
            key = "candidate_functions" if q.kind == "site" else "functions"
            codes = codes_in_scene(q.function)  # 养老 finds 失能失智照护 too
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({data}, '$.{key}') WHERE value IN "
                           f"({','.join('?' * len(codes))}))")
            params.extend(codes)
        return " AND ".join(clauses), params

    def _source(self, q: Query) -> tuple[str, list[Any], bool]:
        """FROM clause and its parameters; with a search the FTS index drives the query.

        CROSS JOIN pins the join order: left to itself SQLite's planner may scan every record
        and probe the index per row, which took seconds at 100,000 records.
        """
        expression = match_expression(q.search) if q.search else None
        if expression:
            return ("record_fts f CROSS JOIN record r ON r.rid = f.rowid "
                    "WHERE record_fts MATCH ? AND ", [expression], True)
        return "record r WHERE ", [], False

    def query(self, q: Query, limit: int = 50, offset: int = 0) -> list[Record]:
        """One page of records matching `q`.

        Always in the order asked for, searching or not (the list's header says which).
        """
        source, source_params, searching = self._source(q)
        where, params = self.where_sql(q)
        sort = q.sort if q.sort in SORTABLE else "updated_at"
        direction = "DESC" if q.descending else "ASC"
        order = f"r.{sort} {direction}, r.rid {direction}"
        if searching and sort == "updated_at" and self._many_matches(source_params[0]):
            # Many matches: walk the records in update order and keep those that match, so
            # the page is found without sorting every match (a one-character word matches
            # most of 100,000 records). Few matches are simply sorted.
            source = ("record r INDEXED BY record_list WHERE r.rid IN "
                      "(SELECT rowid FROM record_fts WHERE record_fts MATCH ?) AND ")
        rows = self.conn.execute(
            f"SELECT r.* FROM {source}{where} ORDER BY {order} LIMIT ? OFFSET ?",
            (*source_params, *params, limit, offset)).fetchall()
        return [Record.from_row(r) for r in rows]

    def _many_matches(self, expression: str, few: int = 2000) -> bool:
        return self.conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM record_fts WHERE record_fts MATCH ? LIMIT ?)",
            (expression, few + 1)).fetchone()[0] > few

    def count(self, q: Query, cap: int | None = None) -> int:
        """How many records match; stops counting at `cap` (show it as "cap+")."""
        source, source_params, _ = self._source(q)
        where, params = self.where_sql(q)
        inner = f"SELECT 1 FROM {source}{where}" + (" LIMIT ?" if cap else "")
        all_params = [*source_params, *params] + ([cap] if cap else [])
        return self.conn.execute(f"SELECT count(*) FROM ({inner})", all_params).fetchone()[0]

    def counts_by_status(self, kind: str | None = None) -> dict[str, int]:
        sql = "SELECT status, count(*) FROM record WHERE deleted = 0"
        params: tuple = ()
        if kind:
            sql += " AND kind = ?"
            params = (kind,)
        return dict(self.conn.execute(sql + " GROUP BY status", params).fetchall())

    def counts_by_kind(self, scope: frozenset[str] | None = None) -> dict[str, dict[str, int]]:
        """{kind: {status: n}} of the records in `scope` (grids; None: everything local)."""
        condition, params = grid_condition(scope, "grid_code")
        result: dict[str, dict[str, int]] = {}
        for kind, status, n in self.conn.execute(
                f"SELECT kind, status, count(*) FROM record WHERE deleted = 0 AND {condition} "
                "GROUP BY kind, status", params):
            result.setdefault(kind, {})[status] = n
        return result

    def pending_count(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    def live_after(self, rid: int, limit: int) -> list[Record]:
        """Records not deleted, in storage order after `rid` (walks every record in pages)."""
        rows = self.conn.execute("SELECT * FROM record WHERE deleted = 0 AND rid > ? "
                                 "ORDER BY rid LIMIT ?", (rid, limit)).fetchall()
        return [Record.from_row(r) for r in rows]

    def history(self, record_id: str) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT * FROM history WHERE record_id = ? ORDER BY at, id", (record_id,)).fetchall()

    def find_by_address(self, kind: str, address: str, exclude_id: str | None = None,
                        grid_code: str | None = None) -> list[Record]:
        key = normalise_address(address)
        if not key:
            return []
        sql = "SELECT * FROM record WHERE address_key = ? AND kind = ? AND deleted = 0"
        params: list[Any] = [key, kind]
        if grid_code:
            sql += " AND grid_code = ?"
            params.append(grid_code)
        if exclude_id:
            sql += " AND id != ?"
            params.append(exclude_id)
        return [Record.from_row(r) for r in self.conn.execute(sql, params)]

    # -- writing ----------------------------------------------------------------------------
    def save(self, kind: str, raw: dict, *, record_id: str | None = None,
             status: str | None = None, comment: str | None = None) -> Record:
        """Validate and save a record (new or edited) with its outbox entry and history.

        Raises ValidationFailed (field errors) or TransitionError (status change not allowed).
        Returns the saved record; saving unchanged content writes nothing.
        """
        with transaction(self.conn):
            existing = self.get(record_id) if record_id else None
            base = existing.data if existing else {}
            old_status = existing.status if existing else "draft"
            new_status = status or old_status
            merged = {**base, **raw}
            if isinstance(raw.get("grid_code"), str):
                merged["grid_code"] = self.canonical_grid(raw["grid_code"])
            data, errors = check_record(kind, merged, new_status, self.grid_exists)
            if errors:
                raise ValidationFailed(errors)
            data = {k: v for k, v in data.items() if v is not None}
            changed_data = diff(base, data)
            if existing:
                # Editing an approved record's content is a revision: back to the queue.
                revised_status = status_after_edit(old_status, new_status, changed_data)
                if revised_status != new_status:
                    new_status = revised_status
                    _, errors = check_record(kind, data, new_status, self.grid_exists)
                    if errors:
                        raise ValidationFailed(errors)
            self._check_scope(existing, data.get("grid_code"), new_status)
            given = comment is not None  # "" clears the comment (an approval does)
            if given:
                try:
                    comment = coerce_comment(comment)
                except InvalidValue as exc:
                    raise ValidationFailed([FieldError(COMMENT_FIELD, exc.zh, exc.en)]) from None
            new_comment = comment if given else (existing.review_comment if existing else None)
            if existing and new_status == "submitted" and old_status == "returned":
                new_comment = existing.review_comment  # keep the comment that was answered
            # The comment the record will carry, as the registry checks it.
            revision = existing is not None and is_revision(old_status, new_status, changed_data)
            # Fields this role may not change say so first (joint review: supervisors only).
            denied = forbidden_fields(kind, changed_data, self.role)
            if kind == "site":  # the project pipeline's change rules, as the registry has them
                denied += [FieldError(*p) for p in stage_change_problems(
                    base, data, old_status if existing else "draft")]
            if denied:
                raise ValidationFailed(denied)
            check_transition(old_status, new_status, self.role, new_comment, revision=revision)
            old_content = existing.content() if existing else {}
            new_content = {**data, STATUS_FIELD: new_status, COMMENT_FIELD: new_comment}
            changes = diff(old_content, new_content)
            if existing and not changes:
                return existing
            denied = forbidden_fields(kind, changes, self.role)
            if denied:
                raise ValidationFailed(denied)
            now = utcnow()
            record = Record(
                id=record_id or str(uuid.uuid4()), kind=kind, status=new_status, data=data,
                grid_code=data.get("grid_code"), title=title_of(kind, data),
                review_comment=new_comment, created_at=existing.created_at if existing else now,
                updated_at=now, author=existing.author if existing else self.user,
                device_id=self.device_id,
                server_version=existing.server_version if existing else 0,
                base_data=existing.base_data if existing else None,
                approved=snapshot_after(old_status, new_status,
                                        existing.approved if existing else None, base, data,
                                        changed_data),
                queued_at=(now if new_status == "submitted" and old_status != "submitted"
                           or not existing else existing.queued_at),
            )
            record.rid = self.write_row(record, existing)
            self._enqueue(record, "update" if existing else "create",
                          {k: v[1] for k, v in changes.items()}, now)
            action = "create" if not existing else "revised" if revision else (
                new_status if new_status != old_status else "edit")
            self._history(record.id, action, changes, comment, now)
            return record

    def delete(self, record_id: str) -> None:
        with transaction(self.conn):
            existing = self.get(record_id)
            if existing is None:
                return
            user_scope(self).require(existing.grid_code, "delete")
            if existing.status == "approved" and self.role == "worker":
                raise TransitionError("已通过的记录不能删除",
                                      "an approved record cannot be deleted")
            now = utcnow()
            self.tombstone(existing, now)
            self._enqueue(existing, "delete", {}, now)
            self._history(record_id, "delete", {}, None, now)

    def _check_scope(self, existing: Record | None, grid: object, new_status: str) -> None:
        """Refuse, with the registry's reason, what the registry would refuse for scope."""
        scope = user_scope(self)
        if scope.enrolled is None:
            return
        if existing is None:
            scope.require(grid if isinstance(grid, str) else None, "create")
            return
        action = new_status if new_status in ("approved", "returned") and \
            new_status != existing.status else "edit"
        scope.require(existing.grid_code, action)
        if isinstance(grid, str) and grid != existing.grid_code:
            scope.require(grid, "move")

    def write_row(self, record: Record, existing: Record | None) -> int:
        """Write the record's row and its search terms (inside the caller's transaction);
        no outbox entry and no history: for saves, and for the registry's copies (sync_state)."""
        if record.approved is None and record.status == "approved":
            record.approved = record.data  # an approved record's approved values are its own
        text = search_text(record.kind, record.data)
        address = record.data.get("address")
        values = (record.kind, record.grid_code, record.status, record.title,
                  json.dumps(record.data, ensure_ascii=False), text,
                  normalise_address(address) if address else None, record.review_comment,
                  record.updated_at, record.device_id,
                  json.dumps(record.approved, ensure_ascii=False)
                  if record.approved is not None else None, record.queued_at)
        if existing:
            if not existing.deleted:  # a deleted record's terms already left the index
                self._fts_delete(existing.rid, existing.kind, existing.data)
            self.conn.execute(
                "UPDATE record SET kind=?, grid_code=?, status=?, title=?, data=?, search_text=?, "
                "address_key=?, review_comment=?, updated_at=?, device_id=?, approved_data=?, "
                "queued_at=?, local_rev = local_rev + 1, deleted = 0 WHERE rid = ?",
                (*values, existing.rid))
            rid = existing.rid
        else:
            rid = self.conn.execute(
                "INSERT INTO record(kind, grid_code, status, title, data, search_text, address_key,"
                " review_comment, updated_at, device_id, approved_data, queued_at, id, "
                "created_at, author) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, record.id, record.created_at, record.author)).lastrowid
        self._fts_insert(rid, text)
        return rid

    def tombstone(self, record: Record, updated_at: str) -> None:
        """Mark a record deleted (inside the caller's transaction): it leaves lists and the
        search index, and its row stays so that an older copy never brings it back."""
        if not record.deleted:  # a tombstone's terms already left the index
            self._fts_delete(record.rid, record.kind, record.data)
        self.conn.execute("UPDATE record SET deleted = 1, updated_at = ? WHERE rid = ?",
                          (updated_at, record.rid))

    def purge(self, record_id: str) -> bool:
        """Remove a record from this laptop altogether, with its search terms (inside the
        caller's transaction): the one hard delete. A delete the user makes is a tombstone
        (`delete`), which syncs; this is for records the laptop must forget (never sent, or
        out of its scope). False if there was none."""
        row = self.conn.execute("SELECT rid, kind, data, deleted FROM record WHERE id = ?",
                                (record_id,)).fetchone()
        if row is None:
            return False
        if not row["deleted"]:  # a tombstone's terms already left the index
            self._fts_delete(row["rid"], row["kind"], json.loads(row["data"]))
        self.conn.execute("DELETE FROM record WHERE rid = ?", (row["rid"],))
        return True

    def _fts_insert(self, rid: int, text: str) -> None:
        uni, bi = index_terms(text)
        self.conn.execute("INSERT INTO record_fts(rowid, uni, bi) VALUES (?, ?, ?)",
                          (rid, uni, bi))

    def _fts_delete(self, rid: int, kind: str, data: dict) -> None:
        # A contentless FTS5 table forgets a row only when told the terms it was given.
        uni, bi = index_terms(search_text(kind, data))
        self.conn.execute(
            "INSERT INTO record_fts(record_fts, rowid, uni, bi) VALUES ('delete', ?, ?, ?)",
            (rid, uni, bi))

    def _enqueue(self, record: Record, op: str, fields: dict, now: str) -> None:
        """Add the change to the outbox, folding a content edit into the unsent entry the
        same user opened for the record, unless either holds a decision (carries_decision).
        Entries belong to their author: they go with that user's credential."""
        open_entry = self.conn.execute(OPEN_ENTRY_SQL, (record.id,)).fetchone()
        if open_entry and op != "delete":
            earlier = json.loads(open_entry["fields"])
            if ((open_entry["author"] or "") == (self.user or "")
                    and not carries_decision(open_entry["op"], earlier)
                    and not carries_decision("update", fields)):
                self.conn.execute("UPDATE outbox SET fields = ? WHERE seq = ?",
                                  (json.dumps({**earlier, **fields}, ensure_ascii=False),
                                   open_entry["seq"]))
                return
        if op == "delete" and open_entry and self._never_sent(record.id):
            # Never left the laptop: forget it entirely.
            self.conn.execute("DELETE FROM outbox WHERE record_id = ?", (record.id,))
            self.purge(record.id)
            return
        if op == "create":
            fields = {**record.data, STATUS_FIELD: record.status,
                      COMMENT_FIELD: record.review_comment}
        self.conn.execute(
            "INSERT INTO outbox(mutation_id, record_id, kind, op, base_version, fields, "
            "created_at, author, device_id) VALUES (?,?,?,?,?,?,?,?,?)",
            (str(uuid.uuid4()), record.id, record.kind, op, record.server_version,
             json.dumps(fields, ensure_ascii=False), now, self.user, self.device_id))

    def _never_sent(self, record_id: str) -> bool:
        """No entry of the record has been sealed (sent) and the registry never had it."""
        row = self.conn.execute("SELECT server_version FROM record WHERE id = ?",
                                (record_id,)).fetchone()
        return (row is not None and row[0] == 0 and self.conn.execute(
            "SELECT 1 FROM outbox WHERE record_id = ? AND sealed = 1", (record_id,)
        ).fetchone() is None and self.conn.execute(
            "SELECT 1 FROM outbox WHERE record_id = ? AND op = 'create'", (record_id,)
        ).fetchone() is not None)

    def _history(self, record_id: str, action: str, changes: dict, comment: str | None,
                 now: str) -> None:
        self.conn.execute(
            "INSERT INTO history(record_id, at, who, device_id, action, changes, comment) "
            "VALUES (?,?,?,?,?,?,?)",
            (record_id, now, self.user, self.device_id, action,
             json.dumps(changes, ensure_ascii=False), comment))

    # -- bulk loading (demo, import, benchmarks) --------------------------------------------
    def load_areas(self, areas: Iterable) -> int:
        with transaction(self.conn):
            return self.upsert_areas(areas)

    def upsert_areas(self, areas: Iterable) -> int:
        """Insert or update areas inside the caller's transaction (sync applies a page so)."""
        rows = [(a.code, a.name, a.level, a.parent_code, a.lat, a.lng, a.households,
                 getattr(a, "boundary", None), int(bool(getattr(a, "pilot", False))),
                 getattr(a, "annual_target", None)) for a in areas]
        if rows:
            self.conn.executemany(
                "INSERT INTO area(code, name, level, parent_code, lat, lng, households, "
                "boundary, pilot, annual_target) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(code) DO UPDATE SET "
                "name=excluded.name, level=excluded.level, parent_code=excluded.parent_code, "
                "lat=excluded.lat, lng=excluded.lng, households=excluded.households, "
                "boundary=excluded.boundary, pilot=excluded.pilot, "
                "annual_target=excluded.annual_target", rows)
        return len(rows)

    def insert_many(self, records: list[Record], *, enqueue: bool = True) -> int:
        """Insert new, already validated records in one transaction (demo, import, benchmarks).

        Same rows as `save` would write — record, search terms, outbox, history — batched.
        """
        now = utcnow()
        with transaction(self.conn):
            for r in records:
                r.grid_code = r.grid_code or r.data.get("grid_code")
                r.created_at, r.updated_at = r.created_at or now, r.updated_at or now
                r.author, r.device_id = r.author or self.user, self.device_id
            data_jsons = self.insert_rows(records)
            outbox, history = [], []
            for r, data_json in zip(records, data_jsons, strict=True):
                if enqueue:
                    content_json = _content_json(data_json, r)
                    outbox.append((str(uuid.uuid4()), r.id, r.kind, content_json,
                                   r.updated_at, r.author, self.device_id))
                # The created content is the record itself; history need not copy it.
                history.append((r.id, r.created_at, r.author, self.device_id))
            self.conn.executemany(
                "INSERT INTO outbox(mutation_id, record_id, kind, op, base_version, fields, "
                "created_at, author, device_id) VALUES (?,?,?,'create',0,?,?,?,?)", outbox)
            self.conn.executemany(
                "INSERT INTO history(record_id, at, who, device_id, action) "
                "VALUES (?,?,?,?,'create')", history)
        return len(records)

    def insert_rows(self, records: list[Record]) -> list[str]:
        """Insert new records' rows and search terms as they are (inside the caller's
        transaction; no outbox, no history): the bulk form of `write_row`, for imports and
        pulled pages. Sets each record's rid; returns each one's data as JSON."""
        import orjson  # 5-10× json.dumps: a bulk load encodes every record once or twice

        next_rid = (self.conn.execute("SELECT max(rid) FROM record").fetchone()[0] or 0) + 1
        rows, fts, data_jsons = [], [], []
        for offset, r in enumerate(records):
            r.rid = next_rid + offset
            if r.approved is None and r.status == "approved":
                r.approved = r.data  # an approved record's approved values are its own
            text = search_text(r.kind, r.data)
            address = r.data.get("address")
            data_json = orjson.dumps(r.data).decode()
            data_jsons.append(data_json)
            rows.append((r.rid, r.id, r.kind, r.grid_code, r.status,
                         r.title or title_of(r.kind, r.data), data_json, text,
                         normalise_address(address) if address else None, r.review_comment,
                         r.created_at, r.updated_at, r.author, r.device_id, r.server_version,
                         orjson.dumps(r.base_data).decode() if r.base_data is not None else None,
                         orjson.dumps(r.approved).decode() if r.approved is not None else None,
                         r.queued_at if r.queued_at is not None else (
                             r.updated_at if r.status == "submitted" else None)))
            fts.append((r.rid, *index_terms(text)))
        self.conn.executemany(
            "INSERT INTO record(rid, id, kind, grid_code, status, title, data, search_text, "
            "address_key, review_comment, created_at, updated_at, author, device_id, "
            "server_version, base_data, approved_data, queued_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        self.conn.executemany("INSERT INTO record_fts(rowid, uni, bi) VALUES (?,?,?)", fts)
        return data_jsons

    def count_all(self) -> int:
        return self.conn.execute("SELECT count(*) FROM record").fetchone()[0]
