"""Read helpers the screens need beyond RecordStore: grids, nearby records, inspections of a
target, returned records, and the unsaved-form drafts kept in `form_draft`.

Kept apart from `records.py` so the store's write path stays small; everything here reads,
except the form-draft functions, which never touch records, the outbox or history.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass

from fieldapp.domain.geo import haversine_m
from fieldapp.domain.records import KINDS
from fieldapp.store.records import Record, utcnow
from fieldapp.store.scope import grid_condition

#: Two sites closer than this are probably the same place entered twice.
NEAR_METRES = 30.0


@dataclass(frozen=True)
class Grid:
    code: str
    name: str


def grids(conn: sqlite3.Connection) -> list[Grid]:
    rows = conn.execute("SELECT code, name FROM area WHERE level = 'grid' ORDER BY code")
    return [Grid(r[0], r[1]) for r in rows]


def has_grids(conn: sqlite3.Connection) -> bool:
    """False on a new laptop: no area table until the first sync (or the demo)."""
    return conn.execute("SELECT 1 FROM area WHERE level = 'grid' LIMIT 1").fetchone() is not None


def streets_and_grids(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(code, name, level) of every street and grid, in code order (each grid under its
    street), for the lists' area filter."""
    return [tuple(r) for r in conn.execute(
        "SELECT code, name, level FROM area WHERE level IN ('street', 'grid') ORDER BY code")]


def titles(conn: sqlite3.Connection, record_ids: list[str]) -> dict[str, str]:
    """{id: title} for the records that exist (deleted ones too), in chunks SQLite accepts."""
    out: dict[str, str] = {}
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out.update(conn.execute(f"SELECT id, title FROM record WHERE id IN ({marks})", chunk))
    return out


