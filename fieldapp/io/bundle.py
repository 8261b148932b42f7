"""Exports with photos: one .zip holding the workbook and the records' attachments.

`fieldapp export --with-attachments -o out.zip` writes the usual workbook (or CSV) with one
more column, 附件, that links to the record's folder in the zip: `附件/<title>_<id8>/`, with
each file named by its caption (or its own name when it has none). Unpacked anywhere, the
links in Excel open the folders beside the workbook. Attachments this laptop has only the
metadata of (not fetched) are listed in the cell and counted in the report, never silently
dropped.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fieldapp.io.exporter import ExportReport, Link, Progress, export_records
from fieldapp.io.tables import TableError
from fieldapp.store import attachments as att
from fieldapp.store.records import Record, RecordStore

FOLDER = "附件"
HEADER = "附件"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
        "image/heic": ".heic", "application/pdf": ".pdf"}


def safe_name(text: str, limit: int = 40) -> str:
    """A file name part every OS accepts (Windows is the strictest), Chinese kept."""
    text = _UNSAFE.sub("_", text).strip(" ._")
    return text[:limit].rstrip(" ._") or "_"


@dataclass
class BundleReport(ExportReport):
    files: int = 0
    bytes: int = 0
    not_fetched: int = 0  # attachments whose content this laptop does not have
    names: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        text = super().summary(lang)
        if lang == "zh":
            text += f",附件 {self.files} 个"
            if self.not_fetched:
                text += f"({self.not_fetched} 个未下载,未打包:先 fieldapp attachment fetch)"
        else:
            text += f", {self.files} attachments"
            if self.not_fetched:
                text += (f" ({self.not_fetched} not fetched to this laptop, left out: "
                         f"fieldapp attachment fetch first)")
        return text


class _Collector:
    """Names each record's attachments inside the zip and remembers what to copy."""

    def __init__(self, store: RecordStore, data_dir: Path) -> None:
        self.store, self.data_dir = store, data_dir
        self.files: list[tuple[Path, str]] = []  # (content file, name in the zip)
        self.not_fetched = 0

    def cell(self, record: Record) -> Link | str:
        items = att.list_for(self.store, record.id)
        if not items:
            return ""
        folder = PurePosixPath(FOLDER, f"{safe_name(record.title or record.kind)}_"
                                       f"{record.id[:8]}")
        taken: set[str] = set()
        names, missing = [], []
        for item in items:
            stem = safe_name(item.caption or Path(item.name).stem)
            ext = _EXT.get(item.mime) or Path(item.name).suffix.lower() or ""
            name, n = f"{stem}{ext}", 2
            while name.lower() in taken:
                name, n = f"{stem}_{n}{ext}", n + 1
            taken.add(name.lower())
            path = att.blob_path(self.data_dir, item.sha256)
            if item.has_content and path.exists():
                self.files.append((path, str(folder / name)))
                names.append(name)
            else:
                self.not_fetched += 1
                missing.append(name)
        text = f"{folder}/  " + "、".join(names)
        if missing:
            text += "  (未下载 not fetched: " + "、".join(missing) + ")"
        return Link(text, f"{folder}/") if names else text


def export_with_attachments(store: RecordStore, path: str | os.PathLike, *, kinds: list[str],
                            format: str = "xlsx", status: str | None = None,
                            grid: str | None = None, progress: Progress | None = None,
                            data_dir: Path | None = None, all_local: bool = False
                            ) -> BundleReport:
    """Write `path` (.zip): the records as a workbook (or CSV) plus their attachments
    (the user's scope unless `all_local`, as `export_records`)."""
    path = Path(path)
    if path.suffix.lower() != ".zip":
        raise TableError("带附件导出要写成 .zip 文件,例如 -o 导出.zip / an export with "
                         "attachments is a .zip file, e.g. -o export.zip")
    if format not in ("xlsx", "csv"):
        raise TableError("带附件导出只支持 xlsx 或 csv / an export with attachments holds an "
                         "xlsx or csv file")
    data_dir = data_dir or att.data_dir_of(store)
    collector = _Collector(store, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        table = Path(tmp) / f"{path.stem}.{format}"
        inner = export_records(store, table, kinds=kinds, format=format, status=status,
                               grid=grid, progress=progress, extra=(HEADER, collector.cell),
                               all_local=all_local)
        report = BundleReport(str(path), "zip", inner.counts)
        partial = Path(tmp) / "bundle.zip"
        # Photos are JPEG already: storing them without compression saves minutes for nothing.
        with zipfile.ZipFile(partial, "w") as bundle:
            bundle.write(table, table.name, compress_type=zipfile.ZIP_DEFLATED)
            for source, name in collector.files:
                bundle.write(source, name, compress_type=zipfile.ZIP_STORED)
                report.files += 1
                report.bytes += source.stat().st_size
                report.names.append(name)
        os.replace(partial, path)  # never a half-written zip under the name asked for
    report.not_fetched = collector.not_fetched
    return report
