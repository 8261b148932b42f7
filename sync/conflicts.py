"""Conflicts the registry reported: keeping them, listing them, and resolving them.

A conflict is one field (or the pseudo-field `_deleted`) that this laptop and someone else
both changed since the same version. The record meanwhile shows the server's value; the
user picks mine, theirs or a new value per field, and the choice is an ordinary save that
syncs like any other edit (based on the server's version, so it does not conflict again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fieldapp.domain.workflow import TransitionError
from fieldapp.i18n import BilingualError
from fieldapp.store.db import transaction
from fieldapp.store.records import COMMENT_FIELD, STATUS_FIELD, RecordStore, utcnow

DELETED = "_deleted"
MINE, THEIRS = "mine", "theirs"


@dataclass
class Conflict:
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
    def from_row(cls, row) -> Conflict:
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
            mine_deleted = bool(self.fields[DELETED].get(MINE))
            if mine_deleted:
                return "本机已删除,他人已修改" if lang == "zh" else "deleted here, edited elsewhere"
            return "本机已修改,他人已删除" if lang == "zh" else "edited here, deleted elsewhere"
        return ", ".join(sorted(self.fields))


def record_conflict(store: RecordStore, record_id: str, kind: str, mutation_id: str,
                    fields: dict, server_version: int, mine: dict) -> int:
    """Keep a conflict the registry reported (inside the caller's transaction)."""
    return store.conn.execute(
        "INSERT INTO conflict(record_id, kind, mutation_id, fields, mine, server_version, "
        "created_at) VALUES (?,?,?,?,?,?,?)",
        (record_id, kind, mutation_id, json.dumps(fields, ensure_ascii=False),
         json.dumps(mine, ensure_ascii=False), server_version, utcnow())).lastrowid


def open_conflicts(store: RecordStore, record_id: str | None = None) -> list[Conflict]:
    sql, params = "SELECT * FROM conflict WHERE resolved_at IS NULL", []
    if record_id:
        sql += " AND record_id = ?"
        params.append(record_id)
    return [Conflict.from_row(r) for r in store.conn.execute(sql + " ORDER BY id", params)]


def open_count(store: RecordStore) -> int:
    return store.conn.execute(
        "SELECT count(*) FROM conflict WHERE resolved_at IS NULL").fetchone()[0]


def get(store: RecordStore, conflict_id: int) -> Conflict | None:
    row = store.conn.execute("SELECT * FROM conflict WHERE id = ?", (conflict_id,)).fetchone()
    return Conflict.from_row(row) if row else None


class ResolveError(BilingualError, ValueError):
    """A resolution that cannot be applied, with the reason in both languages."""


def resolve(store: RecordStore, conflict_id: int, choices: dict[str, Any] | None = None,
            default: str = THEIRS) -> str | None:
    """Settle a conflict; returns the id of the record the resolution saved, if any.

    `choices` maps a field to "mine", "theirs" or {"value": v}; fields not named take
    `default`. Raises ResolveError, ValidationFailed or TransitionError (nothing is marked
    resolved then, so the user can try again).
    """
    conflict = get(store, conflict_id)
    if conflict is None or conflict.resolved_at:
        raise ResolveError("没有这个待解决的冲突", f"no open conflict {conflict_id}")
    choices = dict(choices or {})
    unknown = set(choices) - set(conflict.fields)
    if unknown:
        raise ResolveError(f"冲突中没有这些字段: {', '.join(sorted(unknown))}",
                           f"not fields of this conflict: {', '.join(sorted(unknown))}")
    picked = {f: choices.get(f, default) for f in conflict.fields}
    for f, choice in picked.items():
        if choice not in (MINE, THEIRS) and not (isinstance(choice, dict) and "value" in choice):
            raise ResolveError(f"{f}: 请选择 本机/对方/新值", f"{f}: choose mine, theirs or a value")
    saved_id = _resolve_delete(store, conflict, picked[DELETED]) if conflict.is_delete else \
        _resolve_fields(store, conflict, picked)
    with transaction(store.conn):
        store.conn.execute("UPDATE conflict SET resolved_at = ?, resolution = ? WHERE id = ?",
                           (utcnow(), json.dumps(picked, ensure_ascii=False), conflict_id))
    return saved_id


def _resolve_delete(store: RecordStore, conflict: Conflict, choice: Any) -> str | None:
    if choice != MINE:
        return None  # theirs: the record already shows what the registry has
    if conflict.fields[DELETED].get(MINE):
        _seal_open_entry(store, conflict.record_id)
        store.delete(conflict.record_id)  # delete again, now against the edited version
        return conflict.record_id
    # Someone deleted it while this laptop edited it: keep the edit as a new record, since
    # a deleted record is never brought back under its old id.
    data = {k: v for k, v in conflict.mine.items() if k not in (STATUS_FIELD, COMMENT_FIELD)}
    status = conflict.mine.get(STATUS_FIELD) or "draft"
    try:
        record = store.save(conflict.kind, data, status=status)
    except TransitionError:
        record = store.save(conflict.kind, data)
    return record.id


def _resolve_fields(store: RecordStore, conflict: Conflict, picked: dict) -> str | None:
    raw: dict[str, Any] = {}
    for f, choice in picked.items():
        if choice == THEIRS:
            continue
        raw[f] = conflict.fields[f].get(MINE) if choice == MINE else choice["value"]
    if not raw:
        return None
    record = store.get(conflict.record_id)
    if record is None:
        raise ResolveError("记录已被删除,无法保留本机的值",
                           "the record has been deleted; nothing to keep")
    status = raw.pop(STATUS_FIELD, None)
    comment = raw.pop(COMMENT_FIELD, None)
    _seal_open_entry(store, conflict.record_id)
    store.save(conflict.kind, raw, record_id=conflict.record_id, status=status,
               comment=comment)
    return conflict.record_id


def _seal_open_entry(store: RecordStore, record_id: str) -> None:
    """Close an unsent entry made on an older base, so the resolution gets its own entry
    based on the server's current version instead of folding into that one."""
    with transaction(store.conn):
        store.conn.execute("UPDATE outbox SET sealed = 1 WHERE record_id = ? AND sealed = 0",
                           (record_id,))