def grid_names(conn: sqlite3.Connection, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    marks = ",".join("?" * len(codes))
    return dict(conn.execute(f"SELECT code, name FROM area WHERE code IN ({marks})", codes))


def home_counts(conn: sqlite3.Connection, scope: frozenset[str] | set[str] | None = None,
                limit: int = 12) -> tuple[dict[str, dict[str, int]], list[tuple[str, int]]]:
    """({kind: {status: n}}, the busiest grids with their sites and facilities) of the records
    in `scope` (grids; None: all local), from one pass over the `record_home_counts` index.

    Grouped by (kind, status, grid_code), the index's own order, once; both answers are
    summed from those groups inside SQLite, so a few rows come back. (Two queries read the
    index twice; summing the ~1,200 groups in Python held the GIL against the first paint,
    which this runs beside.) With a scope, every grid in it is listed, empty ones too.
    """
    in_scope, codes = grid_condition(scope, "grid_code")
    marks = ",".join("?" * len(KINDS))
    top = "" if scope else f"LIMIT {int(limit)}"
    rows = conn.execute(
        f"""WITH g(kind, status, grid_code, n) AS (
                SELECT kind, status, grid_code, count(*) FROM record
                INDEXED BY record_home_counts
                WHERE kind IN ({marks}) AND deleted = 0 AND {in_scope}
                GROUP BY kind, status, grid_code)
            SELECT kind, status, NULL, sum(n) FROM g GROUP BY kind, status
            UNION ALL
            SELECT * FROM (SELECT NULL, NULL, grid_code, sum(n) AS total FROM g
                           WHERE kind IN ('site', 'facility') AND grid_code IS NOT NULL
                           GROUP BY grid_code ORDER BY total DESC, grid_code {top})""",
        [*KINDS, *codes]).fetchall()
    counts: dict[str, dict[str, int]] = {}
    per_grid: dict[str, int] = dict.fromkeys(sorted(scope), 0) if scope else {}
    for kind, status, grid, n in rows:
        if kind is not None:
            counts.setdefault(kind, {})[status] = n
        else:
            per_grid[grid] = n
    busiest = sorted(per_grid.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    return counts, busiest


def counts_by_kind(conn: sqlite3.Connection, scope: frozenset[str] | None = None
                   ) -> dict[str, dict[str, int]]:
    """{kind: {status: n}} of the records in `scope` (grids; None: all local)."""
    return home_counts(conn, scope)[0]


def worker_grids(conn: sqlite3.Connection, scope: set[str] | None,
                 limit: int = 12) -> list[tuple[str, int]]:
    """The worker's grids with how many sites and facilities each holds, busiest first.

    With a scope (the grids sync assigned), those grids, empty ones included; without one,
    the busiest grids on this laptop.
    """
    return home_counts(conn, scope, limit)[1]


def returned(conn: sqlite3.Connection, limit: int = 50, *,
             scope: frozenset[str] | None = None, author: str | None = None) -> list[Record]:
    """Records sent back by a supervisor, newest first (what came back today is on top), in
    `scope`, and only `author`'s when given (a worker fixes her own records).

    One query per kind, each read in order off the (kind, status, updated_at) index; a
    single query over all kinds sorted every returned record first (0.1 s at 100,000).
    """
    in_scope, codes = grid_condition(scope, "grid_code")
    mine, who = ("AND author = ?", [author]) if author else ("", [])
    found: list[Record] = []
    for kind in KINDS:
        rows = conn.execute(
            "SELECT * FROM record INDEXED BY record_status WHERE kind = ? AND status = 'returned'"
            f" AND deleted = 0 AND {in_scope} {mine} ORDER BY updated_at DESC LIMIT ?",
            (kind, *codes, *who, limit)).fetchall()
        found.extend(Record.from_row(r) for r in rows)
    return sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]


def nearby(conn: sqlite3.Connection, kind: str, lat: float, lng: float,
           exclude_id: str | None = None,
           metres: float = NEAR_METRES) -> list[tuple[Record, float]]:
    """Records of `kind` within `metres` of a point, closest first, with their distance.

    A bounding box on the JSON coordinates narrows the rows before the exact distance.
    """
    dlat = metres / 111_320.0
    dlng = metres / (111_320.0 * max(0.1, math.cos(math.radians(lat))))
    rows = conn.execute(
        "SELECT * FROM record WHERE kind = ? AND deleted = 0 AND id != ? "
        "AND json_extract(data, '$.lat') BETWEEN ? AND ? "
        "AND json_extract(data, '$.lng') BETWEEN ? AND ?",
        (kind, exclude_id or "", lat - dlat, lat + dlat, lng - dlng, lng + dlng)).fetchall()
    found = []
    for row in rows:
        record = Record.from_row(row)
        distance = haversine_m(lat, lng, record.data["lat"], record.data["lng"])
        if distance <= metres:
            found.append((record, distance))
    return sorted(found, key=lambda pair: pair[1])


def inspections_of(conn: sqlite3.Connection, target_id: str, limit: int = 100) -> list[Record]:
    """Inspections recorded for a site or facility, newest inspection first.

    Pinned to the partial index on target_id (migration 5): left alone, SQLite preferred the
    counts index and read every inspection.
    """
    rows = conn.execute(
        "SELECT * FROM record INDEXED BY record_inspection_target "
        "WHERE kind = 'inspection' AND deleted = 0 AND json_extract(data, '$.target_id') = ? "
        "ORDER BY json_extract(data, '$.inspected_on') DESC, rid DESC LIMIT ?",
        (target_id, limit)).fetchall()
    return [Record.from_row(r) for r in rows]


def pending_of(conn: sqlite3.Connection, record_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT seq, op, state, attempts, last_error, created_at FROM outbox "
        "WHERE record_id = ? ORDER BY seq", (record_id,)).fetchall()


# -- unsaved form input ---------------------------------------------------------------------

@dataclass(frozen=True)
class FormDraft:
    form_key: str
    kind: str
    record_id: str | None
    data: dict
    saved_at: str


def not_duplicates(conn: sqlite3.Connection, record_id: str | None) -> set[str]:
    """Records the user said are not duplicates of `record_id` (kept on this laptop)."""
    if not record_id:
        return set()
    row = conn.execute("SELECT value FROM setting WHERE key = ?",
                       (f"not_duplicate:{record_id}",)).fetchone()
    return set(json.loads(row[0])) if row else set()


def mark_not_duplicates(conn: sqlite3.Connection, record_id: str, others: list[str]) -> None:
    """Remember "not a duplicate" both ways, so the warning does not come back for the pair."""
    for one, more in [(record_id, others)] + [(other, [record_id]) for other in others]:
        known = not_duplicates(conn, one) | set(more)
        conn.execute("INSERT INTO setting(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = excluded.value",
                     (f"not_duplicate:{one}", json.dumps(sorted(known))))


def form_key(kind: str, record_id: str | None) -> str:
    return f"{kind}:{record_id or 'new'}"


def save_form_draft(conn: sqlite3.Connection, kind: str, record_id: str | None,
                    data: dict) -> None:
    conn.execute(
        "INSERT INTO form_draft(form_key, kind, record_id, data, saved_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT(form_key) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at",
        (form_key(kind, record_id), kind, record_id, json.dumps(data, ensure_ascii=False),
         utcnow()))


def load_form_draft(conn: sqlite3.Connection, kind: str,
                    record_id: str | None) -> FormDraft | None:
    row = conn.execute("SELECT * FROM form_draft WHERE form_key = ?",
                       (form_key(kind, record_id),)).fetchone()
    if row is None:
        return None
    return FormDraft(row["form_key"], row["kind"], row["record_id"], json.loads(row["data"]),
                     row["saved_at"])


def clear_form_draft(conn: sqlite3.Connection, kind: str, record_id: str | None) -> None:
    conn.execute("DELETE FROM form_draft WHERE form_key = ?", (form_key(kind, record_id),))
