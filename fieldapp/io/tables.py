"""Reading and writing rows of spreadsheet files: CSV in any encoding Chinese Excel writes, and
.xlsx through openpyxl's streaming modes.

Rows come out as lists of cell text (dates as ISO text, whole numbers without `.0`), so the
importer sees one kind of value whatever the file type. Reading streams: a 100,000-row file
is never held in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

SAMPLE_BYTES = 1 << 20


class TableError(ValueError):
    """The file cannot be read as a table; the message is bilingual and says why."""


@dataclass
class Table:
    """An open file: `rows()` yields (row number as the user sees it, cells)."""

    path: Path
    format: str  # "csv" or "xlsx"
    encoding: str = "utf-8"
    delimiter: str = ","
    size: int = 0
    sheet: str | None = None
    total_rows: int | None = None
    sheets: dict[str, int | None] = field(default_factory=dict)  # xlsx: name → rows
    _position: Callable[[], int] | None = None
    _finished: bool = False
    # One open workbook for the whole import: openpyxl parses every sheet that lacks a size
    # record (as write-only files do) each time a workbook is loaded.
    _book: Any = None

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None

    def fraction(self, row_number: int) -> float | None:
        """How far through the file reading is (for progress bars)."""
        if self._finished:
            return 1.0
        if self.format == "csv" and self._position and self.size:
            return min(1.0, self._position() / self.size)
        if self.total_rows:
            return min(1.0, row_number / self.total_rows)
        return None

    def use_sheet(self, name: str) -> None:
        self.sheet, self.total_rows = name, self.sheets.get(name)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        self._finished = False
        if self.format == "csv":
            yield from self._csv_rows()
        else:
            yield from self._xlsx_rows()
        self._finished = True

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.path, "rb") as raw:
            self._position = raw.tell
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            try:
                # Rows are counted as Excel shows them: a quoted cell may span several lines.
                yield from enumerate(reader, start=1)
            except UnicodeDecodeError as exc:
                raise TableError(
                    f"第 {reader.line_num + 1} 行附近的文字编码与文件开头不一致({self.encoding}),"
                    f"请在 Excel 中另存为「CSV UTF-8」/ the text near line {reader.line_num + 1} "
                    f"is not {self.encoding} like the start of the file; save it again as "
                    f"'CSV UTF-8'") from exc
            except csv.Error as exc:
                raise TableError(f"CSV 格式错误(第 {reader.line_num} 行)/ malformed CSV "
                                 f"at line {reader.line_num}: {exc}") from exc
            finally:
                self._position = None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        if self._book is None:
            self._book = _load(self.path)
        book = self._book
        if getattr(book, "lean", False):  # fieldapp.io.xlsx_read
            values_of = book.rows(self.sheet or next(iter(book.sheets)))
        else:
            sheet = book[self.sheet] if self.sheet else book.worksheets[0]
            values_of = sheet.iter_rows(values_only=True)
        for number, values in enumerate(values_of, start=1):
            yield number, [cell_text(v) for v in values]


def cell_text(value: Any) -> str:
    """A cell as the text a person would read in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel stores every number as a float; 120.0 was typed as 120.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-8, utf-16 or gb18030 (a superset of GBK/GB2312, as Chinese Excel writes)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: the sample may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise TableError("无法识别文件的文字编码(支持 UTF-8 和 GBK/GB18030)/ cannot tell the "
                         "file's text encoding (UTF-8 and GBK/GB18030 are supported)") from exc


def detect_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_table(path: str | os.PathLike) -> Table:
    """Open a .csv/.txt, .xlsx or .xls file for reading, detecting encoding and delimiter."""
    path = Path(path)
    if path.is_dir():
        raise TableError(f"这是文件夹,不是文件 / that is a folder, not a file: {path}")
    if not path.is_file():
        raise TableError(f"找不到文件 / file not found: {path}")
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, size)
    if suffix == ".xls":
        return _open_xls(path, size)
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, size)  # an .xlsx with a wrong name
    encoding = detect_encoding(sample)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    return Table(path, "csv", encoding=encoding, delimiter=detect_delimiter(text), size=size)


