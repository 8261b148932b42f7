"""Importing sites and facilities from CSV/xlsx lists: find the header, normalise each cell with
the form's own rules, match rows to existing records, save, and report every rejected row.

Each row is keyed by the record id column, else the external id, else normalised address +
grid, so importing the same file twice changes nothing. New rows go in batches through
`RecordStore.insert_many`; a changed row goes through `RecordStore.save`, so it is an edit
like any other (outbox, history). Rejected rows are written, with the reason in an extra
column, to an errors file in the input's own format, which the user fixes and imports again.
"""

from __future__ import annotations

import itertools
import math
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fieldapp.domain import normalize as N
from fieldapp.domain.choices import STATUS
from fieldapp.domain.geo import gcj02_to_wgs84
from fieldapp.domain.records import FIELD_INDEX, title_of
from fieldapp.domain.revision import is_revision, status_after_edit
from fieldapp.domain.validation import InvalidValue, coerce, forbidden_fields, validate
from fieldapp.domain.workflow import TransitionError, check_transition
from fieldapp.io import headers as H
from fieldapp.io.keys import AMBIGUOUS, KeyIndex
from fieldapp.io.outcome import ImportReport, RowError
from fieldapp.io.tables import RowWriter, TableError, open_table
from fieldapp.io.template import example_data
from fieldapp.store.records import Record, RecordStore, ValidationFailed
from fieldapp.store.scope import user_scope

IMPORT_KINDS = ("site", "facility")
BATCH_ROWS = 2000
CACHE_LIMIT = 50_000  # distinct values remembered per column

Progress = Callable[[int, "float | None"], None]


@dataclass
class _Row:
    number: int
    cells: list[str]
    data: dict
    status: str | None
    key: tuple | None
    record_id: str | None
    errors: list[RowError]


