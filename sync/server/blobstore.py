"""Where the registry keeps photo and document content: a directory, or the database itself.

Both stores hold content named by its SHA-256 and offer the same small interface: `size`
(is it there?), `writer` (an upload in progress: `write` chunks, then `commit` under the
hash once it checked out, or `abort`), `read` (chunks, in order), `delete` and `listing`.
Neither ever holds a whole file in memory.

- `DirBlobStore`: files `<dir>/<sha[:2]>/<sha>`, written to `<dir>/tmp/` and renamed into
  place, so a cut upload leaves nothing under the final name. One host, or a shared disk.
- `DbBlobStore`: 256 KiB rows in `blob_chunk`, written under a temporary key while the
  upload runs and renamed to the hash in one transaction, so every registry host on the same
  PostgreSQL sees a file the moment its upload is committed, and a database backup holds it.

Metadata for both (first uploader, size, when stored, when last asked for) lives in the `blob`
table: the per-user quota and `fieldapp admin gc-blobs` read it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from sync.server.db import reading, writing
from sync.server.models import Attachment, Blob, BlobChunk, BlobUpload

BLOBS = Blob.__table__
CHUNKS = BlobChunk.__table__
UPLOADS = BlobUpload.__table__
ATTACHMENTS = Attachment.__table__
CHUNK = 256 * 1024
READ_AHEAD = 4  # chunks per read of the database store (1 MiB)
TOUCH_EVERY = timedelta(days=1)  # a blob asked for is "used" again; one write a day at most


log = logging.getLogger("fieldapp.server")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class BlobStoreError(ValueError):
    """A blob store that cannot be used as configured (bad spec, unwritable folder)."""


@dataclass
class Listed:
    sha256: str
    size: int
    stored_at: str  # ISO UTC


class DirBlobStore:
    kind = "dir"

    def __init__(self, engine: Engine, root: Path) -> None:
        self.engine, self.root = engine, Path(root)

    def describe(self) -> str:
        return f"dir:{self.root}"

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def size(self, sha: str) -> int | None:
        try:
            return self.path(sha).stat().st_size
        except OSError:
            return None

    def writer(self, uploader: str) -> _DirWriter:
        return _DirWriter(self, uploader)

    def read(self, sha: str) -> Iterator[bytes]:
        with open(self.path(sha), "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def delete(self, sha: str) -> None:
        self.path(sha).unlink(missing_ok=True)

    def listing(self) -> Iterator[Listed]:
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if len(sub.name) != 2 or not sub.is_dir():
                continue
            for f in sorted(sub.iterdir()):
                st = f.stat()
                yield Listed(f.name, st.st_size, _iso(st.st_mtime))

    def stale_uploads(self, before: str) -> list[str]:
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            return []
        return [str(f) for f in tmp.iterdir() if _iso(f.stat().st_mtime) < before]

    def drop_upload(self, name: str) -> None:
        Path(name).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise BlobStoreError(f"blob folder {self.root} is not writable")


class _DirWriter:
    def __init__(self, store: DirBlobStore, uploader: str) -> None:
        self.store, self.uploader = store, uploader
        self.tmp = store.root / "tmp" / f"{uuid.uuid4().hex}.part"
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.tmp, "wb")  # noqa: SIM115  (closed in commit/abort)

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def commit(self, sha: str, size: int) -> bool:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        final = self.store.path(sha)
        if final.exists():
            self.tmp.unlink(missing_ok=True)
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.tmp, final)
        _record(self.store.engine, sha, size, self.uploader, "dir")
        return True

    def abort(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


class DbBlobStore:
    kind = "db"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> str:
        return f"database ({self.engine.dialect.name})"

    def size(self, sha: str) -> int | None:
        with reading(self.engine) as conn:
            return conn.execute(select(BLOBS.c.size).where(
                BLOBS.c.sha256 == sha, BLOBS.c.store == "db")).scalar_one_or_none()

    def writer(self, uploader: str) -> _DbWriter:
        return _DbWriter(self, uploader)

    def read(self, sha: str) -> Iterator[bytes]:
        # A short read per megabyte: a slow download never holds a pooled connection for long,
        # and never more than READ_AHEAD chunks are in memory.
        n = 0
        while True:
            with reading(self.engine) as conn:
                rows = conn.execute(select(CHUNKS.c.data).where(
                    CHUNKS.c.blob_key == sha, CHUNKS.c.n >= n, CHUNKS.c.n < n + READ_AHEAD)
                    .order_by(CHUNKS.c.n)).scalars().all()
            for data in rows:
                yield bytes(data)
            if len(rows) < READ_AHEAD:
                return
            n += READ_AHEAD

    def delete(self, sha: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(CHUNKS).where(CHUNKS.c.blob_key == sha))

    def listing(self) -> Iterator[Listed]:
        with reading(self.engine) as conn:
            rows = conn.execute(select(BLOBS.c.sha256, BLOBS.c.size, BLOBS.c.created_at)
                                .where(BLOBS.c.store == "db").order_by(BLOBS.c.sha256)).all()
        for r in rows:
            yield Listed(r.sha256, r.size, r.created_at)

    def stale_uploads(self, before: str) -> list[str]:
        with reading(self.engine) as conn:
            return list(conn.execute(select(UPLOADS.c.upload_id)
                                     .where(UPLOADS.c.started_at < before)).scalars())

    def drop_upload(self, upload_id: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(CHUNKS).where(CHUNKS.c.blob_key == upload_id))
            conn.execute(delete(UPLOADS).where(UPLOADS.c.upload_id == upload_id))

    def check(self) -> None:
        with reading(self.engine) as conn:
            conn.execute(select(func.count()).select_from(UPLOADS)).scalar_one()


class _DbWriter:
    def __init__(self, store: DbBlobStore, uploader: str) -> None:
        self.store, self.uploader = store, uploader
        self.key = f"upload-{uuid.uuid4().hex}"
        self.n, self.buf = 0, bytearray()
        with writing(store.engine) as conn:
            conn.execute(insert(UPLOADS).values(upload_id=self.key, uploader=uploader,
                                                started_at=now_iso()))

    def write(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= CHUNK:
            self._flush(bytes(self.buf[:CHUNK]))
            del self.buf[:CHUNK]

    def _flush(self, chunk: bytes) -> None:
        with writing(self.store.engine) as conn:
            if conn.dialect.name == "postgresql":
                # No flush to disk per chunk: the commit that renames the chunks to the hash
                # is synchronous and flushes the log up to it, these rows included.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            conn.execute(insert(CHUNKS).values(blob_key=self.key, n=self.n, data=chunk))
        self.n += 1

    def commit(self, sha: str, size: int) -> bool:
        if self.buf:
            self._flush(bytes(self.buf))
            self.buf.clear()
        engine = self.store.engine
        try:
            with writing(engine) as conn:
                have = conn.execute(select(BLOBS.c.store).where(BLOBS.c.sha256 == sha)).first()
                if have is not None and have.store == "db":
                    stored = False
                else:
                    # Renaming the chunks is what makes the upload visible, all at once.
                    conn.execute(update(CHUNKS).where(CHUNKS.c.blob_key == self.key)
                                 .values(blob_key=sha))
                    _upsert_blob(conn, have is not None, sha, size, self.uploader, "db")
                    conn.execute(delete(UPLOADS).where(UPLOADS.c.upload_id == self.key))
                    stored = True
        except IntegrityError:
            stored = False  # another host committed the same content a moment earlier
        if not stored:
            self.abort()
        return stored

    def abort(self) -> None:
        self.store.drop_upload(self.key)


def _upsert_blob(conn, present: bool, sha: str, size: int, uploader: str,  # noqa: ANN001
                 kind: str) -> None:
    at = now_iso()
    if present:
        conn.execute(update(BLOBS).where(BLOBS.c.sha256 == sha).values(
            size=size, store=kind, touched_at=at))
    else:
        conn.execute(insert(BLOBS).values(sha256=sha, size=size, uploader=uploader, store=kind,
                                          created_at=at, touched_at=at))


def _record(engine: Engine, sha: str, size: int, uploader: str, kind: str) -> None:
    try:
        with writing(engine) as conn:
            present = conn.execute(select(BLOBS.c.sha256).where(BLOBS.c.sha256 == sha)
                                   ).first() is not None
            _upsert_blob(conn, present, sha, size, uploader, kind)
    except IntegrityError:
        pass  # recorded by a concurrent upload of the same content


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


BlobStore = DirBlobStore | DbBlobStore


def open_store(engine: Engine, database_url: str, spec: str | None = None,
               blob_dir: str | Path | None = None) -> BlobStore:
    """The store named by `spec` (`dir:PATH`, `dir`, `postgres` or `database`), else by
    FIELDAPP_BLOB_STORE; with neither, a folder if one was given (`blob_dir` or
    FIELDAPP_BLOB_DIR), else the database on PostgreSQL and `blobs/` beside a SQLite file."""
    from sync.server.attachments import blob_dir_for
    from sync.server.settings import settings

    config = settings()
    spec = (spec or config.blob_store or "").strip()
    if not spec:
        explicit = blob_dir or config.blob_dir
        spec = "database" if engine.dialect.name == "postgresql" and not explicit else "dir"
    kind, _, where = spec.partition(":")
    if kind in ("postgres", "postgresql", "database", "db"):
        if kind.startswith("postgres") and engine.dialect.name != "postgresql":
            raise BlobStoreError("--blob-store postgres needs a PostgreSQL database "
                                 "(use dir:PATH, or database to keep files in SQLite)")
        return DbBlobStore(engine)
    if kind == "dir":
        return DirBlobStore(engine, blob_dir_for(database_url, where or blob_dir))
    raise BlobStoreError(f"unknown blob store {spec!r}: use dir:PATH or postgres")


# -- quota -------------------------------------------------------------------------------------
def usage(engine: Engine, user: str) -> int:
    """Bytes of content this user uploaded first (a file someone else already sent is free)."""
    with reading(engine) as conn:
        return int(conn.execute(select(func.coalesce(func.sum(BLOBS.c.size), 0))
                                .where(BLOBS.c.uploader == user)).scalar_one())


def touch(engine: Engine, sha: str) -> None:
    """Mark content as wanted again (a laptop asked for it), so collection waits anew."""
    stale = (datetime.now(UTC) - TOUCH_EVERY).isoformat(timespec="milliseconds")
    with reading(engine) as conn:
        row = conn.execute(select(BLOBS.c.touched_at).where(BLOBS.c.sha256 == sha)).first()
    if row is not None and row.touched_at < stale:
        with writing(engine) as conn:
            conn.execute(update(BLOBS).where(BLOBS.c.sha256 == sha).values(touched_at=now_iso()))


# -- collection ----------------------------------------------------------------------------------
@dataclass
class GcReport:
    blobs: int = 0
    bytes: int = 0
    uploads: int = 0
    kept_referenced: int = 0
    kept_young: int = 0
    dry_run: bool = False


def collect(store: BlobStore, older_than: timedelta, dry_run: bool = False) -> GcReport:
    """Delete content no live attachment uses, last stored or asked for before the grace
    period, and uploads abandoned before it. Content a live attachment names is never touched.
    """
    report = GcReport(dry_run=dry_run)
    cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="milliseconds")
    engine = store.engine
    with reading(engine) as conn:
        live = set(conn.execute(select(ATTACHMENTS.c.sha256).where(
            ATTACHMENTS.c.deleted.is_(False)).distinct()).scalars())
        touched = dict(conn.execute(select(BLOBS.c.sha256, BLOBS.c.touched_at)).all())
    for item in list(store.listing()):
        if item.sha256 in live:
            report.kept_referenced += 1
            continue
        if max(item.stored_at, touched.get(item.sha256, "")) >= cutoff:
            report.kept_young += 1
            continue
        if not dry_run and not _forget(store, item.sha256):
            report.kept_referenced += 1  # an attachment named it meanwhile
            continue
        report.blobs += 1
        report.bytes += item.size
    for upload in store.stale_uploads(cutoff):
        report.uploads += 1
        if not dry_run:
            store.drop_upload(upload)
    return report


def _forget(store: BlobStore, sha: str) -> bool:
    """Drop the metadata row unless a live attachment names the content now; then the content."""
    with writing(store.engine) as conn:
        used = conn.execute(select(exists().where(and_(
            ATTACHMENTS.c.sha256 == sha, ATTACHMENTS.c.deleted.is_(False))))).scalar()
        if used:
            return False
        conn.execute(delete(BLOBS).where(BLOBS.c.sha256 == sha))
        if store.kind == "db":
            conn.execute(delete(CHUNKS).where(CHUNKS.c.blob_key == sha))
    if store.kind == "dir":
        store.delete(sha)
    return True


def copy_into(source: BlobStore, target: BlobStore) -> tuple[int, int]:
    """Copy every content `source` has and `target` lacks (checked by hash on the way);
    returns (files copied, bytes). Streams file by file; safe to run again."""
    import hashlib

    copied = size = 0
    for item in list(source.listing()):
        if target.size(item.sha256) is not None:
            continue
        with reading(source.engine) as conn:
            uploader = conn.execute(select(BLOBS.c.uploader).where(
                BLOBS.c.sha256 == item.sha256)).scalar_one_or_none() or ""
        writer, digest, n = target.writer(uploader), hashlib.sha256(), 0
        try:
            for chunk in source.read(item.sha256):
                digest.update(chunk)
                n += len(chunk)
                writer.write(chunk)
            if digest.hexdigest() != item.sha256:
                raise BlobStoreError(f"content {item.sha256[:12]} is damaged in the source")
            writer.commit(item.sha256, n)
        except BaseException:
            writer.abort()
            raise
        copied += 1
        size += n
    return copied, size


def parse_age(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `0` → a timedelta; anything else raises ValueError (bilingual)."""
    text = text.strip().lower()
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds", "w": "weeks"}
    if text == "0":
        return timedelta(0)
    if len(text) >= 2 and text[-1] in units and text[:-1].isdigit():
        return timedelta(**{units[text[-1]]: int(text[:-1])})
    raise ValueError(f"时长应写作 7d、12h 或 30m / a duration looks like 7d, 12h or 30m: {text!r}")
