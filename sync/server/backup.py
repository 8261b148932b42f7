"""Registry backups: one file with the database and the photo content, and restoring it.

A backup is a zip (`.fieldapp-backup`) holding `manifest.json`, the database — PostgreSQL
through `pg_dump --format=custom` (whose major version must be at least the server's), SQLite
through its online backup API, so the registry keeps serving while it runs — and, for the
folder blob store, every content file under `blobs/` (the PostgreSQL blob store is inside the
database dump already).

Restoring replaces the database with the backup's (stop the registry hosts first), copies the
content files back, migrates the schema forward if the backup is from an older fieldapp, and
gives the registry a new *generation*: laptops see it at their next sync, send again what they
had pushed since (their journal; the registry answers "already applied" for what it has) and
pull everything afresh, so work pushed after the backup was taken is not lost
(sync/PROTOCOL.md, "Restored registry").
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import make_url

from sync.server.db import normalise_url, writing

FORMAT = "fieldapp-registry-backup"
VERSION = 1
DUMP = "database.pgdump"
SQLITE = "registry.sqlite3"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead, with a one-line bilingual reason."""


@dataclass
class BackupInfo:
    path: Path
    database: str
    blobs: int
    bytes: int
    generation: str
    created_at: str


def backup(database_url: str, out: Path, *, store=None, pg_bin: str | None = None  # noqa: ANN001
           ) -> BackupInfo:
    """Write a backup of the registry at `database_url` (and its folder store) to `out`."""
    from sync.server import ops
    from sync.server.admin import blob_store, engine_for

    url = normalise_url(database_url)
    engine = engine_for(url)
    store = store or blob_store(url)
    generation = ops.generation(engine)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    blobs = 0
    with tempfile.TemporaryDirectory(prefix="fieldapp-backup-") as tmp:
        if url.startswith("postgresql"):
            dump = Path(tmp) / DUMP
            _pg_dump(url, dump, pg_bin)
            name = DUMP
        else:
            dump = Path(tmp) / SQLITE
            _sqlite_backup(url, dump)
            name = SQLITE
        manifest = {"format": FORMAT, "version": VERSION, "database": engine.dialect.name,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "generation": generation, "blob_store": store.kind}
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            zf.write(dump, name, compress_type=zipfile.ZIP_STORED if name == DUMP else None)
            if store.kind == "dir":
                for item in store.listing():
                    # Photos are compressed already: store them as they are.
                    zf.write(store.path(item.sha256), f"blobs/{item.sha256[:2]}/{item.sha256}",
                             compress_type=zipfile.ZIP_STORED)
                    blobs += 1
            manifest["blobs"] = blobs
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    os.replace(partial, out)
    return BackupInfo(out, engine.dialect.name, blobs, out.stat().st_size, generation,
                      manifest["created_at"])


def read_manifest(path: Path) -> dict:
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as exc:
        raise BackupError(f"不是 fieldapp 登记库备份文件 / not a fieldapp registry backup: "
                          f"{path} ({type(exc).__name__})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不是 fieldapp 登记库备份文件 / not a fieldapp registry backup: {path}")
    if manifest.get("version", 0) > VERSION:
        raise BackupError("备份文件来自更新版本的 fieldapp,请先升级 / the backup was made by a "
                          "newer fieldapp: upgrade first")
    return manifest


def restore(database_url: str, path: Path, *, store=None, pg_bin: str | None = None  # noqa: ANN001
            ) -> dict:
    """Replace the registry at `database_url` with the backup at `path`; returns its manifest
    with the new generation. The registry's hosts must be stopped."""
    from sync.server import ops
    from sync.server.admin import blob_store, dispose_all, engine_for
    from sync.server.migrations import migrate

    url = normalise_url(database_url)
    manifest = read_manifest(Path(path))
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    if manifest["database"] != dialect:
        raise BackupError(f"备份来自 {manifest['database']},不能恢复到 {dialect} / the backup is "
                          f"of a {manifest['database']} registry, not {dialect}")
    dispose_all()  # no pooled connection may hold the tables being replaced
    with tempfile.TemporaryDirectory(prefix="fieldapp-restore-") as tmp, \
            zipfile.ZipFile(path) as zf:
        if dialect == "postgresql":
            dump = Path(zf.extract(DUMP, tmp))
            _pg_restore(url, dump, pg_bin)
        else:
            dump = Path(zf.extract(SQLITE, tmp))
            _sqlite_restore(dump, url)
        engine = engine_for(url)  # migrates a backup made by an older fieldapp
        migrate(engine)
        store = store or blob_store(url)
        names = [n for n in zf.namelist() if n.startswith("blobs/") and not n.endswith("/")]
        if names and store.kind != "dir":
            raise BackupError("备份中的附件文件需要文件夹存储 (--blob-store dir:PATH) / the backup "
                              "holds content files: restore with --blob-store dir:PATH")
        for name in names:
            sha = name.rsplit("/", 1)[1]
            target = store.path(sha)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
    with writing(engine) as conn:
        manifest["new_generation"] = ops.new_generation(conn)
    return manifest


