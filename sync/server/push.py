"""Applying a pushed batch of mutations: idempotency, scope, workflow, validation, conflicts.

The whole batch runs in one writing transaction that first locks the seq counter, so the
state read here is the state written over. Each mutation is decided in Python against an
in-memory copy of the records it touches; only decided changes are written, in bulk, at the
end. A rejected mutation writes nothing and never blocks the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from fieldapp.domain.project import facility_for, facility_id_for, stage_change_problems
from fieldapp.domain.revision import is_revision, snapshot_after, status_after_edit
from fieldapp.domain.validation import (
    COMMENT,
    FieldError,
    InvalidValue,
    coerce_comment,
    coerce_record,
    forbidden_fields,
    validate,
)
from fieldapp.domain.workflow import TransitionError, check_transition
from sync.protocol import Mutation
from sync.server.areas import COUNTER, AreaChains
from sync.server.auth import Principal, utcnow
from sync.server.db import writing
from sync.server.models import AppliedMutation, ChangeFeed, History, Record

RECORDS = Record.__table__
HISTORY = History.__table__
APPLIED = AppliedMutation.__table__
FEED = ChangeFeed.__table__
WORKFLOW_FIELDS = ("status", "review_comment")
STATUS_ACTIONS = {"submitted": "submit", "approved": "approve", "returned": "return",
                  "draft": "withdraw"}


def content_hash(m: Mutation) -> str:
    body = {"record_id": m.record_id, "kind": m.kind, "op": m.op,
            "base_version": m.base_version, "fields": m.fields}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dumps(value) -> str:  # noqa: ANN001
    # orjson: JSON encoding was the largest single cost of a 500-mutation batch.
    return orjson.dumps(value).decode("utf-8")


def record_dict(r: dict) -> dict:
    """A record as the protocol's Record object."""
    return {"id": r["id"], "kind": r["kind"], "status": r["status"],
            "review_comment": r["review_comment"], "data": r["data"], "version": r["version"],
            "deleted": bool(r["deleted"]), "grid_code": r["grid_code"], "author": r["author"],
            "device_id": r["device_id"], "created_at": r["created_at"],
            "updated_at": r["updated_at"], "approved": r.get("approved_data"),
            "queued_at": r.get("queued_at")}


def load_record(row) -> dict:  # noqa: ANN001
    r = dict(row._mapping)
    r["data"] = orjson.loads(r["data"])
    r["approved_data"] = orjson.loads(r["approved_data"]) if r.get("approved_data") else None
    return r


class Refused(Exception):
    def __init__(self, code: str, en: str, zh: str, errors: list[FieldError] = ()) -> None:
        super().__init__(en)
        self.code, self.en, self.zh, self.errors = code, en, zh, list(errors)

    def reason(self) -> dict:
        return {"code": self.code, "message": self.en, "message_zh": self.zh,
                "errors": [e.as_dict() for e in self.errors]}