class _Importer:
    def __init__(self, store: RecordStore, kind: str | None, report: ImportReport,
                 write: bool, errors_path: Path | None, progress: Progress | None,
                 batch_rows: int) -> None:
        self.store, self.report, self.write = store, report, write
        self.kinds = (kind,) if kind else IMPORT_KINDS
        self.errors_path, self.progress, self.batch_rows = errors_path, progress, batch_rows
        self.error_writer: RowWriter | None = None
        self.seen: dict[tuple, int] = {}
        grids = {r[0] for r in store.conn.execute("SELECT code FROM area WHERE level = 'grid'")}
        self.grid_exists = grids.__contains__
        # A grid typed in lower case (310104003001g01) is the grid whose code it spells.
        self.grid_by_folded = {code.casefold(): code for code in grids}
        self.scope = user_scope(store)  # rows outside it would be refused by the registry
        self.approve_after: set[str] = set()  # new rows asking for 已通过 (see _flush)

    # -- reading ----------------------------------------------------------------------------
    def run(self, path: Path) -> None:
        table = open_table(path)
        self.table = table
        try:
            self._read(table)
        finally:
            table.close()

    def _read(self, table) -> None:
        self.report.format, self.report.encoding = table.format, table.encoding
        rows, head, found = self._pick_sheet(table)
        if found is None:
            raise TableError("找不到表头:前 30 行中没有一行能对应到记录字段(如 地址、网格)/ no "
                             "header row: none of the first 30 rows names record fields "
                             "(such as 地址/Address, 网格/Grid)")
        self.kind, position = found
        number, cells = head[position]
        self._check_kind(cells)
        self.map = H.map_headers(self.kind, number, cells)
        self.report.kind, self.report.header_row = self.kind, number
        self.report.ignored_columns = self.map.ignored + self.map.duplicates
        self._check_key_columns()
        specs = FIELD_INDEX[self.kind]
        envelope = (H.ID_COLUMN, H.STATUS_COLUMN)
        self.field_columns = [(i, name, specs[name], {}) for i, name in self.map.columns.items()
                              if name in specs]
        self.envelope_columns = [(i, n) for i, n in self.map.columns.items() if n in envelope]
        self.keys = KeyIndex(self.store, self.kind)
        self.header_cells = [c for i, c in enumerate(cells) if i not in self._error_columns()]
        self.example = example_data(self.kind)
        self.datum = self._header_datum()
        batch: list[_Row] = []
        last = number
        try:
            for number, cells in itertools.chain(head[position + 1:], rows):
                self._take(number, cells, batch)
                last = number
            self._flush(batch, last)
        except TableError as exc:
            # Earlier batches are saved; say how far the import got before the bad spot.
            raise TableError(f"{exc} ({self.report.summary('zh')} / "
                             f"{self.report.summary('en')})") from exc
        finally:
            if self.error_writer:
                self.error_writer.close()

    def _check_kind(self, cells: list[str]) -> None:
        """Refuse a facilities list imported as sites (or the reverse): its address and grid
        columns would fit, and the records would lose every other column."""
        other = {"site": "facility", "facility": "site"}[self.kind]
        if len(self.kinds) == 1 and H.score(other, cells) > H.score(self.kind, cells):
            names = {"site": ("存量资源", "sites"), "facility": ("设施", "facilities")}
            raise TableError(
                f"表头看起来是{names[other][0]}清单,不是{names[self.kind][0]};请去掉 --kind "
                f"或改为 --kind {names[other][1]} / the headers look like a list of "
                f"{names[other][1]}, not {names[self.kind][1]}: drop --kind or use "
                f"--kind {names[other][1]}")

    def _pick_sheet(self, table) -> tuple:
        """(row iterator, first rows, header found) of the sheet whose header names the most
        fields of the wanted kind: an exported workbook has a sheet per kind."""
        best = None
        for name in table.sheets or [None]:
            if name is not None:
                table.use_sheet(name)
            rows = table.rows()
            head = list(itertools.islice(rows, H.HEADER_SCAN_ROWS))
            found = H.find_header(head, self.kinds)
            hits = H.score(found[0], head[found[1]][1]) if found else -1
            if best is None or hits > best[0]:
                if best is not None:
                    best[1].close()
                best = (hits, rows, head, found, name)
            else:
                rows.close()
        _hits, rows, head, found, name = best
        if name is not None:
            table.use_sheet(name)
            self.report.sheet = name
        return rows, head, found

    def _take(self, number: int, cells: list[str], batch: list[_Row]) -> None:
        if not any(c.strip() for c in cells):
            self.report.blank += 1
            return
        row = self._parse(number, cells)
        if row is None:
            self.report.example_rows += 1
            return
        batch.append(row)
        if len(batch) >= self.batch_rows:
            self._flush(batch, number)

    def _error_columns(self) -> set[int]:
        return {i for i, name in self.map.columns.items() if name == H.ERROR_COLUMN}

    def _header_datum(self) -> str | None:
        """"wgs84"/"gcj02" when the latitude or longitude header names its datum, as an
        export's 纬度(WGS-84) does: then those are the numbers' system, whatever the
        coord_system column (how the point was first entered) says."""
        for index, name in self.map.columns.items():
            if name in ("lat", "lng"):
                header = N.halfwidth(self.map.headers[index]).lower().replace("-", "")
                if "wgs" in header:
                    return "wgs84"
                if "gcj" in header:
                    return "gcj02"
        return None

    def _is_example(self, data: dict) -> bool:
        """A row still holding the template's example (every filled cell as in the template)."""
        example = self.example
        return (bool(data) and data.get("address") == example.get("address")
                and all(example.get(k) == v for k, v in data.items()))

    def _place(self, data: dict) -> None:
        """Convert a GCJ-02 point (Amap/Tencent) to WGS-84 once, as records store it."""
        system = self.datum or data.get("coord_system")
        if self.datum == "gcj02" and not data.get("coord_system"):
            data["coord_system"] = "gcj02"
        if system == "gcj02" and data.get("lat") is not None and data.get("lng") is not None:
            lat, lng = gcj02_to_wgs84(data["lat"], data["lng"])
            data["lat"], data["lng"] = round(lat, 7), round(lng, 7)

    def _full_id(self, number: int, column: str, text: str,
                 errors: list[RowError]) -> str | None:
        """The record id a 记录ID cell names: a whole id, or the first 8 characters `list`
        shows (any unique prefix of at least 6)."""
        given = text.lower()
        if len(given) >= 36 or given in self.keys.ids:
            return given
        from fieldapp.store.review import resolve_id

        try:
            return resolve_id(self.store, given)
        except KeyError as exc:
            zh, _, en = str(exc.args[0]).partition(" / ")
            errors.append(RowError(number, column, zh, en or zh))
            return None

    def _check_key_columns(self) -> None:
        have = self.map.fields()
        if not ({"external_id", H.ID_COLUMN} & have or {"address", "grid_code"} <= have):
            raise TableError("表中需要「外部编号」列,或「地址」和「网格」两列,才能识别每一行 / the "
                             "table needs an External id column, or both Address and Grid "
                             "columns, to tell rows apart")

    # -- one row ----------------------------------------------------------------------------
    def _parse(self, number: int, cells: list[str]) -> _Row | None:
        """The row's values and problems; None for the template's untouched example row."""
        data: dict = {}
        errors: list[RowError] = []
        status = record_id = None
        width = len(cells)
        for index, name, spec, cache in self.field_columns:
            text = cells[index] if index < width else ""
            if not text:
                continue
            # Columns repeat their values (grids, choices, dates): coerce each text once.
            hit = cache.get(text)
            if hit is None:
                hit = self._coerce(spec, text, cache)
            if hit[1]:
                errors.append(RowError(number, self.map.headers[index], *hit[1]))
            elif hit[0] is not None:
                data[name] = hit[0]
        for index, name in self.envelope_columns:
            text = N.halfwidth(cells[index]) if index < width else ""
            if not text:
                continue
            if name == H.ID_COLUMN:
                record_id = self._full_id(number, self.map.headers[index], text, errors)
            elif name == H.STATUS_COLUMN:
                status = STATUS.parse(text)
                if status is None:
                    errors.append(RowError(number, self.map.headers[index],
                                           f"状态不是可选值: {text}",
                                           f"status is not one of the choices: {text}"))
        grid = data.get("grid_code")
        if grid and not self.grid_exists(grid):
            data["grid_code"] = self.grid_by_folded.get(grid.casefold(), grid)
        if record_id is None and not errors and self._is_example(data):
            return None
        self._place(data)
        key, existing = self.keys.match(record_id, data)
        if key is None and not errors:
            errors.append(RowError(number, "", "缺少外部编号或地址+网格,无法识别这一行",
                                   "needs an external id, or an address and a grid"))
        elif key is not None and key in self.seen:
            errors.append(RowError(number, "", f"与第 {self.seen[key]} 行是同一条记录",
                                   f"the same record as row {self.seen[key]}"))
        elif key is not None:
            self.seen[key] = number
        if existing is AMBIGUOUS:
            errors.append(RowError(number, "", "该网格内有多条记录是这个地址,请填写外部编号",
                                   "several records in this grid have this address; "
                                   "add an external id"))
            existing = None
        return _Row(number, cells, data, status, key, existing, errors)

    @staticmethod
    def _coerce(spec, text: str, cache: dict) -> tuple:
        result = normalise_cell(spec, text)
        if len(cache) < CACHE_LIMIT:
            cache[text] = result
        return result

    # -- a batch ----------------------------------------------------------------------------
    def _flush(self, batch: list[_Row], last_number: int) -> None:
        if not batch:
            return
        existing = self._existing([r.record_id for r in batch if r.record_id])
        new_records: list[Record] = []
        for row in batch:
            if row.errors:
                self._reject(row, row.errors)
            elif row.record_id:
                self._update(row, existing[row.record_id])
            else:
                record = self._new(row)
                if record:
                    new_records.append(record)
        if new_records and self.write:
            self.store.insert_many(new_records)
            # An approved row goes in as submitted, then is approved: two steps, as in the
            # form and review, because the registry never lets a record start approved.
            for record in new_records:
                if record.id in self.approve_after:
                    self.store.save(self.kind, {}, record_id=record.id, status="approved")
        self.approve_after.clear()
        for record in new_records:
            self.keys.remember(record.id, record.data)
        self.report.added += len(new_records)
        batch.clear()
        if self.progress:
            self.progress(self.report.rows, self.table.fraction(last_number))

    def _existing(self, ids: list[str]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            sql = f"SELECT * FROM record WHERE id IN ({','.join('?' * len(chunk))})"
            for row in self.store.conn.execute(sql, chunk):
                found[row["id"]] = Record.from_row(row)
        return found

    def _field_errors(self, row: _Row, errors) -> list[RowError]:
        if not errors:
            return []
        columns = {name: self.map.headers[i] for i, name in self.map.columns.items()}
        specs = FIELD_INDEX[self.kind]
        return [RowError(row.number, columns.get(e.field) or (
            specs[e.field].zh if e.field in specs else e.field), e.zh, e.en) for e in errors]

    def _new(self, row: _Row) -> Record | None:
        status = row.status or "draft"
        problems = self._field_errors(row, [
            *validate(self.kind, row.data, status, self.grid_exists),
            *forbidden_fields(self.kind, row.data, self.store.role)])
        try:
            # A new record reaches its status the way a form would: draft, submitted, approved.
            if status in ("submitted", "approved"):
                check_transition("draft", "submitted", self.store.role)
            if status == "approved":
                check_transition("submitted", "approved", self.store.role)
            if status == "returned":
                check_transition("submitted", "returned", self.store.role)
            self.scope.require(row.data.get("grid_code"), "create")
        except TransitionError as exc:
            problems.append(RowError(row.number, "", exc.zh, exc.en))
        if problems:
            self._reject(row, problems)
            return None
        record = Record(id=str(uuid.uuid4()), kind=self.kind, status=status, data=row.data,
                        grid_code=row.data.get("grid_code"), title=title_of(self.kind, row.data))
        if status == "approved":
            record.status = "submitted"
            self.approve_after.add(record.id)
        return record

    def _update(self, row: _Row, old: Record) -> None:
        status = row.status or old.status
        for name, value in list(row.data.items()):
            # Excel keeps 15 significant digits: 31.204783396343643 comes back as
            # 31.20478339634364. The same number, so not an edit (nor a moved point).
            before = old.data.get(name)
            if isinstance(value, float) and isinstance(before, (int, float)) and \
                    value != before and math.isclose(value, before, rel_tol=1e-13):
                row.data[name] = before
        merged = {**old.data, **row.data}
        if merged == old.data and status == old.status:
            self.report.unchanged += 1
            return
        changed = [k for k in merged if merged[k] != old.data.get(k)]
        # A changed approved record is a revision, as in the form (fieldapp/domain/revision.py).
        status = status_after_edit(old.status, status, changed)
        revision = is_revision(old.status, status, changed)
        problems = self._field_errors(row, [
            *validate(self.kind, merged, status, self.grid_exists),
            *forbidden_fields(self.kind, changed, self.store.role)])
        if not problems:
            try:
                self.scope.require(old.grid_code, "edit")
                if merged.get("grid_code") != old.grid_code:
                    self.scope.require(merged.get("grid_code"), "move")
                check_transition(old.status, status, self.store.role, revision=revision)
            except TransitionError as exc:
                problems.append(RowError(row.number, "", exc.zh, exc.en))
        if not problems and self.write:
            try:
                self.store.save(self.kind, row.data, record_id=old.id, status=status)
            except ValidationFailed as exc:
                problems = self._field_errors(row, exc.errors)
            except TransitionError as exc:
                problems.append(RowError(row.number, "", exc.zh, exc.en))
        if problems:
            self._reject(row, problems)
            return
        self.report.updated += 1

    def _reject(self, row: _Row, errors: list[RowError]) -> None:
        self.report.rejected += 1
        self.report.errors.extend(errors)
        if self.errors_path is None:
            return
        if self.error_writer is None:
            suffix = self.errors_path.suffix.lower()
            fmt = {".xlsx": "xlsx", ".csv": "csv"}.get(suffix, self.table.format)
            self.error_writer = RowWriter(self.errors_path, fmt, "错误行 errors")
            self.error_writer.header([*self.header_cells, H.ERROR_HEADER])
        skip = self._error_columns()
        cells = [c for i, c in enumerate(row.cells) if i not in skip]
        cells += [""] * (len(self.header_cells) - len(cells))
        # Field messages already name their field ("可用面积: 应为数字").
        reason = "; ".join(e.zh for e in errors) + " / " + "; ".join(e.en for e in errors)
        self.error_writer.write([*cells, reason])
        self.report.errors_path = str(self.errors_path)


def normalise_cell(spec, text: str) -> tuple:
    """One cell's text as (clean value or None if empty, None) or (None, (zh, en) reason).

    The form's own `coerce` does the work (full-width digits, 120㎡, 2024年3月5日, ...);
    whatever it cannot read unambiguously becomes a reason, never an exception.
    """
    try:
        text = N.halfwidth(text)
        return coerce(spec, text), None
    except InvalidValue as exc:
        return None, (f"{spec.zh}: {exc.zh}", f"{spec.en}: {exc.en}")


def default_errors_path(path: str | os.PathLike) -> Path:
    """`list.xlsx` → `list_errors.xlsx` beside it; never the input itself, and never an
    errors file already there (it may hold fixes not yet imported): then `list_errors_2.xlsx`.
    """
    path = Path(path)
    stem = path.stem[:-len("_errors")] if path.stem.endswith("_errors") else path.stem
    # An old .xls is answered with an .xlsx: that is what the errors file is written as.
    suffix = ".xlsx" if path.suffix.lower() == ".xls" else (path.suffix or ".csv")
    candidate = path.with_name(f"{stem}_errors{suffix}")
    number = 1
    while candidate.exists() or candidate.resolve() == path.resolve():
        number += 1
        candidate = path.with_name(f"{stem}_errors_{number}{suffix}")
    return candidate


def import_file(store: RecordStore, path: str | os.PathLike, kind: str | None = None, *,
                all_or_nothing: bool = False, errors_path: str | os.PathLike | None = None,
                progress: Progress | None = None, dry_run: bool = False,
                batch_rows: int = BATCH_ROWS) -> ImportReport:
    """Import a CSV/xlsx file of sites or facilities (kind detected from the headers if None).

    Safe to call from a worker thread with its own store; `progress(rows_done, fraction)`
    is called after each batch. Raises TableError when the file cannot be read as a table;
    row problems are in the report, never raised.
    """
    if kind is not None and kind not in IMPORT_KINDS:
        raise ValueError(f"cannot import {kind}")
    path = Path(path)
    errors_to = Path(errors_path) if errors_path else None
    if errors_to is not None and path.exists() and errors_to.exists() and \
            errors_to.resolve() == path.resolve():
        raise TableError("错误文件不能与导入文件相同 / the errors file cannot be the file being "
                         "imported")
    started = time.perf_counter()
    if all_or_nothing and not dry_run:
        check = ImportReport(str(path), dry_run=False)
        halves = (lambda done, frac: progress(done, frac / 2 if frac is not None else None)
                  ) if progress else None
        _Importer(store, kind, check, False, errors_to, halves, batch_rows).run(path)
        if check.rejected:
            check.saved = False
            check.seconds = time.perf_counter() - started
            return check
        if progress:
            progress = (lambda p: lambda done, frac: p(done, 0.5 + frac / 2
                                                       if frac is not None else None))(progress)
    report = ImportReport(str(path), dry_run=dry_run)
    _Importer(store, kind, report, not dry_run, errors_to, progress, batch_rows).run(path)
    report.saved = not dry_run
    report.seconds = time.perf_counter() - started
    return report
