"""The supervisor's review queue: what waits for a decision, decisions, and what changed.

Works on whatever is in the local store — records pulled from the registry and records
entered on this laptop but not yet synced — so a supervisor can review a team laptop offline.
Every decision is an ordinary save (status + comment), so it gets history, goes through the
outbox, and the server checks the role again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fieldapp.domain.catalog import codes_in_scene
from fieldapp.store.records import COMMENT_FIELD, STATUS_FIELD, Record, RecordStore


@dataclass(frozen=True)
class QueueFilter:
    grid_code: str | None = None  # a grid or any area code above it
    author: str | None = None
    kind: str | None = None
    function: str | None = None
    grids: frozenset[str] | None = None  # the user's scope; None is everything local


def _where(store: RecordStore, f: QueueFilter) -> tuple[str, list]:
    clauses, params = ["r.status = 'submitted'", "r.deleted = 0"], []
    if f.kind:
        clauses.append("r.kind = ?")
        params.append(f.kind)
    if f.author:
        clauses.append("r.author = ?")
        params.append(f.author)
    if f.grid_code:
        grids = store.area_codes_below(f.grid_code)
        clauses.append(f"r.grid_code IN ({','.join('?' * len(grids))})")
        params.extend(grids)
    if f.grids is not None:
        clauses.append(f"r.grid_code IN ({','.join('?' * len(f.grids))})" if f.grids else "0")
        params.extend(sorted(f.grids))
    if f.function:
        codes = codes_in_scene(f.function)  # 养老 finds 失能失智照护 too
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(r.data, CASE r.kind WHEN 'site' THEN "
            f"'$.candidate_functions' ELSE '$.functions' END) WHERE value IN "
            f"({','.join('?' * len(codes))}))")
        params.extend(codes)
    return " AND ".join(clauses), params


def queue(store: RecordStore, f: QueueFilter = QueueFilter(), limit: int = 100,
          offset: int = 0) -> list[Record]:
    """Submitted records, the one waiting longest first: by when each entered the queue, so a
    joint-review save or an edit while it waits does not send it to the back."""
    where, params = _where(store, f)
    rows = store.conn.execute(
        f"SELECT * FROM record r WHERE {where} ORDER BY coalesce(r.queued_at, r.updated_at), "
        "r.rid LIMIT ? OFFSET ?",
        (*params, limit, offset)).fetchall()
    return [Record.from_row(r) for r in rows]


def counts_per_grid(store: RecordStore, f: QueueFilter = QueueFilter()) -> dict[str, int]:
    where, params = _where(store, f)
    return dict(store.conn.execute(
        f"SELECT r.grid_code, count(*) FROM record r WHERE {where} GROUP BY r.grid_code "
        "ORDER BY count(*) DESC", params).fetchall())


def changed_since_last_review(store: RecordStore, record_id: str) -> dict[str, list]:
    """{field: [value at last decision, value now]} for fields changed since it was last
    approved or returned; every field when it has never been reviewed."""
    entries = store.history(record_id)
    last_review = max((i for i, h in enumerate(entries)
                       if h["action"] in ("approved", "returned", "approve", "return")),
                      default=None)
    record = store.get(record_id)
    if record is None:
        return {}
    if last_review is None:
        return {k: [None, v] for k, v in record.data.items()}
    changed: dict[str, list] = {}
    for entry in entries[last_review + 1:]:
        for name, (old, new) in json.loads(entry["changes"] or "{}").items():
            if name in (STATUS_FIELD, COMMENT_FIELD):
                continue
            first_old = changed[name][0] if name in changed else old
            changed[name] = [first_old, new]
    return {k: v for k, v in changed.items() if v[0] != v[1]}


def approve(store: RecordStore, record_ids: list[str], comment: str | None = None) -> list[Record]:
    """Approve each record; all or nothing is not needed: each is its own decision."""
    done = []
    for record_id in record_ids:
        record = store.get(record_id)
        if record is None:
            raise KeyError(record_id)
        # An approval replaces the comment the record was returned with.
        done.append(store.save(record.kind, {}, record_id=record_id, status="approved",
                               comment=comment or ""))
    return done


def reopen(store: RecordStore, record_ids: list[str]) -> list[Record]:
    """Undo approvals: each approved record goes back to the queue (submitted), with its own
    history entry, so an approval made by a slip of the key is never final."""
    done = []
    for record_id in record_ids:
        record = store.get(record_id)
        if record is None:
            raise KeyError(record_id)
        if record.status == "approved":
            done.append(store.save(record.kind, {}, record_id=record_id, status="submitted"))
    return done


def send_back(store: RecordStore, record_id: str, comment: str) -> Record:
    """Return a record to its worker with a comment (required)."""
    record = store.get(record_id)
    if record is None:
        raise KeyError(record_id)
    return store.save(record.kind, {}, record_id=record_id, status="returned", comment=comment)


def save_joint_review(store: RecordStore, record_id: str, fields: dict) -> Record:
    """Save joint-review (联审) results on a site: the supervisor's own step. The status and
    the place in the review queue stay as they are (a submitted site is not re-submitted, an
    approved one stays approved); only supervisors may (the store and the registry refuse
    others by the fields' roles)."""
    from fieldapp.domain.revision import REVIEW_STEP_FIELDS
    from fieldapp.domain.validation import FieldError
    from fieldapp.store.records import ValidationFailed

    record = store.get(record_id)
    if record is None:
        raise KeyError(record_id)
    if record.kind != "site":
        raise ValidationFailed([FieldError("kind", "联审只针对存量资源",
                                           "joint review is for sites only")])
    other = sorted(set(fields) - REVIEW_STEP_FIELDS)
    if other:
        raise ValidationFailed([FieldError(other[0], "联审只能填写联审各项",
                                           "joint review saves joint-review fields only")])
    return store.save("site", fields, record_id=record_id)


MIN_PREFIX = 6


def resolve_id(store: RecordStore, prefix: str) -> str:
    """A full record id from an id or a unique prefix of at least MIN_PREFIX characters
    (`list` shows eight). Raises KeyError with a bilingual reason."""
    from fieldapp.domain.normalize import halfwidth

    given = halfwidth(str(prefix)).lower()
    if len(given) < MIN_PREFIX:
        raise KeyError(f"记录编号太短: {prefix!r}(至少 {MIN_PREFIX} 位,list 显示前 8 位)/ record "
                       f"id too short: {prefix!r} (at least {MIN_PREFIX} characters; list shows "
                       f"the first 8)")
    if any(ch not in "0123456789abcdef-" for ch in given):
        raise KeyError(f"记录编号只含 0-9、a-f 和 -: {prefix!r} / a record id holds only 0-9, "
                       f"a-f and -: {prefix!r}")
    rows = store.conn.execute("SELECT id FROM record WHERE id >= ? AND id < ? AND deleted = 0 "
                              "LIMIT 2", (given, given + "\uffff")).fetchall()
    if not rows:
        raise KeyError(f"没有编号以 {given} 开头的记录 / no record id starts with {given}")
    if len(rows) > 1:
        raise KeyError(f"有多条记录的编号以 {given} 开头,请多写几位 / several record ids start "
                       f"with {given}: give more characters")
    return rows[0][0]