@dataclass
class Batch:
    """Everything one push decides, then writes in a handful of statements."""
    conn: Connection
    who: Principal
    head: int
    now: str = field(default_factory=utcnow)
    records: dict[str, dict] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    theirs_log: dict[str, list] = field(default_factory=dict)  # record → [(version, dev, keys)]
    history: list[dict] = field(default_factory=list)
    feed: list[dict] = field(default_factory=list)
    applied: list[dict] = field(default_factory=list)
    known: dict[str, tuple[str, dict]] = field(default_factory=dict)

    # -- reading -------------------------------------------------------------------------------
    def load(self, mutations: list[Mutation]) -> None:
        ids = list({m.record_id for m in mutations})
        for row in self.conn.execute(select(RECORDS).where(RECORDS.c.id.in_(ids))):
            self.records[row.id] = load_record(row)
        for row in self.conn.execute(select(APPLIED).where(
                APPLIED.c.mutation_id.in_([m.mutation_id for m in mutations]))):
            self.known[row.mutation_id] = (row.content_hash, orjson.loads(row.result))
        bases = [m.base_version for m in mutations if m.record_id in self.records]
        if bases:
            rows = self.conn.execute(
                select(HISTORY.c.record_id, HISTORY.c.version, HISTORY.c.device_id,
                       HISTORY.c.changes)
                .where(HISTORY.c.record_id.in_(list(self.records)),
                       HISTORY.c.version > min(bases)))
            for row in rows:
                self.theirs_log.setdefault(row.record_id, []).append(
                    (row.version, row.device_id, set(orjson.loads(row.changes))))
        self.chains = AreaChains(self.conn)
        grids = [r["grid_code"] for r in self.records.values()]
        grids += [m.fields.get("grid_code") for m in mutations]
        self.chains.prefetch(g.strip() for g in grids if isinstance(g, str))

    def changed_by_others(self, record_id: str, base: int) -> set[str]:
        keys: set[str] = set()
        for version, device, changed in self.theirs_log.get(record_id, ()):
            if version > base and device != self.who.device_id:
                keys |= changed
        return keys

    # -- deciding ------------------------------------------------------------------------------
    def apply(self, m: Mutation) -> dict:
        digest = content_hash(m)
        if m.mutation_id in self.known:
            first_hash, result = self.known[m.mutation_id]
            if first_hash != digest:
                return _rejected(m, Refused(
                    "mutation_id_reused", "this mutation id was already used for other content",
                    "该修改编号已用于其他内容"))
            # The first answer holds the whole record: give it only to someone who may read
            # that record now (a mutation id is visible in history, so anyone could replay it).
            record = self.records.get(m.record_id)
            try:
                if record is None:
                    raise Refused("not_found", "no such record on the registry",
                                  "登记库中没有该记录")
                self._in_scope(record["grid_code"], ("see it", "查看"))
            except Refused as exc:
                return _rejected(m, exc)
            return {**result, "outcome": "already_applied", "original_outcome": result["outcome"]}
        try:
            result = getattr(self, f"_{m.op}")(m)
        except Refused as exc:
            return _rejected(m, exc)
        self.known[m.mutation_id] = (digest, result)
        self.applied.append({"mutation_id": m.mutation_id, "content_hash": digest,
                             "result": dumps(result)})
        return result

    def _in_scope(self, grid: str | None, action: tuple[str, str]) -> None:
        if not self.who.covers(self.chains.scope_codes(grid)):
            raise Refused("out_of_scope", f"grid {grid} is outside your scope: cannot {action[0]}",
                          f"网格 {grid} 不在您的负责范围内,不能{action[1]}")

    def _content(self, m: Mutation, current: dict | None) -> tuple[dict, str, str | None]:
        raw = {k: v for k, v in m.fields.items() if k not in WORKFLOW_FIELDS}
        data, errors = coerce_record(m.kind, raw)
        # Role-restricted fields (joint review: supervisors only), checked here as on the laptop.
        before = current["data"] if current else {}
        changed = [k for k, v in data.items() if before.get(k) != v]
        comment = current["review_comment"] if current else None
        if COMMENT in m.fields:
            try:
                sent = coerce_comment(m.fields[COMMENT])
            except InvalidValue as exc:
                errors.append(FieldError(COMMENT, exc.zh, exc.en))
            else:
                if sent != comment:
                    changed.append(COMMENT)
                comment = sent
        errors += forbidden_fields(m.kind, changed, self.who.role)
        status = m.fields.get("status", current["status"] if current else "draft")
        if not isinstance(status, str):
            errors.append(FieldError("status", "状态: 不是可选值",
                                     "Status: not one of the choices"))
        if errors:
            # Report every problem at once, as check_record does: also the other fields' ones.
            bad = {e.field for e in errors}
            whole = {**(current["data"] if current else {}), **data}
            errors += [e for e in validate(m.kind, whole, status if isinstance(status, str)
                                           else "draft", self.chains.grid_exists)
                       if e.field not in bad]
            raise _invalid(errors)
        return data, status, comment

    @staticmethod
    def _as_sent(m: Mutation, data: dict, comment: str | None) -> bool:
        """Whether the values stored are the values sent (coercion changed nothing)."""
        raw = {k: v for k, v in m.fields.items() if k not in WORKFLOW_FIELDS and v is not None}
        return {k: v for k, v in data.items() if v is not None} == raw and \
            m.fields.get("review_comment", comment) == comment

    def _validate(self, kind: str, data: dict, status: str, old_status: str | None,
                  comment: str | None, revision: bool = False) -> None:
        try:
            check_transition(old_status, status, self.who.role, comment, revision=revision)
        except TransitionError as exc:
            raise Refused("workflow", exc.en, exc.zh) from None
        # `data` is already coerced by _content, so this is check_record without coercing twice
        # (coercion is half the cost of a 500-mutation batch).
        errors = validate(kind, data, status, self.chains.grid_exists)
        if not data.get("grid_code") and not any(e.field == "grid_code" for e in errors):
            errors.append(FieldError("grid_code", "网格: 同步前必须填写",
                                     "Grid: required before syncing"))
        if errors:
            raise _invalid(errors)

    def _create(self, m: Mutation) -> dict:
        if m.record_id in self.records:
            raise Refused("record_exists", "a record with this id already exists",
                          "该编号的记录已存在")
        data, status, comment = self._content(m, None)
        known = self._as_sent(m, data, comment)
        data = {k: v for k, v in data.items() if v is not None}
        self._validate(m.kind, data, status, None, comment)
        self._project_rules(m.record_id, m.kind, {}, data, "draft")
        self._in_scope(data["grid_code"], ("create it", "新建"))
        record = {"id": m.record_id, "kind": m.kind, "status": status, "review_comment": comment,
                  "data": data, "version": 0, "deleted": False, "grid_code": data["grid_code"],
                  "author": self.who.name, "device_id": self.who.device_id,
                  "created_at": self.now, "updated_at": self.now,
                  "approved_data": None,
                  "queued_at": self.now if status == "submitted" else None}
        changes = {k: [None, v] for k, v in {**data, "status": status,
                                              "review_comment": comment}.items() if v is not None}
        self.records[m.record_id] = record
        self.created.add(m.record_id)
        self._commit(m, record, "create", changes, None)
        return _applied(m, record, known)

    def _existing(self, m: Mutation, verb: tuple[str, str]) -> dict:
        record = self.records.get(m.record_id)
        if record is None:
            raise Refused("not_found", "no such record on the registry", "登记库中没有该记录")
        if record["kind"] != m.kind:
            raise Refused("kind_mismatch", f"the record is a {record['kind']}, not a {m.kind}",
                          "记录类型不符")
        self._in_scope(record["grid_code"], verb)
        return record

    def _update(self, m: Mutation) -> dict:
        record = self._existing(m, ("change it", "修改"))
        if record["deleted"]:
            return self._conflict(m, record, {"_deleted": {"mine": False, "theirs": True}})
        before = record["version"]
        data, status, comment = self._content(m, record)
        known = before == m.base_version and self._as_sent(m, data, comment)
        current = {**record["data"], "status": record["status"],
                   "review_comment": record["review_comment"]}
        mine = {**data, **{k: v for k, v in (("status", status), ("review_comment", comment))
                           if k in m.fields}}
        theirs = self.changed_by_others(m.record_id, m.base_version)
        conflicts = {k: {"mine": v, "theirs": current.get(k)} for k, v in mine.items()
                     if k in theirs and v != current.get(k)}
        changes = {k: [current.get(k), v] for k, v in mine.items()
                   if k not in conflicts and v != current.get(k)}
        if changes:
            new_data = {**record["data"], **{k: v[1] for k, v in changes.items()
                                             if k not in WORKFLOW_FIELDS}}
            new_data = {k: v for k, v in new_data.items() if v is not None}
            if m.kind == "site" and new_data.get("project_stage") == "opened" \
                    and "facility_id" not in new_data:
                # The link to the facility the opening makes, when the laptop did not send it.
                new_data["facility_id"] = facility_id_for(record["id"])
                changes["facility_id"] = [None, new_data["facility_id"]]
            new_status = changes.get("status", [None, record["status"]])[1]
            # Editing an approved record's content is a revision, whatever status was sent.
            revised_status = status_after_edit(record["status"], new_status, changes)
            if revised_status != new_status:
                new_status = revised_status
                changes["status"] = [record["status"], new_status]
            revision = is_revision(record["status"], new_status, changes)
            new_comment = changes.get("review_comment", [None, record["review_comment"]])[1]
            self._validate(m.kind, new_data, new_status, record["status"], new_comment,
                           revision)
            self._project_rules(m.record_id, m.kind, record["data"], new_data, record["status"])
            if new_data["grid_code"] != record["grid_code"]:
                self._in_scope(new_data["grid_code"], ("move it there", "移入该网格"))
            old_grid = record["grid_code"]
            action = "revise" if revision else STATUS_ACTIONS.get(new_status, "update") \
                if new_status != record["status"] else "update"
            approved = snapshot_after(record["status"], new_status, record.get("approved_data"),
                                      record["data"], new_data, changes)
            queued_at = self.now if new_status == "submitted" and record["status"] != "submitted" \
                else record.get("queued_at")
            known = known and new_status == m.fields.get("status", new_status)
            record.update(data=new_data, status=new_status, review_comment=new_comment,
                          grid_code=new_data["grid_code"], updated_at=self.now,
                          approved_data=approved, queued_at=queued_at)
            self._commit(m, record, action, changes, old_grid)
            if m.kind == "site" and new_data.get("project_stage") == "opened":
                self._open_facility(m, record)
        if conflicts:
            return self._conflict(m, record, conflicts)
        return _applied(m, record, known)

    def _project_rules(self, record_id: str, kind: str, old: dict, new: dict,
                       old_status: str) -> None:
        """The project pipeline's rules on a change (fieldapp/domain/project.py), and the one
        link between a site and the facility its opening made: the derived id, never another."""
        if kind == "site":
            problems = stage_change_problems(old, new, old_status)
            if new.get("facility_id") not in (None, facility_id_for(record_id)):
                problems.append(("facility_id", "设施编号应由开放运营自动生成",
                                 "the facility id is the one the opening creates"))
            if problems:
                raise _invalid([FieldError(*p) for p in problems])
        elif kind == "facility" and new.get("site_id") != old.get("site_id"):
            raise _invalid([FieldError("site_id", "来源存量资源只能由项目开放运营生成",
                                       "a facility's site link is made only by the opening "
                                       "of that site's project")])

    def _open_facility(self, m: Mutation, site: dict) -> None:
        """Create the facility an opened site's project makes, unless it exists: its id is
        derived from the site's, so an opening sent twice, or by two laptops, makes one."""
        facility_id = facility_id_for(site["id"])
        if facility_id not in self.records:
            row = self.conn.execute(select(RECORDS).where(RECORDS.c.id == facility_id)).first()
            if row is not None:
                self.records[facility_id] = load_record(row)
        if facility_id in self.records:
            return
        from fieldapp.domain.coverage import FacilityIn, passes_complex
        from fieldapp.domain.norms import load as load_norms

        norms = load_norms(None)
        data = facility_for(site["id"], site["data"], lambda functions, area: passes_complex(
            FacilityIn("", "", tuple(functions), area, "complex"), norms))
        errors = validate("facility", data, "approved", self.chains.grid_exists)
        if errors:  # the site's own rules make this unreachable; never store a bad record
            raise _invalid(errors)
        record = {"id": facility_id, "kind": "facility", "status": "approved",
                  "review_comment": None, "data": data, "version": 0, "deleted": False,
                  "grid_code": data["grid_code"], "author": self.who.name,
                  "device_id": self.who.device_id, "created_at": self.now,
                  "updated_at": self.now, "approved_data": data, "queued_at": None}
        self.records[facility_id] = record
        self.created.add(facility_id)
        changes = {k: [None, v] for k, v in {**data, "status": "approved"}.items()}
        self._commit(m, record, "create", changes, None)

    def _delete(self, m: Mutation) -> dict:
        record = self._existing(m, ("delete it", "删除"))
        known = record["version"] == m.base_version and not record["deleted"]
        if not record["deleted"]:
            theirs = self.changed_by_others(m.record_id, m.base_version)
            if theirs:
                return self._conflict(m, record, {"_deleted": {"mine": True, "theirs": False}})
            if record["status"] == "approved" and self.who.role == "worker":
                raise Refused("workflow", "an approved record cannot be deleted",
                              "已通过的记录不能删除")
            record.update(deleted=True, updated_at=self.now)
            self._commit(m, record, "delete", {"_deleted": [False, True]}, None)
        return _applied(m, record, known)

    def _conflict(self, m: Mutation, record: dict, conflicts: dict) -> dict:
        return {"mutation_id": m.mutation_id, "outcome": "conflict", "version": record["version"],
                "record": record_dict(record), "conflicts": conflicts}

    def _commit(self, m: Mutation, record: dict, action: str, changes: dict,
                old_grid: str | None) -> None:
        self.head += 1
        record["version"] += 1
        self.dirty.add(record["id"])
        self.history.append({
            "record_id": record["id"], "version": record["version"], "seq": self.head,
            "at": self.now, "who": self.who.name, "device_id": self.who.device_id,
            "action": action, "changes": dumps(changes),
            "comment": record["review_comment"] if action in ("return", "approve") else None,
            "mutation_id": m.mutation_id})
        self.theirs_log.setdefault(record["id"], []).append(
            (record["version"], self.who.device_id, set(changes)))
        for code in self.chains.scope_codes(old_grid, record["grid_code"]):
            self.feed.append({"code": code, "seq": self.head, "record_id": record["id"]})

    # -- writing -------------------------------------------------------------------------------
    def write(self) -> None:
        rows = []
        for rid in self.dirty:
            r = self.records[rid]
            rows.append({**r, "data": dumps(r["data"]),
                         "approved_data": None if r.get("approved_data") is None
                         else dumps(r["approved_data"]), "queued_at": r.get("queued_at"),
                         "street_code": self.chains.level_of(r["grid_code"], "street"),
                         "district_code": self.chains.level_of(r["grid_code"], "district")})
        inserts = [r for r in rows if r["id"] in self.created]
        updates = [r for r in rows if r["id"] not in self.created]
        _insert_many(self.conn, RECORDS, inserts)
        if updates:
            cols = ("grid_code", "street_code", "district_code", "status", "review_comment",
                    "data", "version", "deleted", "updated_at", "approved_data", "queued_at")
            sets = ", ".join(f"{c} = {_mark(self.conn)}" for c in cols)
            self.conn.exec_driver_sql(
                f"UPDATE record SET {sets} WHERE id = {_mark(self.conn)}",
                [tuple(r[c] for c in (*cols, "id")) for r in updates])
        for table, batch in ((HISTORY, self.history), (FEED, self.feed),
                             (APPLIED, self.applied)):
            _insert_many(self.conn, table, batch)
        self.conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=self.head))


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _insert_many(conn: Connection, table, rows: list[dict]) -> None:  # noqa: ANN001
    """executemany at the driver: SQLAlchemy's per-row parameter processing costs more than
    the insert itself for a 500-row batch (both SQLite and psycopg take plain tuples)."""
    if not rows:
        return
    cols = list(rows[0])
    marks = ", ".join(_mark(conn) for _ in cols)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({marks})",
                         [tuple(r[c] for c in cols) for r in rows])


def _applied(m: Mutation, record: dict, known: bool) -> dict:
    """The `applied` Result. Version only when the laptop knows the record already (PROTOCOL.md):
    nothing changed it since `base_version` but this mutation, stored exactly as sent. That is
    the first sync of every record, and it halves the answer and the laptop's work."""
    result = {"mutation_id": m.mutation_id, "outcome": "applied", "version": record["version"]}
    if not known:
        result["record"] = record_dict(record)
    return result


def _invalid(errors: list[FieldError]) -> Refused:
    return Refused("invalid", "; ".join(e.en for e in errors), ";".join(e.zh for e in errors),
                   errors)


def _rejected(m: Mutation, exc: Refused) -> dict:
    return {"mutation_id": m.mutation_id, "outcome": "rejected", "reason": exc.reason()}


def push(engine: Engine, who: Principal, mutations: list[Mutation]) -> list[dict]:
    """Apply a batch in order; one Result per mutation, in the same order."""
    with writing(engine) as conn:
        # Lock the counter row first: writers queue here and commit in seq order.
        conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value))
        head = conn.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
        batch = Batch(conn, who, head)
        batch.load(mutations)
        results = [batch.apply(m) for m in mutations]
        batch.write()
    return results
