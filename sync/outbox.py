"""The laptop's side of pushing: sealing outbox batches, parking refused entries, and what
the user can do with parked ones (retry, discard).

A sealed outbox row never changes again, so a batch resent after a lost answer carries the
same mutation ids and content, and the registry answers "already applied".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fieldapp.store import remote
from fieldapp.store.db import transaction
from fieldapp.store.records import RecordStore


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

    @classmethod
    def from_row(cls, row) -> OutboxEntry:
        return cls(row["seq"], row["mutation_id"], row["record_id"], row["kind"], row["op"],
                   row["base_version"], json.loads(row["fields"]), row["created_at"],
                   row["state"], bool(row["sealed"]), row["attempts"],
                   json.loads(row["last_error"]) if row["last_error"] else None)

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
        return "; ".join(x for x in [head or err.get("code", ""), *details] if x)


def entries(store: RecordStore, state: str | None = None) -> list[OutboxEntry]:
    sql, params = "SELECT * FROM outbox", ()
    if state:
        sql, params = sql + " WHERE state = ?", (state,)
    return [OutboxEntry.from_row(r) for r in store.conn.execute(sql + " ORDER BY seq", params)]


def seal_batch(store: RecordStore, limit: int) -> list[OutboxEntry]:
    """The next pending entries in order, sealed in a committed transaction before sending."""
    with transaction(store.conn):
        _fold_edited_parked(store)
        rows = store.conn.execute(
            "SELECT * FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?",
            (limit,)).fetchall()
        store.conn.executemany(
            "UPDATE outbox SET sealed = 1, attempts = attempts + 1 WHERE seq = ?",
            [(r["seq"],) for r in rows])
    return [OutboxEntry.from_row(r) for r in rows]


def _fold_edited_parked(store: RecordStore) -> None:
    """A parked entry whose record the user edited since is replaced by that newer entry.

    The refused mutation was never applied, so its fields (and a create's op and base)
    move into the unsent entry that the edit opened; the edit usually fixed what was refused.
    """
    parked = store.conn.execute(
        "SELECT p.seq AS pseq, p.op AS pop, p.fields AS pfields, p.base_version AS pbase, "
        "n.seq AS nseq, n.op AS nop, n.fields AS nfields FROM outbox p JOIN outbox n "
        "ON n.record_id = p.record_id AND n.seq > p.seq AND n.sealed = 0 "
        "AND n.state = 'pending' WHERE p.state = 'parked' ORDER BY p.seq").fetchall()
    for row in parked:
        if not store.conn.execute("SELECT 1 FROM outbox WHERE seq = ?", (row["nseq"],)).fetchone():
            continue
        store.conn.execute("DELETE FROM outbox WHERE seq = ?", (row["pseq"],))
        if row["nop"] == "delete":
            if row["pop"] == "create":  # the registry never had it: nothing to delete there
                record_id = store.conn.execute("SELECT record_id FROM outbox WHERE seq = ?",
                                               (row["nseq"],)).fetchone()[0]
                store.conn.execute("DELETE FROM outbox WHERE seq = ?", (row["nseq"],))
                _forget_unsent(store, record_id)
            continue
        fields = {**json.loads(row["pfields"]), **json.loads(row["nfields"])}
        op = "create" if row["pop"] == "create" else row["nop"]
        base = row["pbase"] if row["pop"] == "create" else None
        store.conn.execute(
            "UPDATE outbox SET fields = ?, op = ?, base_version = coalesce(?, base_version), "
            "last_error = NULL WHERE seq = ?",
            (json.dumps(fields, ensure_ascii=False), op, base, row["nseq"]))


def _forget_unsent(store: RecordStore, record_id: str) -> None:
    """Remove a record the registry never accepted and nothing in the outbox still needs."""
    if store.conn.execute("SELECT 1 FROM outbox WHERE record_id = ?", (record_id,)).fetchone():
        return
    row = store.conn.execute("SELECT rid, kind, data, deleted, server_version FROM record "
                             "WHERE id = ?", (record_id,)).fetchone()
    if row is None or row["server_version"] > 0:
        return
    if not row["deleted"]:
        store._fts_delete(row["rid"], row["kind"], json.loads(row["data"]))
    store.conn.execute("DELETE FROM record WHERE rid = ?", (row["rid"],))


def park(store: RecordStore, seq: int, reason: dict) -> None:
    store.conn.execute("UPDATE outbox SET state = 'parked', last_error = ? WHERE seq = ?",
                       (json.dumps(reason, ensure_ascii=False), seq))


def retry(store: RecordStore, seq: int) -> bool:
    """Send a parked entry again (the admin fixed the scope, say); False if there is none."""
    with transaction(store.conn):
        return store.conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE seq = ? AND state = 'parked'",
            (seq,)).rowcount > 0


def discard(store: RecordStore, seq: int) -> bool:
    """Give up a parked entry: the record goes back to what the registry last said.

    A record the registry never had disappears; otherwise its content returns to the last
    server copy unless later entries still carry the user's newer edits.
    """
    with transaction(store.conn):
        row = store.conn.execute("SELECT * FROM outbox WHERE seq = ? AND state = 'parked'",
                                 (seq,)).fetchone()
        if row is None:
            return False
        store.conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
        record_id = row["record_id"]
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
            data = {k: v for k, v in base.items() if k not in ("status", "review_comment")}
            remote.apply_remote(store, {"id": record_id, "kind": rec["kind"], "data": data,
                                "status": base.get("status"),
                                "review_comment": base.get("review_comment"),
                                "version": rec["server_version"], "deleted": False,
                                "updated_at": rec["updated_at"],
                                "device_id": rec["device_id"]}, force=True)
        return True
