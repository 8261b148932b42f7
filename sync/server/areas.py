"""Area reference data on the registry: ancestry lookups for scope checks, and loading areas.

A record's scope codes are its grid and every area above it (community, street, district).
Loading areas takes a change-feed seq so that pulls send only areas changed since the client's
cursor.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from fieldapp.domain.areas import Area as DomainArea
from fieldapp.domain.areas import validate_area
from sync.server.models import Area, SeqCounter

AREAS = Area.__table__
COUNTER = SeqCounter.__table__


class AreaChains:
    """Memoised ancestry of area codes for one transaction (reads a few rows per level)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.info: dict[str, tuple[str, str | None]] = {}  # code → (level, parent)
        self.missing: set[str] = set()
        self._chains: dict[str, list[str]] = {}
        self._scopes: dict[tuple, set[str]] = {}

    def prefetch(self, codes: Iterable[str]) -> None:
        pending = {c for c in codes if isinstance(c, str) and c and c not in self.info
                   and c not in self.missing}
        # No area code has a control character; never send one to the database (PostgreSQL
        # refuses NUL with an error, which would fail the whole batch).
        unprintable = {c for c in pending if not c.isprintable()}
        self.missing |= unprintable
        pending -= unprintable
        for _ in range(6):  # district → street → community → grid, with room to spare
            if not pending:
                return
            found = set()
            for chunk in _chunks(sorted(pending), 500):
                for row in self.conn.execute(select(AREAS.c.code, AREAS.c.level,
                                                    AREAS.c.parent_code)
                                             .where(AREAS.c.code.in_(chunk))):
                    self.info[row.code] = (row.level, row.parent_code)
                    found.add(row.code)
            self.missing |= pending - found
            pending = {self.info[c][1] for c in found if self.info[c][1]}
            pending = {c for c in pending if c not in self.info and c not in self.missing}

    def grid_exists(self, code: str) -> bool:
        self.prefetch([code])
        return self.info.get(code, ("", None))[0] == "grid"

    def chain(self, code: str | None) -> list[str]:
        """The code and all its ancestors, nearest first; [] when unknown."""
        if not code:
            return []
        known = self._chains.get(code)
        if known is not None:
            return known
        self.prefetch([code])
        out: list[str] = []
        at: str | None = code
        while at and at in self.info and at not in out:
            out.append(at)
            at = self.info[at][1]
        self._chains[code] = out
        return out

    def level_of(self, code: str, level: str) -> str | None:
        for c in self.chain(code):
            if self.info[c][0] == level:
                return c
        return None

    def scope_codes(self, *grids: str | None) -> set[str]:
        """Area codes a change to records in these grids touches (each chain ends at a
        district, which is how city-wide credentials find them)."""
        codes = self._scopes.get(grids)
        if codes is None:
            codes = set()
            for g in grids:
                codes.update(self.chain(g))
            self._scopes[grids] = codes
        return codes


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def check_areas(areas: list[DomainArea], known: set[str]) -> list[str]:
    """Per-row problems ("row N (code): reason"); a parent may be anywhere in the same list."""
    from fieldapp.domain.areas import LEVELS

    problems, seen = [], set(known)
    rank = {level: i for i, level in enumerate(LEVELS)}
    numbered = sorted(enumerate(areas, start=1), key=lambda na: rank.get(na[1].level, 0))
    for n, area in numbered:
        for p in validate_area(area, seen):
            problems.append(f"row {n} ({area.code or '?'}): {p}")
        seen.add(area.code)
    return problems


def upsert_areas(conn: Connection, areas: list[DomainArea]) -> int:
    """Insert or update areas inside a writing transaction; returns how many changed."""
    conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value))
    head = conn.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
    # The columns a CSV sets, by name: an outline (set_boundaries) is left as it is.
    # Pilot flag and target only when the file gives them (set-pilot keeps them otherwise).
    given = [k for k in ("pilot", "annual_target") if any(getattr(a, k, None) is not None
                                                          for a in areas)]
    columns = [AREAS.c[k] for k in ("code", "name", "level", "parent_code", "lat", "lng",
                                    "households", *given)]
    existing = {r.code: r for r in conn.execute(select(*columns))}
    seq = head + 1
    new_rows, changed_rows = [], []
    for a in areas:
        row = {"code": a.code, "name": a.name, "level": a.level, "parent_code": a.parent_code,
               "lat": a.lat, "lng": a.lng, "households": a.households}
        for key in given:
            if getattr(a, key, None) is not None:
                row[key] = getattr(a, key)
        old = existing.get(a.code)
        if old is None:
            new_rows.append({**row, "seq": seq})
        elif any(getattr(old, k) != v for k, v in row.items()):
            changed_rows.append({**row, "seq": seq})
    if new_rows:
        conn.execute(AREAS.insert(), new_rows)
    for row in changed_rows:
        conn.execute(update(AREAS).where(AREAS.c.code == row["code"]).values(**row))
    if new_rows or changed_rows:
        conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=seq))
    return len(new_rows) + len(changed_rows)


def set_area_values(conn: Connection, codes: list[str], **values: object) -> int:
    """Set columns (pilot, annual_target) of these areas inside a writing transaction; the rows
    changed get a new seq so laptops pull them. Returns rows changed."""
    conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value))
    head = conn.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
    seq, changed = head + 1, 0
    rows = {r.code: r for r in conn.execute(
        select(AREAS.c.code, *(AREAS.c[k] for k in values)).where(AREAS.c.code.in_(codes)))}
    for code in codes:
        if any(getattr(rows[code], k) != v for k, v in values.items()):
            conn.execute(update(AREAS).where(AREAS.c.code == code).values(**values, seq=seq))
            changed += 1
    if changed:
        conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=seq))
    return changed


def set_boundaries(conn: Connection, outlines: dict[str, str],
                   centres: dict[str, tuple[float, float]]) -> int:
    """Store grid outlines (JSON rings) inside a writing transaction, and a centre for grids
    that had none; the rows get a new seq so laptops pull them. Returns rows changed."""
    conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value))
    head = conn.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
    seq, changed = head + 1, 0
    rows = {r.code: r for r in conn.execute(
        select(AREAS.c.code, AREAS.c.boundary, AREAS.c.lat, AREAS.c.lng)
        .where(AREAS.c.code.in_(sorted(outlines))))}
    for code, outline in outlines.items():
        old = rows[code]
        values: dict = {}
        if old.boundary != outline:
            values["boundary"] = outline
        if (old.lat is None or old.lng is None) and code in centres:
            values["lat"], values["lng"] = centres[code]
        if values:
            conn.execute(update(AREAS).where(AREAS.c.code == code).values(**values, seq=seq))
            changed += 1
    if changed:
        conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=seq))
    return changed


def known_codes(conn: Connection) -> set[str]:
    return set(conn.execute(select(AREAS.c.code)).scalars())
