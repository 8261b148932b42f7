"""Photos and documents attached to local records: the content files and the `attachment` rows.

Content is stored once per SHA-256 under <data_dir>/attachments/<sha[:2]>/<sha>, so the same
photo attached to two records takes the disk once. A row is metadata only; rows in state
`local` wait for `sync.attachment_sync` to upload them (a separate queue from the record
outbox: a 20 MB photo must never hold up a batch of record changes). Rows pulled from the
registry may have `has_content = 0` until the file is fetched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fieldapp.compat import files
from fieldapp.domain import attachment_types as types
from fieldapp.domain import safe_text
from fieldapp.i18n import BilingualError
from fieldapp.store.db import transaction
from fieldapp.store.records import RecordStore, utcnow

CHUNK = 1024 * 1024
#: Refusals the registry gives that sending again cannot fix; the row waits for the user.
PERMANENT = ("too_large", "unsupported_type", "out_of_scope", "id_reused")


class AttachmentError(BilingualError, ValueError):
    """A refusal the user can act on, in Chinese and English."""

    def message(self, lang: str = "zh") -> str:
        return f"{self.zh} / {self.en}" if lang == "zh" else self.en


@dataclass
class Attachment:
    id: str
    record_id: str
    sha256: str
    name: str
    kind: str
    mime: str
    size: int
    caption: str
    created_at: str
    author: str | None
    state: str
    has_content: bool
    deleted: bool
    last_error: dict | None = None
    # Local only (never on the wire): set when the photo was made smaller when attached.
    original_sha256: str | None = None  # None when the original was not kept
    original_size: int | None = None
    original_mime: str | None = None
    original_pixels: str | None = None
    pixels: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Attachment:
        return cls(row["id"], row["record_id"], row["sha256"], row["name"], row["kind"],
                   row["mime"], row["size"], row["caption"], row["created_at"], row["author"],
                   row["state"], bool(row["has_content"]), bool(row["deleted"]),
                   json.loads(row["last_error"]) if row["last_error"] else None,
                   row["original_sha256"], row["original_size"], row["original_mime"],
                   row["original_pixels"], row["pixels"])

    @property
    def downscaled(self) -> bool:
        return self.original_size is not None

    def resize_note(self, lang: str = "zh") -> str:
        """What downscaling did, e.g. "原图 8.4 MB 4032x3024 → 2000x1500 (原图在本机)"."""
        if not self.downscaled:
            return ""
        kept = self.original_sha256 is not None
        if lang == "zh":
            return (f"原图 {types.human_size(self.original_size or 0)} {self.original_pixels} → "
                    f"{self.pixels}" + ("(原图在本机)" if kept else "(原图未保留)"))
        return (f"original {types.human_size(self.original_size or 0)} "
                f"{self.original_pixels} → {self.pixels}"
                + (" (original kept here)" if kept else " (original not kept)"))

    def wire(self) -> dict:
        """The protocol's Attachment object (sync/PROTOCOL.md)."""
        return {"id": self.id, "record_id": self.record_id, "sha256": self.sha256,
                "name": self.name, "kind": self.kind, "mime": self.mime, "size": self.size,
                "caption": self.caption, "created_at": self.created_at,
                "deleted": self.deleted}

    @property
    def refused(self) -> bool:
        return bool(self.last_error and self.last_error.get("code") in PERMANENT)

    def sync_label(self, lang: str = "zh") -> str:
        if self.refused:
            return "被拒" if lang == "zh" else "refused"
        if self.state == "local":
            return "待上传" if lang == "zh" else "to upload"
        if not self.has_content:
            return "未下载" if lang == "zh" else "not fetched"
        return "已同步" if lang == "zh" else "synced"


def data_dir_of(store: RecordStore) -> Path:
    """The folder of the store's SQLite file: attachments live beside it."""
    row = store.conn.execute("PRAGMA database_list").fetchone()
    if not row or not row[2]:
        raise AttachmentError("内存数据库不能保存附件", "an in-memory database cannot keep "
                              "attachments")
    return Path(row[2]).parent


def blob_path(data_dir: Path, sha256: str) -> Path:
    return Path(data_dir) / "attachments" / sha256[:2] / sha256


