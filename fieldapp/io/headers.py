"""Matching a spreadsheet's column headers to record fields, and finding the header row.

Header names come from each FieldSpec (Chinese label, English label, field name, aliases);
this module adds only the record envelope columns (record id, status) and the errors column
the importer writes, which are not fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fieldapp.domain.normalize import halfwidth
from fieldapp.domain.records import SPECS

ID_COLUMN = "__id__"
STATUS_COLUMN = "__status__"
ERROR_COLUMN = "__error__"

#: Envelope columns: (key, Chinese header, English header, other names seen).
ENVELOPE = (
    (ID_COLUMN, "记录ID", "Record id", ("id", "record_id", "记录编号")),
    (STATUS_COLUMN, "状态", "Status", ("status", "审核状态", "记录状态")),
    (ERROR_COLUMN, "错误/error", "error", ("错误", "错误原因", "errors")),
)
ERROR_HEADER = ENVELOPE[2][1]
HEADER_SCAN_ROWS = 30


def header_key(text: str) -> str:
    """Headers compare without case, spaces, full-width forms or a required-field star."""
    text = halfwidth(str(text)).lower()
    text = re.sub(r"\s+", "", text).strip("*＊:：")
    return text


def _without_unit(key: str) -> str:
    # "可用面积(㎡)" and "面积（平方米）" name the same column as "可用面积".
    return re.sub(r"[(（][^()（）]*[)）]$", "", key)


def _names(kind: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for key, zh, en, others in ENVELOPE:
        for name in (zh, en, *others):
            names.setdefault(header_key(name), key)
    # Labels and field names first, so an alias never takes a column another field is named by.
    for spec in SPECS[kind]:
        for name in (spec.zh, spec.en, spec.name):
            names.setdefault(header_key(name), spec.name)
    for spec in SPECS[kind]:
        for name in spec.aliases:
            names.setdefault(header_key(name), spec.name)
    return names


_NAMES = {kind: _names(kind) for kind in SPECS}


def lookup(kind: str, header: str) -> str | None:
    """The field (or envelope key) a header names for `kind`, or None."""
    key = header_key(header)
    if not key:
        return None
    names = _NAMES[kind]
    return names.get(key) or names.get(_without_unit(key))


@dataclass
class HeaderMap:
    kind: str
    row_number: int
    headers: list[str]
    columns: dict[int, str] = field(default_factory=dict)  # column index → field/envelope key
    ignored: list[str] = field(default_factory=list)  # headers that name nothing
    duplicates: list[str] = field(default_factory=list)  # a second column for the same field

    def fields(self) -> set[str]:
        return set(self.columns.values())


def map_headers(kind: str, row_number: int, cells: list[str]) -> HeaderMap:
    result = HeaderMap(kind, row_number, list(cells))
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        if not str(cell).strip():
            continue
        name = lookup(kind, cell)
        if name is None:
            result.ignored.append(str(cell).strip())
        elif name in taken:
            result.duplicates.append(str(cell).strip())
        else:
            taken.add(name)
            result.columns[index] = name
    return result


def score(kind: str, cells: list[str]) -> int:
    """How many distinct fields of `kind` a row of cells names."""
    hits = {lookup(kind, c) for c in cells if str(c).strip()}
    hits.discard(None)
    hits.discard(ERROR_COLUMN)
    return len(hits)


def find_header(rows: list[tuple[int, list[str]]], kinds: tuple[str, ...]
                ) -> tuple[str, int] | None:
    """(kind, index into rows) of the row that best reads as a header; None if none does.

    Title rows, merged group rows ("位置" spanning three columns) and notes above the table
    name at most one field, so the header is the row naming the most fields (at least two).
    """
    best: tuple[int, str, int] | None = None
    for position, (_number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        for kind in kinds:
            hits = score(kind, cells)
            if hits >= 2 and (best is None or hits > best[0]):
                best = (hits, kind, position)
    return (best[1], best[2]) if best else None