def _load(path: Path, fast: bool = True):
    """The lean reader's Book, or openpyxl's read-only workbook if the lean one cannot read
    the package (an unusual producer); both are closed with `close()`."""
    from zipfile import BadZipFile

    if fast:
        from fieldapp.io.xlsx_read import open_book

        try:
            return open_book(path)
        except Exception:  # noqa: BLE001 - anything odd: let openpyxl judge the file
            pass
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(f"无法打开 Excel 文件 / cannot open the Excel file {path.name}: "
                         f"{exc}") from exc


def _open_xls(path: Path, size: int) -> Table:
    """An old-format .xls: calamine reads it; without calamine (or if it cannot), the user is
    asked for an .xlsx."""
    from fieldapp.io.xlsx_read import CalamineBook, calamine_available

    again = "请在 Excel 中另存为 .xlsx / save the file as .xlsx in Excel"
    if not calamine_available():
        raise TableError(f"此电脑不支持旧版 .xls 文件,{again.split(' / ')[0]} / old .xls files "
                         f"cannot be read on this computer: {again.split(' / ')[1]}")
    try:
        book = CalamineBook(path)
    except Exception as exc:  # noqa: BLE001 - any failure: the file is not a readable .xls
        raise TableError(f"无法读取 .xls 文件 / cannot read the .xls file {path.name} "
                         f"({type(exc).__name__}): {again}") from exc
    sheets = {name: book.size(name) for name in book.sheets}
    first = next(iter(sheets))
    return Table(path, "xlsx", size=size, sheet=first, total_rows=sheets[first],
                 sheets=sheets, _book=book)


def _open_xlsx(path: Path, size: int, fast: bool = True) -> Table:
    """A table over the first sheet of an open workbook; `Table.close` closes it."""
    workbook = _load(path, fast)
    if getattr(workbook, "lean", False):
        sheets = {name: workbook.size(name) for name in workbook.sheets}
    else:
        sheets = {ws.title: ws.max_row if isinstance(ws.max_row, int) else None
                  for ws in workbook.worksheets}
    first = next(iter(sheets))
    return Table(path, "xlsx", size=size, sheet=first, total_rows=sheets[first],
                 sheets=sheets, _book=workbook)


def xlsx_row(sheet, cells: list[Any]) -> list[Any]:
    """Cells for a write-only sheet: text starting "=" kept as text, dates shown as dates.

    openpyxl writes such text as a formula: a note reading "=见附件" would come back empty and
    a crafted one would run in the supervisor's Excel.
    """
    from openpyxl.cell import WriteOnlyCell

    out = []
    for value in cells:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            value = cell
        elif isinstance(value, date) and not isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "yyyy-mm-dd"  # openpyxl's default shows a time of 00:00:00
            value = cell
        out.append(value)
    return out


class RowWriter:
    """Writes rows to a new CSV (UTF-8 with BOM, so Excel opens it) or .xlsx file."""

    def __init__(self, path: str | os.PathLike, format: str | None = None,
                 sheet_title: str = "Sheet1") -> None:
        self.path = Path(path)
        self.format = format or ("xlsx" if self.path.suffix.lower() in (".xlsx", ".xlsm")
                                 else "csv")
        self.rows = 0
        if self.format == "csv":
            self._handle = open(self.path, "w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._handle)
        else:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet(sheet_title)

    def header(self, cells: list[str], widths: list[float] | None = None) -> None:
        if self.format == "xlsx":
            from openpyxl.utils import get_column_letter

            self._sheet.freeze_panes = "A2"
            for index, width in enumerate(widths or [], start=1):
                self._sheet.column_dimensions[get_column_letter(index)].width = width
        self.write(cells)

    def write(self, cells: list[Any]) -> None:
        if self.format == "csv":
            self._csv.writerow(["" if c is None else c for c in cells])
        else:
            self._sheet.append(xlsx_row(self._sheet, cells))
        self.rows += 1

    def close(self) -> None:
        if self.format == "csv":
            self._handle.close()
        else:
            self._book.save(self.path)

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