def store_stream(data_dir: Path, stream: BinaryIO, expect_sha: str | None = None,
                 limit: int = types.MAX_SIZE) -> tuple[str, int, str]:
    """Copy `stream` into the content store, hashing as it goes; (sha256, size, mime).

    The copy goes to a temporary file first and is renamed into place only when complete and
    checked, so a crash or a refusal never leaves a half file under a real hash.
    """
    root = Path(data_dir) / "attachments"
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{uuid.uuid4().hex}.part"
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(tmp, "wb") as out:
            while chunk := stream.read(CHUNK):
                if len(head) < types.HEAD_BYTES:
                    head += chunk[:types.HEAD_BYTES]
                size += len(chunk)
                if size > limit:
                    raise AttachmentError(*types.too_large(size, limit))
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        mime = types.sniff(head)
        if mime is None:
            raise AttachmentError(*types.unsupported())
        sha = digest.hexdigest()
        if expect_sha and sha != expect_sha:
            raise AttachmentError("文件内容与校验值不符(下载或存储出错)",
                                  "the file's content does not match its checksum "
                                  "(damaged in transfer or on disk)")
        final = blob_path(data_dir, sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            files.remove_file(tmp)
        else:  # an antivirus scanner may hold the fresh file for a moment on Windows
            files.retry_while_locked(os.replace, tmp, final)
        return sha, size, mime
    finally:
        if tmp.exists():
            files.remove_file(tmp)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def attach(store: RecordStore, record_id: str, file: Path | str, *, caption: str = "",
           kind: str | None = None, data_dir: Path | None = None) -> Attachment:
    """Copy `file` into the content store and attach it to the record; offline, no network."""
    data_dir = data_dir or data_dir_of(store)
    path = Path(file).expanduser()
    record = store.get(record_id)
    if record is None:
        raise AttachmentError(f"没有这条记录:{record_id}", f"no such record: {record_id}")
    if kind is not None and kind not in types.KINDS:
        raise AttachmentError(f"附件类别只能是 photo 或 document:{kind}",
                              f"the kind must be photo or document: {kind}")
    try:
        caption = safe_text.clean_line(caption)
    except safe_text.UnsafeText as exc:
        raise AttachmentError(f"说明{exc.zh}", f"the caption {exc.en}") from None
    if len(caption) > 500:
        raise AttachmentError("说明最多 500 字", "the caption is at most 500 characters")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise AttachmentError(f"不是文件:{path}", f"not a file: {path}")
        # Refuse before copying a byte: a 2 GB video off a camera card must not fill the disk.
        if size > types.MAX_SIZE:
            raise AttachmentError(*types.too_large(size))
        with open(path, "rb") as fh:
            sha, size, mime = store_stream(data_dir, fh)
    except FileNotFoundError:
        raise AttachmentError(f"找不到文件:{path}", f"file not found: {path}") from None
    except PermissionError:
        raise AttachmentError(f"没有权限读取文件:{path}",
                              f"no permission to read the file: {path}") from None
    # A file name may hold anything a file system allows (line breaks, bidi overrides that
    # make "gpj.exe" read "exe.jpg"): keep only what the text rule lets through.
    name = safe_text.scrub(path.name).strip()[:200] or f"{sha[:12]}"
    att = Attachment(str(uuid.uuid4()), record.id, sha, name,
                     kind or types.default_kind(mime), mime, size, caption, utcnow(),
                     store.user or None, "local", True, False)
    if att.kind == "photo":
        _make_smaller(store, att, data_dir)
    with transaction(store.conn):
        store.conn.execute(
            "INSERT INTO attachment (id, record_id, sha256, name, kind, mime, size, caption, "
            "created_at, author, state, has_content, deleted, original_sha256, original_size, "
            "original_mime, original_pixels, pixels) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'local', 1, 0, ?, ?, ?, ?, ?)",
            (att.id, att.record_id, att.sha256, att.name, att.kind, att.mime, att.size,
             att.caption, att.created_at, att.author, att.original_sha256, att.original_size,
             att.original_mime, att.original_pixels, att.pixels))
    if att.downscaled and att.original_sha256 is None:
        _free(store, data_dir, sha)
    return att


def _make_smaller(store: RecordStore, att: Attachment, data_dir: Path) -> None:
    """Point `att` at a downscaled copy of its photo when the settings call for one."""
    from fieldapp.store import photos

    setting = photos.settings(store)
    smaller = photos.shrink(blob_path(data_dir, att.sha256), att.mime, setting)
    if smaller is None:
        return
    original_sha, original_size, original_mime = att.sha256, att.size, att.mime
    att.sha256, att.size, att.mime = store_stream(data_dir, io.BytesIO(smaller.data))
    att.original_sha256 = original_sha if setting.keep_original else None
    att.original_size, att.original_mime = original_size, original_mime
    att.original_pixels, att.pixels = smaller.original_pixels, smaller.pixels
    if original_mime != "image/jpeg":
        att.name = str(Path(att.name).with_suffix(".jpg"))


def _free(store: RecordStore, data_dir: Path, sha256: str) -> None:
    """Delete a content file no live attachment uses (as its file or its kept original)."""
    used = store.conn.execute(
        "SELECT 1 FROM attachment WHERE deleted = 0 AND (sha256 = ?1 OR original_sha256 = ?1) "
        "LIMIT 1", (sha256,)).fetchone()
    if not used:  # an antivirus scan may hold it a moment on Windows
        files.remove_file(blob_path(data_dir, sha256))


def list_for(store: RecordStore, record_id: str, include_deleted: bool = False
             ) -> list[Attachment]:
    sql = "SELECT * FROM attachment WHERE record_id = ?"
    if not include_deleted:
        sql += " AND deleted = 0"
    rows = store.conn.execute(sql + " ORDER BY created_at, id", (record_id,)).fetchall()
    return [Attachment.from_row(r) for r in rows]


def get(store: RecordStore, attachment_id: str) -> Attachment | None:
    """By id, or by a unique prefix of at least 6 characters (what the CLI prints)."""
    row = store.conn.execute("SELECT * FROM attachment WHERE id = ?",
                             (attachment_id,)).fetchone()
    if row is None and len(attachment_id) >= 6:
        rows = store.conn.execute("SELECT * FROM attachment WHERE id LIKE ? LIMIT 2",
                                  (attachment_id + "%",)).fetchall()
        row = rows[0] if len(rows) == 1 else None
    return Attachment.from_row(row) if row else None


def require(store: RecordStore, attachment_id: str) -> Attachment:
    att = get(store, attachment_id)
    if att is None:
        raise AttachmentError(f"没有这个附件:{attachment_id}",
                              f"no such attachment: {attachment_id}")
    return att


def remove(store: RecordStore, attachment_id: str, data_dir: Path | None = None) -> Attachment:
    """Mark the attachment deleted (the deletion syncs like an upload); free the content file
    when no other live attachment uses it."""
    att = require(store, attachment_id)
    data_dir = data_dir or data_dir_of(store)
    with transaction(store.conn):
        store.conn.execute("UPDATE attachment SET deleted = 1, state = 'local', "
                           "last_error = NULL WHERE id = ?", (att.id,))
    try:
        for sha in {att.sha256, att.original_sha256} - {None}:
            _free(store, data_dir, sha)
    except OSError as exc:  # the row is removed; removing it again deletes the file
        raise AttachmentError(f"附件已删除,但文件正被其他程序占用,稍后再删一次:{exc}",
                              f"the attachment is removed, but its file is in use by "
                              f"another program; remove it again later: {exc}") from exc
    att.deleted, att.state = True, "local"
    return att


def drop_originals(store: RecordStore, data_dir: Path | None = None) -> tuple[int, int]:
    """Free the disk the kept originals of downscaled photos take; (photos, bytes freed).

    Only for photos whose smaller copy the registry already has, so nothing is lost."""
    data_dir = data_dir or data_dir_of(store)
    rows = store.conn.execute(
        "SELECT id, original_sha256, original_size FROM attachment "
        "WHERE original_sha256 IS NOT NULL AND state = 'uploaded'").fetchall()
    with transaction(store.conn):
        store.conn.executemany("UPDATE attachment SET original_sha256 = NULL WHERE id = ?",
                               [(r["id"],) for r in rows])
    freed = 0
    for sha in {r["original_sha256"] for r in rows}:
        path = blob_path(data_dir, sha)
        size = path.stat().st_size if path.exists() else 0
        _free(store, data_dir, sha)
        freed += 0 if path.exists() else size
    return len(rows), freed


def original_path(att: Attachment, data_dir: Path) -> Path | None:
    """The kept original of a downscaled photo, when this laptop has it."""
    if att.original_sha256 is None:
        return None
    path = blob_path(data_dir, att.original_sha256)
    return path if path.exists() else None


def pending(store: RecordStore, include_refused: bool = False) -> list[Attachment]:
    rows = store.conn.execute("SELECT * FROM attachment WHERE state = 'local' "
                              "ORDER BY created_at, id").fetchall()
    found = [Attachment.from_row(r) for r in rows]
    return found if include_refused else [a for a in found if not a.refused]


def set_error(store: RecordStore, attachment_id: str, reason: dict | None) -> None:
    with transaction(store.conn):
        store.conn.execute("UPDATE attachment SET last_error = ? WHERE id = ?",
                           (json.dumps(reason, ensure_ascii=False) if reason else None,
                            attachment_id))


def mark_uploaded(store: RecordStore, sent: dict[str, dict]) -> None:
    """Rows the registry confirmed, unless they changed locally since they were sent."""
    with transaction(store.conn):
        for att_id, wire in sent.items():
            store.conn.execute(
                "UPDATE attachment SET state = 'uploaded', last_error = NULL "
                "WHERE id = ? AND deleted = ? AND caption = ?",
                (att_id, int(wire["deleted"]), wire["caption"]))


def apply_remote(store: RecordStore, rows: list[dict], data_dir: Path | None = None) -> int:
    """Take the registry's attachment rows inside the caller's transaction (a pull page).

    A row with an unsent local change keeps the laptop's version until it is uploaded.
    """
    if not rows:
        return 0
    data_dir = data_dir or data_dir_of(store)
    applied = 0
    for r in rows:
        local = store.conn.execute("SELECT state FROM attachment WHERE id = ?",
                                   (r["id"],)).fetchone()
        if local is not None and local["state"] == "local":
            continue
        has = blob_path(data_dir, r["sha256"]).exists()
        store.conn.execute(
            "INSERT INTO attachment (id, record_id, sha256, name, kind, mime, size, caption, "
            "created_at, author, state, has_content, deleted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'uploaded', ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET caption = excluded.caption, "
            "deleted = excluded.deleted, has_content = excluded.has_content",
            (r["id"], r["record_id"], r["sha256"], r["name"], r["kind"], r["mime"],
             int(r["size"]), r.get("caption") or "", r["created_at"], r.get("author"),
             int(has), int(bool(r.get("deleted")))))
        applied += 1
    return applied


def forget_orphans(store: RecordStore, data_dir: Path | None = None) -> int:
    """Drop synced attachment rows whose record left this laptop (evicted: out of scope), and
    their files unless another record still uses them. Unsent rows always stay."""
    rows = store.conn.execute(
        "SELECT id, sha256 FROM attachment a WHERE state = 'uploaded' AND NOT EXISTS "
        "(SELECT 1 FROM record r WHERE r.id = a.record_id)").fetchall()
    if not rows:
        return 0
    data_dir = data_dir or data_dir_of(store)
    with transaction(store.conn):
        store.conn.executemany("DELETE FROM attachment WHERE id = ?", [(r["id"],) for r in rows])
    for sha in {r["sha256"] for r in rows}:
        try:
            _free(store, data_dir, sha)
        except OSError:
            continue  # in use right now: the file stays behind, costing only disk space
    return len(rows)


def missing_content(store: RecordStore) -> list[Attachment]:
    rows = store.conn.execute("SELECT * FROM attachment WHERE has_content = 0 AND deleted = 0 "
                              "ORDER BY created_at").fetchall()
    return [Attachment.from_row(r) for r in rows]


def mark_fetched(store: RecordStore, sha256: str) -> None:
    with transaction(store.conn):
        store.conn.execute("UPDATE attachment SET has_content = 1 WHERE sha256 = ?", (sha256,))


def counts(store: RecordStore) -> dict[str, int]:
    row = store.conn.execute(
        "SELECT count(*) AS n, sum(state = 'local') AS waiting, "
        "sum(has_content = 0 AND deleted = 0) AS not_fetched FROM attachment").fetchone()
    return {"total": row["n"] or 0, "to_upload": row["waiting"] or 0,
            "not_fetched": row["not_fetched"] or 0}


def photo_counts(store: RecordStore) -> dict[str, int]:
    """What downscaling did on this laptop: photos, bytes before and after, originals kept."""
    row = store.conn.execute(
        "SELECT count(*), sum(original_size), sum(size), sum(original_sha256 IS NOT NULL) "
        "FROM attachment WHERE original_size IS NOT NULL AND deleted = 0").fetchone()
    return {"downscaled": row[0] or 0, "bytes_before": row[1] or 0, "bytes_after": row[2] or 0,
            "originals_kept": row[3] or 0}


def open_in_viewer(data_dir: Path, item: Attachment, original: bool = False) -> Path | None:
    """Open the attachment with the desktop's program for its type, through a temporary copy
    named like the original with the right ending (content files have none, and Windows picks
    a program by it). None when a program opened it; the copy's path where there is no
    desktop. A desktop without a program for it is an AttachmentError, never a crash.
    `original`: the kept original of a downscaled photo instead of the synced copy."""
    from fieldapp.compat import files

    source, mime, key = blob_path(data_dir, item.sha256), item.mime, item.id
    if original:
        kept = original_path(item, data_dir)
        if kept is None:
            raise AttachmentError("本机没有这张照片的原图", "this laptop has no original of this "
                                  "photo")
        source, mime, key = kept, item.original_mime or item.mime, f"{item.id}-original"
    copy = None
    try:
        copy = files.viewing_copy(source, item.name, types.extension_for(mime, item.name), key)
        return None if files.open_with_desktop(copy) else copy
    except files.NoViewer as exc:
        raise AttachmentError(f"没有能打开此文件的程序({exc}),文件位置:{copy}",
                              f"no program could open this file ({exc}); it is at {copy}"
                              ) from exc
    except OSError as exc:
        raise AttachmentError(f"无法打开附件:{exc}", f"cannot open the attachment: {exc}"
                              ) from exc