# -- PostgreSQL --------------------------------------------------------------------------------
def _libpq(url: str) -> tuple[str, str]:
    """(a libpq connection string, the schema the URL's search_path names or public)."""
    parsed = make_url(url).set(drivername="postgresql")
    schema = "public"
    options = parsed.query.get("options")
    if isinstance(options, tuple):
        options = options[0]
    if options:
        for part in unquote(options).split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0].strip('"')
    return parsed.render_as_string(hide_password=False), schema


def _tool(name: str, pg_bin: str | None) -> str:
    folder = pg_bin or os.environ.get("FIELDAPP_PG_BIN")
    found = str(Path(folder) / name) if folder else shutil.which(name)
    if not found or not Path(found).exists():
        raise BackupError(f"找不到 {name},请安装 PostgreSQL 客户端 (postgresql-client) 或用 "
                          f"--pg-bin 指定 / {name} not found: install the PostgreSQL client "
                          f"tools or point --pg-bin at them")
    return found


def _major(text: str) -> int:
    digits = "".join(ch if ch.isdigit() or ch == "." else " " for ch in text).split()
    return int(digits[0].split(".")[0]) if digits else 0


def _check_versions(tool: str, dsn: str) -> None:
    """pg_dump refuses a newer server, and an older pg_restore cannot read a newer dump: say
    which client to install instead of failing halfway."""
    import psycopg

    client = _major(subprocess.run([tool, "--version"], capture_output=True, text=True,
                                   check=True).stdout)
    with psycopg.connect(dsn) as conn:
        server = conn.info.server_version // 10000
    if client < server:
        raise BackupError(f"{Path(tool).name} 版本 {client} 低于服务器 {server},请安装 "
                          f"postgresql-client-{server} / {Path(tool).name} {client} is older than "
                          f"the server ({server}): install postgresql-client-{server}")


def _run(args: list[str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:300]
        raise BackupError(f"{what} 失败 / failed: {detail}")


def _pg_dump(url: str, out: Path, pg_bin: str | None) -> None:
    dsn, schema = _libpq(url)
    tool = _tool("pg_dump", pg_bin)
    _check_versions(tool, dsn)
    _run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--schema={schema}",
          f"--file={out}", f"--dbname={dsn}"], "pg_dump")


def _pg_restore(url: str, dump: Path, pg_bin: str | None) -> None:
    import psycopg
    from psycopg import sql

    dsn, schema = _libpq(url)
    tool = _tool("pg_restore", pg_bin)
    _check_versions(tool, dsn)
    dumped = _dumped_schema(tool, dump)
    if dumped != schema:
        raise BackupError(f"备份来自模式 {dumped},当前为 {schema} / the backup is of schema "
                          f"{dumped}, this registry uses {schema}")
    # The registry's tables are replaced whole: drop what is there (tables made after the
    # backup too), then restore into an empty schema of the same name.
    with psycopg.connect(dsn, autocommit=True) as conn:
        if schema == "public":
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in tables:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{} CASCADE").format(
                    sql.Identifier(table)))
        else:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))
    args = [tool, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={dsn}"]
    if schema == "public":
        # The public schema stays (with its grants); restore everything else into it.
        listing = subprocess.run([tool, "--list", str(dump)], capture_output=True, text=True,
                                 check=True).stdout
        keep = [line for line in listing.splitlines()
                if " SCHEMA - public " not in line and " COMMENT - SCHEMA public " not in line]
        use = dump.with_suffix(".list")
        use.write_text("\n".join(keep) + "\n", encoding="utf-8")
        args.append(f"--use-list={use}")
    _run([*args, str(dump)], "pg_restore")


def _dumped_schema(tool: str, dump: Path) -> str:
    listing = subprocess.run([tool, "--list", str(dump)], capture_output=True, text=True)
    for line in listing.stdout.splitlines():
        parts = line.split()
        if " TABLE " in line and len(parts) >= 6 and not line.startswith(";"):
            return parts[parts.index("TABLE") + 1]
    return "public"


# -- SQLite ------------------------------------------------------------------------------------
def _sqlite_file(url: str) -> Path:
    return Path(make_url(url).database or "").expanduser().resolve()


def _sqlite_backup(url: str, out: Path) -> None:
    # The online backup API copies a consistent snapshot while the registry keeps writing.
    src = sqlite3.connect(f"{_sqlite_file(url).as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sqlite_restore(dump: Path, url: str) -> None:
    target = _sqlite_file(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(dump)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page into the live file (WAL and all), not a file copy
    finally:
        dst.close()
        src.close()

