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
    saved: bool = True  # False when --all-or-nothing found a bad row and saved nothing
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    errors_path: str | None = None
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + self.rejected

    def summary(self, lang: str = "zh") -> str:
        zh = (f"新增 {self.added},更新 {self.updated},未变 {self.unchanged},"
              f"拒绝 {self.rejected}")
        en = (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
              f"rejected {self.rejected}")
        if not self.saved:
            zh += "(全部或全不:有被拒绝的行,未保存任何记录)"
            en += " (all-or-nothing: rows were rejected, nothing was saved)"
        return zh if lang == "zh" else en
