"""The fast xlsx readers (python-calamine, and the lean reader where calamine is missing)
give the same cells as openpyxl on the workbooks users bring."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import Workbook
from openpyxl.styles import NamedStyle
from test_io_import import messy_workbook

from fieldapp.io.tables import _open_xlsx


def rows(path, fast):
    table = _open_xlsx(path, path.stat().st_size, fast=fast)
    try:
        out = {}
        for name in table.sheets:
            table.use_sheet(name)
            cells = [c for _n, c in table.rows()]
            while cells and not any(cells[-1]):
                cells.pop()  # openpyxl may list trailing empty rows
            out[name] = [_trim(c) for c in cells]
        return out, table.sheets
    finally:
        table.close()


@pytest.fixture(params=["calamine", "lean"], autouse=True)
def reader(request, monkeypatch):
    """Every test runs with calamine and with the lean reader (platforms without calamine)."""
    from fieldapp.io import xlsx_read

    if request.param == "calamine" and not xlsx_read.calamine_available():
        pytest.skip("python-calamine is not installed")
    if request.param == "lean":
        monkeypatch.setattr(xlsx_read, "calamine_available", lambda: False)
    return request.param


def _trim(cells):
    # A cell of spaces only reads as empty in calamine; every use of a cell strips it.
    cells = ["" if isinstance(c, str) and not c.strip() else c for c in cells]
    while cells and cells[-1] == "":
        cells.pop()  # openpyxl pads every row to the widest
    return cells


def typed_workbook(path, date1904=False):
    book = Workbook()
    book.epoch = datetime(1904, 1, 1) if date1904 else book.epoch
    sheet = book.active
    sheet.title = "资源"
    sheet.append(["文字", "整数", "小数", "日期", "时刻", "是否", "空", "公式"])
    sheet.append(["天平路１号", 120, 80.5, date(2024, 3, 5), datetime(2024, 3, 5, 14, 30), True,
                  None, "=B2*2"])
    sheet.append([" 前后空格 ", -1, 1e-3, datetime(1999, 12, 31), None, False, None, None])
    sheet["D5"] = date(2024, 2, 29)  # a gap row, then a cell far to the right
    sheet["K5"] = "远处"
    sheet["B6"].value = 44000
    sheet["B6"].number_format = "yyyy年m月d日"  # a custom date format
    sheet["C6"].value = 0.25
    sheet["C6"].number_format = '0.00"%"'  # quoted text with letters is not a date
    sheet.merge_cells("A7:C7")
    sheet["A7"] = "合并单元格"
    other = book.create_sheet("第二页")
    other.append(["网格", "地址"])
    other.append(["310104003001G01", "衡山路2号"])
    style = NamedStyle(name="datey", number_format="dd/mm/yyyy")
    other["C2"] = date(2023, 1, 2)
    other["C2"].style = style
    book.save(path)
    return path


@pytest.mark.parametrize("date1904", [False, True])
def test_lean_reader_matches_openpyxl(tmp_path, date1904):
    path = typed_workbook(tmp_path / "typed.xlsx", date1904)
    fast, fast_sheets = rows(path, True)
    slow, _ = rows(path, False)
    assert fast == slow
    assert list(fast_sheets) == ["资源", "第二页"]
    first = fast["资源"]
    assert first[1][:6] == ["天平路１号", "120", "80.5", "2024-03-05", "2024-03-05 14:30:00", "是"]
    # Serial 44000 is a different day in the 1904 date system (old Mac Excel files).
    assert first[5][1] == ("2024-06-19" if date1904 else "2020-06-18")
    assert first[5][2] == "0.25"
    assert first[4][3] == "2024-02-29" and first[4][10] == "远处"
    assert fast["第二页"][1][2] == "2023-01-02"


def test_lean_reader_on_messy_export_and_template_files(tmp_path, store):
    from fieldapp.demo import populate
    from fieldapp.io import export_records, write_template

    populate(store, 60)
    paths = [messy_workbook(tmp_path / "m.xlsx"), write_template(tmp_path / "t.xlsx", "site")]
    export_records(store, tmp_path / "e.xlsx", kinds=["site", "facility", "inspection"])
    paths.append(tmp_path / "e.xlsx")
    for path in paths:
        assert rows(path, True)[0] == rows(path, False)[0], path.name
    # Excel records a sheet's size; the messy workbook (saved by openpyxl) has one too.
    assert rows(paths[0], True)[1] == {"Sheet": 13}
