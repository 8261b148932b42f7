"""Reading the cell values of .xlsx (and, with calamine, .xls) sheets fast.

`open_book` gives python-calamine's reader (Rust; .xlsx, .xlsm and old .xls) where it is
installed (wheels for Windows, macOS and Linux x86_64/aarch64), else the lean streaming
reader below; both offer `sheets`, `rows(sheet)`, `size(sheet)` and `close()`, and the caller
falls back to openpyxl when neither can read a file.

The lean streaming reader:

openpyxl's read-only mode builds an object per cell and re-parses a whole sheet that lacks
a size record each time the workbook is opened; for the lists street offices keep (tens of
thousands of rows, dozens of columns) that is about a millisecond per row. This reads the
sheet XML with the standard library's expat-based iterparse and turns each row into plain
values (text, numbers, dates for date-formatted numbers, booleans). Formulas give their cached
value, as openpyxl's `data_only` does. Anything unusual in the package makes `open_book`
raise, and the caller falls back to openpyxl.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import iterparse

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW, _C, _V, _IS, _T, _SI, _DATA = (
    f"{MAIN}{t}" for t in ("row", "c", "v", "is", "t", "si", "sheetData"))
_REF = re.compile(r"([A-Z]+)")
# Built-in number formats that show dates or times (ECMA-376 18.8.30).
_BUILTIN_DATES = {14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 30, 36, 45, 46, 47, 50, 57}
_DATE_CODE = re.compile(r"[ymdhs]", re.IGNORECASE)
_NOT_DATE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')  # quoted text, colours, escapes


def _column(ref: str) -> int:
    letters = _REF.match(ref).group(1)
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _text(element) -> str:
    """The text of a shared or inline string: plain <t> or rich-text runs."""
    return "".join(t.text or "" for t in element.iter(_T))


class Book:
    lean = True  # tables.py: one of ours, not openpyxl's workbook

    def __init__(self, path) -> None:
        self.zip = zipfile.ZipFile(path)
        names = set(self.zip.namelist())
        workbook = self._xml("xl/workbook.xml")
        rels = self._xml("xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{PKG}Relationship")}
        self.sheets: dict[str, str] = {}
        for sheet in workbook.iter(f"{MAIN}sheet"):
            target = targets[sheet.get(f"{REL}id")]
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            if path not in names:
                raise KeyError(path)
            self.sheets[sheet.get("name")] = path
        pr = workbook.find(f"{MAIN}workbookPr")
        self.epoch = datetime(1904, 1, 1) if pr is not None and pr.get("date1904") in (
            "1", "true") else datetime(1899, 12, 30)
        self.strings = ([_text(si) for si in self._xml("xl/sharedStrings.xml").iter(_SI)]
                        if "xl/sharedStrings.xml" in names else [])
        self.date_styles = self._date_styles() if "xl/styles.xml" in names else set()

    def _xml(self, name: str):
        from xml.etree.ElementTree import fromstring

        return fromstring(self.zip.read(name))

    def _date_styles(self) -> set[int]:
        styles = self._xml("xl/styles.xml")
        custom = {int(f.get("numFmtId")): f.get("formatCode") or ""
                  for f in styles.iter(f"{MAIN}numFmt")}
        dates = set()
        xfs = styles.find(f"{MAIN}cellXfs")
        for index, xf in enumerate(xfs if xfs is not None else []):
            fmt = int(xf.get("numFmtId", 0))
            code = custom.get(fmt)
            if fmt in _BUILTIN_DATES or (code and _DATE_CODE.search(_NOT_DATE.sub("", code))):
                dates.add(index)
        return dates

    def rows(self, sheet: str) -> Iterator[list[Any]]:
        """Each row's values (None for empty cells), rows numbered from 1 without gaps."""
        strings, dates, epoch = self.strings, self.date_styles, self.epoch
        expected = 1
        parent = None
        with self.zip.open(self.sheets[sheet]) as source:
            for event, row in iterparse(source, events=("start", "end")):
                if event == "start":
                    if row.tag == _DATA:
                        parent = row
                    continue
                if row.tag != _ROW:
                    continue
                number = int(row.get("r") or expected)
                while expected < number:  # rows Excel left out because they are empty
                    yield []
                    expected += 1
                values: list[Any] = []
                for cell in row.iter(_C):
                    ref = cell.get("r")
                    index = _column(ref) if ref else len(values)
                    if index > len(values):
                        values.extend([None] * (index - len(values)))
                    values.append(_value(cell, strings, dates, epoch))
                if parent is not None:
                    parent.clear()  # drop the rows read so far: memory stays flat
                expected += 1
                yield values

    def size(self, sheet: str) -> int | None:
        """Rows in the sheet from its size record (Excel writes one), without reading it."""
        with self.zip.open(self.sheets[sheet]) as source:
            for _event, element in iterparse(source, events=("start",)):
                if element.tag == f"{MAIN}dimension":
                    last = (element.get("ref") or "").split(":")[-1]
                    digits = re.sub(r"[A-Z$]", "", last)
                    return int(digits) if digits.isdigit() else None
                if element.tag == _DATA:
                    return None
        return None

    def close(self) -> None:
        self.zip.close()


def _value(cell, strings: list[str], dates: set[int], epoch: datetime) -> Any:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_IS)
        return _text(inline) if inline is not None else None
    v = cell.find(_V)
    if v is None or v.text is None:
        return None
    text = v.text
    if kind == "s":
        return strings[int(text)]
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text == "1"
    number = float(text)
    if int(cell.get("s", 0)) in dates:
        # openpyxl's conversion: Excel's 1900 leap-year quirk and rounding to the millisecond.
        from openpyxl.utils.datetime import from_excel

        return from_excel(number, epoch)
    return int(number) if number.is_integer() and "." not in text and "E" not in text else number


class CalamineBook:
    """python-calamine's workbook behind the same small interface as `Book`."""
    lean = True

    def __init__(self, path) -> None:
        from python_calamine import CalamineWorkbook

        self.book = CalamineWorkbook.from_path(str(path))
        self.sheets: dict[str, str] = {name: name for name in self.book.sheet_names}

    def rows(self, sheet: str) -> Iterator[list[Any]]:
        """Each row's values (None for empty cells), rows numbered from 1 without gaps."""
        for values in self.book.get_sheet_by_name(sheet).iter_rows():
            yield [None if v == "" else v for v in values]

    def size(self, sheet: str) -> int | None:
        end = self.book.get_sheet_by_name(sheet).end
        return end[0] + 1 if end else 0

    def close(self) -> None:
        self.book.close()


def calamine_available() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


def open_book(path) -> Book | CalamineBook:
    """calamine's reader if installed and the file suits it, else the lean reader."""
    if calamine_available():
        try:
            return CalamineBook(path)
        except Exception:  # noqa: BLE001 - the lean reader (then openpyxl) judges the file
            pass
    return Book(path)
