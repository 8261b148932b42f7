"""Resolving the conflicts the registry reported (kept by fieldapp/store/sync_state.py).

A conflict is one field (or the pseudo-field `_deleted`) that this laptop and someone else
both changed since the same version. The record meanwhile shows the server's value; the
user picks mine, theirs or a new value per field, and the choice is an ordinary save that
syncs like any other edit (based on the server's version, so it does not conflict again).
`open_conflicts`, `open_count` and `get` are the store's, named here for the screens.
"""

from __future__ import annotations

from typing import Any

from fieldapp.domain.workflow import TransitionError
from fieldapp.i18n import BilingualError
from fieldapp.store import sync_state as state
from fieldapp.store.records import COMMENT_FIELD, STATUS_FIELD, RecordStore

Conflict = state.Conflict
DELETED, MINE, THEIRS = state.DELETED, state.MINE, state.THEIRS
open_conflicts = state.open_conflicts
open_count = state.open_conflict_count
get = state.get_conflict


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
            raise ResolveError(f"{f}: 请选择 本机/对方/新值",
                               f"{f}: choose mine, theirs or a value")
    saved_id = _resolve_delete(store, conflict, picked[DELETED]) if conflict.is_delete else \
        _resolve_fields(store, conflict, picked)
    state.mark_resolved(store, conflict_id, picked)
    return saved_id


def _resolve_delete(store: RecordStore, conflict: Conflict, choice: Any) -> str | None:
    if choice != MINE:
        return None  # theirs: the record already shows what the registry has
    if conflict.fields[DELETED].get(MINE):
        state.seal_open_entry(store, conflict.record_id)
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
    state.seal_open_entry(store, conflict.record_id)
    store.save(conflict.kind, raw, record_id=conflict.record_id, status=status,
               comment=comment)
    return conflict.record_id
