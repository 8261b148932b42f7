"""Answering a pull: the change feed after a cursor, filtered to the credential's scope.

The head is read from the seq counter before the feed: every seq at or below a committed head
has committed (writers hold the counter row until commit), so a page never skips a change
that commits later with a smaller seq.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Engine

from sync.protocol import PULL_DEFAULT_LIMIT
from sync.server import ops
from sync.server.areas import AREAS, COUNTER, AreaChains
from sync.server.attachments import attachments_of
from sync.server.auth import Principal, scope_fingerprint
from sync.server.db import reading
from sync.server.push import FEED, HISTORY, RECORDS, load_record, record_dict


def parse_cursor(cursor: str | None, fingerprint: str, generation: str = "") -> int:
    """The seq to continue after; 0 for no cursor, a malformed one, another scope's, or one
    made before the registry was restored from a backup (`fp:generation:seq`; a cursor from
    before generations, `fp:seq`, is taken as it is)."""
    if not cursor or ":" not in cursor:
        return 0
    head, _, seq = cursor.rpartition(":")
    fp, _, gen = head.partition(":")
    # isdigit() alone is true for "²" and "①", which int() refuses: only ASCII digits count.
    if (fp != fingerprint or not (seq.isascii() and seq.isdigit())
            or (gen and gen != generation[:8])):
        return 0
    return int(seq)


def history_dict(row) -> dict:  # noqa: ANN001
    return {"record_id": row.record_id, "version": row.version, "seq": row.seq, "at": row.at,
            "who": row.who, "device_id": row.device_id, "action": row.action,
            "changes": orjson.loads(row.changes), "comment": row.comment,
            "mutation_id": row.mutation_id}


def area_dict(row) -> dict:  # noqa: ANN001
    return {"code": row.code, "name": row.name, "level": row.level,
            "parent_code": row.parent_code, "lat": row.lat, "lng": row.lng,
            "households": row.households, "boundary": row.boundary,
            "pilot": bool(row.pilot), "annual_target": row.annual_target}


def feed_page(codes, since: int, head: int, limit: int):  # noqa: ANN001, ANN201
    """Feed rows after `since` for these scope codes: a range scan of the (code, seq) key."""
    return (select(FEED.c.seq, FEED.c.record_id).distinct()
            .where(FEED.c.code.in_(codes), FEED.c.seq > since, FEED.c.seq <= head)
            .order_by(FEED.c.seq).limit(limit))


def pull(engine: Engine, who: Principal, cursor: str | None,
         limit: int = PULL_DEFAULT_LIMIT) -> dict:
    fingerprint = scope_fingerprint(who.role, who.scopes)
    generation = ops.generation(engine)[:8]
    since = parse_cursor(cursor, fingerprint, generation)
    # City-wide credentials read the feed by district: every area chain ends at one.
    codes = (select(AREAS.c.code).where(AREAS.c.level == "district")
             if who.everywhere else list(who.scopes))
    with reading(engine) as conn:
        head = conn.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
        since = min(since, head)  # a cursor from a restored-older database starts over
        # At the head (most pulls) there is nothing to look for: no query grows with the data.
        rows = conn.execute(feed_page(codes, since, head, limit)).all() if since < head else []
        more = len(rows) == limit
        upto = rows[-1].seq if more else head
        last_seq: dict[str, int] = {}
        for row in rows:
            last_seq[row.record_id] = row.seq
        records = {}
        if last_seq:
            for row in conn.execute(select(RECORDS).where(RECORDS.c.id.in_(list(last_seq)))):
                records[row.id] = load_record(row)
        chains = AreaChains(conn)
        chains.prefetch(r["grid_code"] for r in records.values())
        changes, visible = [], []
        for record_id, seq in sorted(last_seq.items(), key=lambda kv: kv[1]):
            r = records[record_id]
            if not who.covers(chains.scope_codes(r["grid_code"])):
                changes.append({"seq": seq, "op": "evict", "record_id": record_id,
                                "kind": r["kind"], "record": None})
                continue
            visible.append(record_id)
            changes.append({"seq": seq, "op": "delete" if r["deleted"] else "upsert",
                            "record_id": record_id, "kind": r["kind"],
                            "record": record_dict(r)})
        history = []
        if visible:
            history = [history_dict(h) for h in conn.execute(
                select(HISTORY).where(HISTORY.c.record_id.in_(visible), HISTORY.c.seq > since,
                                      HISTORY.c.seq <= upto).order_by(HISTORY.c.seq))]
        files = attachments_of(conn, visible) if visible else []
        area_q = select(AREAS).order_by(AREAS.c.code)
        if since:
            area_q = area_q.where(AREAS.c.seq > since, AREAS.c.seq <= upto)
        areas = [area_dict(a) for a in conn.execute(area_q)] if since < upto or not since else []
    return {"changes": changes, "history": history, "areas": areas, "attachments": files,
            "cursor": f"{fingerprint}:{generation}:{upto}", "more": more}
