"""What an import did: rows added, updated, unchanged and rejected, and why each rejected row
was refused (row number, column, reason in Chinese and English).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    row: int  # row number as the spreadsheet shows it
    column: str  # the header text in the file ("" for the row as a whole)
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        where = f"第 {self.row} 行" if lang == "zh" else f"row {self.row}"
        column = f" [{self.column}]" if self.column else ""
        return f"{where}{column}: {self.zh if lang == 'zh' else self.en}"


@dataclass
class ImportReport:
    path: str
    kind: str = ""
    format: str = ""
    encoding: str = ""
    header_row: int = 0
    sheet: str | None = None  # xlsx: the sheet read
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    blank: int = 0
    saved: bool = True  # False when nothing was saved (a dry run, or all-or-nothing refused)
    dry_run: bool = False  # only checked: the counts say what an import would do
    example_rows: int = 0  # rows identical to the template's example, skipped
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    errors_path: str | None = None
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + self.rejected

    def summary(self, lang: str = "zh") -> str:
        a, u, n, r = self.added, self.updated, self.unchanged, self.rejected
        if self.dry_run:
            zh = f"仅检查,未保存任何记录:可新增 {a},可更新 {u},未变 {n},拒绝 {r}"
            en = (f"checked only, nothing was saved: would add {a}, would update {u}, "
                  f"unchanged {n}, rejected {r}")
        elif not self.saved:
            zh = (f"全部或全不:{r} 行被拒绝,未保存任何记录(否则可新增 {a},可更新 {u},"
                  f"未变 {n})")
            en = (f"all-or-nothing: {r} rows rejected, nothing was saved (would have added {a}, "
                  f"updated {u}; unchanged {n})")
        else:
            zh = f"新增 {a},更新 {u},未变 {n},拒绝 {r}"
            en = f"added {a}, updated {u}, unchanged {n}, rejected {r}"
        if self.example_rows:
            zh += ";已跳过模板的示例行"
            en += "; the template's example row was skipped"
        return zh if lang == "zh" else en
