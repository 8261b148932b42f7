"""Exporting records to xlsx, CSV and GeoJSON, and the import template workbook.

Columns are the record envelope (record id, status) and every field of `SPECS[kind]` with its
Chinese label; choice codes are written as their Chinese labels, which the importer reads
back, so an exported file imports again unchanged. Only records inside the user's scope
(setting `scopes:<user>`, a JSON list of area codes) are ever written.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fieldapp.domain.choices import RECORD_KIND, STATUS
from fieldapp.domain.records import (
    BOOL,
    CHOICE,
    DATE,
    FLOAT,
    INT,
    MULTI,
    SPECS,
    FieldSpec,
    title_of,
)
from fieldapp.io.headers import ENVELOPE, ID_COLUMN, STATUS_COLUMN
from fieldapp.io.tables import RowWriter, TableError, xlsx_row
from fieldapp.store.records import Query, Record, RecordStore
from fieldapp.store.scope import ScopeError, scope_grids, user_scope  # noqa: F401

FORMATS = ("xlsx", "csv", "geojson")
WIDTH_SAMPLE = 200  # rows looked at to size xlsx columns
Progress = Callable[[int, "float | None"], None]


@dataclass
class ExportReport:
    path: str
    format: str
    counts: dict[str, int] = field(default_factory=dict)  # kind → records written
    without_coordinates: int = 0  # GeoJSON: records left out for want of a point

    def summary(self, lang: str = "zh") -> str:
        parts = [f"{RECORD_KIND.label(k, lang)} {n}" for k, n in self.counts.items()]
        text = ", ".join(parts) + f" → {self.path}"
        if self.without_coordinates:
            text += (f"({self.without_coordinates} 条无坐标,未写入)" if lang == "zh" else
                     f" ({self.without_coordinates} without coordinates left out)")
        return text


# -- scope: fieldapp.store.scope (re-exported here) -------------------------------------


def iter_records(store: RecordStore, kind: str, *, status: str | None = None,
                 grid: str | None = None, grids: set[str] | None = None,
                 all_local: bool = False) -> Iterator[Record]:
    """Records of `kind` (filtered), in grid order, streamed from the database; with
    status "approved", every record with approved values, as last approved.

    The user's scope always applies (fieldapp/store/scope.py) unless `all_local`; `grids`
    narrows further to those grid codes.
    """
    allowed = user_scope(store, all_local=all_local).narrow(grids)
    where, params = store.where_sql(Query(kind=kind, status=status, grid_code=grid,
                                          scope=allowed, approved_values=True))
    cursor = store.conn.execute(
        f"SELECT r.* FROM record r WHERE {where} ORDER BY r.grid_code, r.rid", params)
    for row in cursor:
        record = Record.from_row(row)
        # Approved records are read at their last approved values: a revision under review
        # never reaches an export or report of approved records (fieldapp/domain/revision.py).
        yield record.approved_view() if status == "approved" else record


# -- cells ----------------------------------------------------------------------------------
def display_value(spec: FieldSpec, value: Any, typed: bool = False) -> Any:
    """A stored value as a person reads it: choice labels in Chinese, 是/否, numbers plain.

    `typed` keeps numbers and dates as such (for xlsx cells); otherwise everything is text.
    """
    if value is None or value == []:
        return None if typed else ""
    if spec.type == CHOICE and spec.choices:
        return spec.choices.label(value, "zh")
    if spec.type == MULTI and spec.choices:
        return "、".join(spec.choices.label(v, "zh") for v in value)
    if spec.type == BOOL:
        return "是" if value else "否"
    if spec.type in (INT, FLOAT):
        if typed:
            return value
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if spec.type == DATE and typed:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return str(value)


#: Exported coordinates are always WGS-84 (records store them so); the headers say so, and the
#: importer reads a datum in a header as the numbers' system, so a re-imported export is not
#: converted again even where 坐标系(录入时) says a point was first entered as GCJ-02.
DATUM_HEADERS = {"lat": "纬度(WGS-84)", "lng": "经度(WGS-84)"}


def columns(kind: str) -> tuple[list[str], list[FieldSpec]]:
    """Headers (envelope then fields, Chinese) and the field specs behind them."""
    envelope = {key: zh for key, zh, _en, _other in ENVELOPE}
    specs = list(SPECS[kind])
    return [envelope[ID_COLUMN], envelope[STATUS_COLUMN],
            *(DATUM_HEADERS.get(s.name, s.zh) for s in specs)], specs


def record_cells(record: Record, specs: list[FieldSpec], typed: bool) -> list[Any]:
    return [record.id, STATUS.label(record.status, "zh"),
            *(display_value(s, record.data.get(s.name), typed) for s in specs)]


def text_width(text: Any) -> int:
    """Display width: a Chinese character takes two columns of a Latin one."""
    text = "" if text is None else str(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_widths(rows: list[list[Any]]) -> list[float]:
    widths: list[float] = []
    for row in rows:
        for index, cell in enumerate(row):
            if index >= len(widths):
                widths.append(6)
            widths[index] = max(widths[index], min(text_width(cell) + 2, 50))
    return widths


# -- writers --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    """A cell that links to a file beside the workbook (xlsx hyperlink; plain text in CSV)."""

    text: str
    target: str

    def __str__(self) -> str:
        return self.text


#: An extra last column: its header and the cell for each record.
Extra = tuple[str, Callable[[Record], Any]]


def export_records(store: RecordStore, path: str | os.PathLike, *, kinds: list[str],
                   format: str | None = None, status: str | None = None,
                   grid: str | None = None, progress: Progress | None = None,
                   extra: Extra | None = None, all_local: bool = False) -> ExportReport:
    """Write the user's records of `kinds` to `path` (xlsx: one sheet per kind).

    `format` defaults from the file name. CSV and GeoJSON take one kind. `extra` adds a last
    column (the attachments of a bundle, `fieldapp.io.bundle`). Only records in the user's
    scope are written unless `all_local`.
    """
    path = Path(path)
    format = format or {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}.get(
        path.suffix.lower(), "xlsx")
    if format not in FORMATS:
        raise TableError(f"不支持的格式 / unsupported format: {format}")
    if format != "xlsx" and len(kinds) != 1:
        raise TableError("CSV 和 GeoJSON 每个文件只能导出一类记录,请用 --kind 指定 / CSV and "
                         "GeoJSON hold one kind of record per file: choose one with --kind")
    report = ExportReport(str(path), format)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress and done[0] % 2000 == 0:
            progress(done[0], None)

    def select(kind: str) -> Iterator[Record]:
        return iter_records(store, kind, status=status, grid=grid, all_local=all_local)

    if format == "geojson":
        _write_geojson(store, path, kinds[0], select, report, tick)
    elif format == "csv":
        with RowWriter(path, "csv") as writer:
            report.counts[kinds[0]] = _write_sheet(writer, kinds[0], select, tick, extra)
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        for kind in kinds:
            writer = _SheetWriter(book.create_sheet(RECORD_KIND.label(kind, "zh")))
            report.counts[kind] = _write_sheet(writer, kind, select, tick, extra)
        book.save(path)
    if progress:
        progress(done[0], 1.0)
    return report


class _SheetWriter:
    """RowWriter's interface over one sheet of a write-only workbook."""

    def __init__(self, sheet) -> None:
        self._sheet = sheet
        self.format = "xlsx"

    def header(self, cells: list[str], widths: list[float] | None = None) -> None:
        from openpyxl.utils import get_column_letter

        self._sheet.freeze_panes = "A2"
        for index, width in enumerate(widths or [], start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.append(cells)

    def write(self, cells: list[Any]) -> None:
        from openpyxl.cell import WriteOnlyCell

        row = xlsx_row(self._sheet, cells)
        for index, value in enumerate(row):
            if isinstance(value, Link):
                cell = WriteOnlyCell(self._sheet, value=value.text)
                cell.hyperlink = value.target
                cell.style = "Hyperlink"
                row[index] = cell
        self._sheet.append(row)


def _write_sheet(writer, kind: str, select: Callable[[str], Iterator[Record]],
                 tick: Callable[[], None], extra: Extra | None = None) -> int:
    headers, specs = columns(kind)
    typed = writer.format == "xlsx"
    records = select(kind)

    def cells_of(record: Record) -> list[Any]:
        cells = record_cells(record, specs, typed)
        return cells + [extra[1](record)] if extra else cells

    if extra:
        headers = [*headers, extra[0]]
    # Widths must be set before the first row of a streamed sheet: size them on a sample.
    sample: list[list[Any]] = []
    for record in records:
        sample.append(cells_of(record))
        if len(sample) >= WIDTH_SAMPLE:
            break
    widths = column_widths([headers, *sample])
    widths[0] = 12  # record ids are long and rarely read; keep them from crowding the sheet
    writer.header(headers, widths)
    count = 0
    for cells in sample:
        writer.write(cells)
        count += 1
        tick()
    for record in records:
        writer.write(cells_of(record))
        count += 1
        tick()
    return count


def _write_geojson(store: RecordStore, path: Path, kind: str,
                   select: Callable[[str], Iterator[Record]], report: ExportReport,
                   tick: Callable[[], None]) -> None:
    """A FeatureCollection of Points [lng, lat] (WGS-84, as records store them).

    Inspections have no point of their own; they take their target's.
    """
    count = 0
    points: dict[str, tuple[float, float] | None] = {}
    with open(path, "w", encoding="utf-8") as out:
        # RFC 7946: GeoJSON is WGS-84; said once more for readers who wonder about GCJ-02.
        out.write('{"type": "FeatureCollection", "coordinate_system": "WGS-84", '
                  '"features": [\n')
        for record in select(kind):
            point = _point(record.data)
            if kind == "inspection":
                target = record.data.get("target_id")
                if target not in points:
                    found = store.get(target) if target else None
                    points[target] = _point(found.data) if found else None
                point = points[target]
            if point is None:
                report.without_coordinates += 1
                continue
            feature = {
                "type": "Feature",
                "id": record.id,
                "geometry": {"type": "Point", "coordinates": list(point)},
                "properties": {"id": record.id, "kind": kind, "status": record.status,
                               "title": record.title or title_of(kind, record.data),
                               "updated_at": record.updated_at, **record.data},
            }
            out.write(("" if count == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
            count += 1
            tick()
        out.write("\n]}\n")
    report.counts[kind] = count


def _point(data: dict) -> tuple[float, float] | None:
    lat, lng = data.get("lat"), data.get("lng")
    if lat is None or lng is None:
        return None
    return float(lng), float(lat)
