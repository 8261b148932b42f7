"""A laptop's backup: its database and attachment files in one zip, never its credentials.

`backup(data_dir, out)` copies the SQLite database through the online backup API (the app may
keep running and saving) and every attachment file; `restore(file, data_dir)` makes a new
data folder from it and refuses one that already holds a database. The credential stays out
on purpose: a backup that travels on a USB stick must not let anyone sync as its owner. After
a restore the user enrolls again (`fieldapp enroll`) and syncs on: what was waiting in the
outbox is sent with its original mutation ids, so nothing is applied twice.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "fieldapp-laptop-backup"
VERSION = 1
DATABASE = "fieldapp.sqlite3"
ATTACHMENTS = "attachments"
EXTRA_FILES = ("norms.toml",)  # the user's own settings files beside the database


class LaptopBackupError(RuntimeError):
    """A backup or restore refused, with a bilingual one-line reason."""


@dataclass
class LaptopBackup:
    path: Path
    files: int
    bytes: int
    records: int
    outbox: int


def backup(data_dir: Path, out: Path) -> LaptopBackup:
    data_dir, out = Path(data_dir), Path(out)
    db = data_dir / DATABASE
    if not db.exists():
        raise LaptopBackupError(f"没有可备份的数据库 / no database to back up in {data_dir}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    files = 0
    with tempfile.TemporaryDirectory(prefix="fieldapp-backup-") as tmp:
        copy = Path(tmp) / DATABASE
        src = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
            records = dst.execute("SELECT count(*) FROM record WHERE deleted = 0").fetchone()[0]
            outbox = dst.execute("SELECT count(*) FROM outbox").fetchone()[0]
            version = dst.execute("PRAGMA user_version").fetchone()[0]
        finally:
            dst.close()
            src.close()
        manifest = {"format": FORMAT, "version": VERSION, "schema": version,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "records": records, "outbox": outbox}
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            zf.write(copy, DATABASE)
            folder = data_dir / ATTACHMENTS
            if folder.is_dir():
                for f in sorted(folder.rglob("*")):
                    if f.is_file() and not f.name.endswith(".part"):
                        zf.write(f, f.relative_to(data_dir).as_posix(),
                                 compress_type=zipfile.ZIP_STORED)
                        files += 1
            for name in EXTRA_FILES:
                if (data_dir / name).is_file():
                    zf.write(data_dir / name, name)
            manifest["files"] = files
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    partial.replace(out)
    return LaptopBackup(out, files, out.stat().st_size, records, outbox)


def restore(file: Path, data_dir: Path) -> dict:
    """Make `data_dir` from the backup; returns its manifest."""
    file, data_dir = Path(file), Path(data_dir)
    try:
        with zipfile.ZipFile(file) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise KeyError("format")
            names = zf.namelist()
            if (data_dir / DATABASE).exists():
                raise LaptopBackupError(
                    f"{data_dir} 已有数据库,不会覆盖:请指定一个新的文件夹 / {data_dir} already "
                    f"holds a database and is never overwritten: give a new folder")
            unsafe = [n for n in names if n.startswith("/") or ".." in Path(n).parts]
            if unsafe or any(n.split("/")[0] == "config" for n in names):
                raise LaptopBackupError(f"备份文件内容不对 / unexpected entries in {file}")
            data_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="fieldapp-restore-", dir=data_dir) as tmp:
                copy = Path(zf.extract(DATABASE, tmp))
                _check_database(copy)
                for name in names:
                    if name.startswith(f"{ATTACHMENTS}/") or name in EXTRA_FILES:
                        target = data_dir / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with zf.open(name) as src, open(target, "wb") as dst:
                            shutil.copyfileobj(src, dst, 1024 * 1024)
                copy.replace(data_dir / DATABASE)  # last: a cut restore leaves no database
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise LaptopBackupError(f"不是 fieldapp 备份文件 / not a fieldapp laptop backup: {file} "
                                f"({type(exc).__name__})") from None
    except OSError as exc:
        raise LaptopBackupError(f"无法恢复 / cannot restore: {exc}") from None
    return manifest


def _check_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if ok != "ok":
        raise LaptopBackupError(f"备份中的数据库已损坏 / the backup's database is damaged: {ok}")
