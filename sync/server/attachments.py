"""The registry's photos and documents: blob upload/download by SHA-256 and attachment rows.

Blob content lives in a blob store (`blobstore.py`: a folder, or the database so that several
hosts share it), written under a temporary name and committed under its hash only after the
hash checked out, so a cut upload or a corrupted one leaves nothing behind and a retry starts
clean. Attachment rows are metadata;
storing one appends change-feed rows for its record, so every laptop in scope meets the
record again in its pull and gets the record's attachments with it (sync/PROTOCOL.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from fieldapp.domain import attachment_types as types
from sync import protocol
from sync.server import blob_access, blobstore
from sync.server.areas import COUNTER, AreaChains
from sync.server.auth import Principal, utcnow
from sync.server.db import reading, writing
from sync.server.models import Attachment
from sync.server.push import FEED, RECORDS
from sync.server.settings import settings

ATTACHMENTS = Attachment.__table__
BLOB_PREFIX = "/api/v1/blobs/"
DRAIN_LIMIT = 64 * 1024 * 1024  # read and discard an over-limit body up to this, then answer


def blob_dir_for(database_url: str, blob_dir: str | Path | None = None) -> Path:
    """`blob_dir`, else FIELDAPP_BLOB_DIR, else `blobs/` beside a SQLite file, else the user
    data folder (a PostgreSQL deployment should say where, on a disk that is backed up)."""
    chosen = blob_dir or settings().blob_dir
    if chosen:
        return Path(chosen).expanduser().resolve()
    if database_url.startswith("sqlite:///") and len(database_url) > len("sqlite:///"):
        return Path(database_url[len("sqlite:///"):]).expanduser().resolve().parent / "blobs"
    if "://" not in database_url:
        return Path(database_url).expanduser().resolve().parent / "blobs"
    import platformdirs

    return Path(platformdirs.user_data_dir("fieldapp")) / "registry-blobs"


def max_size_default() -> int:
    return settings().max_attachment_bytes


def attachment_dict(row) -> dict:  # noqa: ANN001
    return {"id": row.id, "record_id": row.record_id, "sha256": row.sha256, "name": row.name,
            "kind": row.kind, "mime": row.mime, "size": row.size, "caption": row.caption,
            "created_at": row.created_at, "author": row.author,
            "uploaded_at": row.uploaded_at, "deleted": bool(row.deleted)}


def attachments_of(conn, record_ids: list[str]) -> list[dict]:  # noqa: ANN001
    """Every attachment row (deleted ones too: removals must reach laptops) of the records."""
    out: list[dict] = []
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start:start + 500]
        out += [attachment_dict(r) for r in conn.execute(
            select(ATTACHMENTS).where(ATTACHMENTS.c.record_id.in_(chunk))
            .order_by(ATTACHMENTS.c.record_id, ATTACHMENTS.c.created_at, ATTACHMENTS.c.id))]
    return out


def router(engine: Engine, principal: Callable, store: blobstore.BlobStore, max_size: int,
           quota: int = 0, metrics=None, on_stored=None) -> APIRouter:  # noqa: ANN001
    from sync.server.app import ApiError  # the app module imports this one

    api = APIRouter()

    def check_name(sha: str) -> None:
        if not types.SHA256_RE.match(sha):
            raise ApiError(422, "invalid_hash", "the blob name must be a lowercase SHA-256 hex",
                           "文件校验值格式不对")

    def over_quota(who: Principal, adding: int) -> None:
        if not quota:
            return
        used = blobstore.usage(engine, who.name)
        if used + adding > quota:
            raise ApiError(
                413, "quota_exceeded",
                f"your storage quota on the registry is used up ({_mb(used)} of {_mb(quota)} "
                f"MB): remove attachments you no longer need or ask the registry's admin",
                f"您在服务器上的存储空间已用完(已用 {_mb(used)} MB,共 {_mb(quota)} MB):"
                f"请删除不需要的附件,或联系管理员", quota=quota, used=used)

    def readable_size(who: Principal, sha256: str) -> int | None:
        """The content's size if it is there and `who` may read it (blob_access), else None:
        "not there" and "not yours" look the same, so a hash alone reveals nothing."""
        with reading(engine) as conn:
            if not blob_access.may_read(conn, who, sha256):
                return None
        return store.size(sha256)

    @api.head(BLOB_PREFIX + "{sha256}")
    async def blob_exists(sha256: str, who: Principal = Depends(principal)) -> Response:
        # No body and no JSON: HEAD answers carry headers only.
        if not types.SHA256_RE.match(sha256):
            return Response(status_code=422)
        size = await run_in_threadpool(readable_size, who, sha256)
        if size is None:
            return Response(status_code=404, headers={"x-max-size": str(max_size)})
        # The laptop will name this content in a row soon: collection must wait for it.
        await run_in_threadpool(blobstore.touch, engine, sha256)
        return Response(status_code=200, headers={"x-blob-size": str(size)})

    @api.put(BLOB_PREFIX + "{sha256}", response_model=protocol.BlobStored)
    async def put_blob(sha256: str, request: Request,
                       who: Principal = Depends(principal)) -> dict:
        check_name(sha256)
        declared = request.headers.get("content-length", "")
        declared = declared if declared.isascii() and declared.isdigit() else ""
        # Content the registry has is received and hashed all the same: sending the bytes is
        # the proof of holding the file that reading it later needs (blob_access); the store
        # then keeps its copy and drops this one.
        present = await run_in_threadpool(store.size, sha256) is not None
        if declared and int(declared) > max_size:
            await _drain(request, DRAIN_LIMIT)
            raise ApiError(413, "too_large", types.too_large(int(declared), max_size)[1],
                           types.too_large(int(declared), max_size)[0], max_size=max_size)
        try:
            if not present:  # content someone else sent first costs this user no quota
                await run_in_threadpool(over_quota, who, int(declared) if declared else 0)
        except ApiError:
            await _drain(request, DRAIN_LIMIT)
            raise
        writer = await run_in_threadpool(store.writer, who.name)
        digest, size, head, stored = hashlib.sha256(), 0, b"", False
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_size:
                    raise ApiError(413, "too_large", types.too_large(size, max_size)[1],
                                   types.too_large(size, max_size)[0], max_size=max_size)
                if len(head) < types.HEAD_BYTES:
                    head += chunk[:types.HEAD_BYTES]
                    if len(head) >= types.HEAD_BYTES and types.sniff(head) is None:
                        raise _unsupported(ApiError)
                digest.update(chunk)
                await run_in_threadpool(writer.write, chunk)
            if types.sniff(head) is None:
                raise _unsupported(ApiError)
            if digest.hexdigest() != sha256:
                raise ApiError(422, "hash_mismatch",
                               "the content does not match its SHA-256: nothing was kept; "
                               "send it again", "文件内容与校验值不符,服务器未保存,请重新上传",
                               received=digest.hexdigest(), size=size)
            if not declared and not present:
                await run_in_threadpool(over_quota, who, size)
            stored = await run_in_threadpool(writer.commit, sha256, size)
        except BaseException:
            await run_in_threadpool(writer.abort)
            raise
        await run_in_threadpool(_hold, engine, who, sha256)
        if not stored:
            await run_in_threadpool(blobstore.touch, engine, sha256)
        request.state.user = who.name
        if metrics is not None and stored:
            metrics.blob_bytes.labels("in").inc(size)
        return {"sha256": sha256, "stored": stored, "size": size}

    @api.get(BLOB_PREFIX + "{sha256}")
    def get_blob(sha256: str, who: Principal = Depends(principal)) -> Response:
        check_name(sha256)
        size = readable_size(who, sha256)
        if size is None:
            raise ApiError(404, "not_found", "no such file on the registry, or not one you "
                           "may read", "服务器上没有该文件,或您无权查看")
        if metrics is not None:
            metrics.blob_bytes.labels("out").inc(size)
        if store.kind == "dir":
            return FileResponse(store.path(sha256), media_type="application/octet-stream")
        return StreamingResponse(store.read(sha256), media_type="application/octet-stream",
                                 headers={"content-length": str(size)})

    @api.post("/api/v1/attachments", response_model=protocol.AttachmentsAnswer,
              response_model_exclude_unset=True)
    def post_attachments(body: protocol.AttachmentsRequest,
                         who: Principal = Depends(principal)) -> dict:
        with writing(engine) as conn:
            # Lock the counter first, as a push does: change-feed rows commit in seq order.
            conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value))
            head = start = conn.execute(
                select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
            chains = AreaChains(conn)
            results = []
            for row in body.attachments:
                outcome = _store_row(conn, chains, who, row, store, head + 1)
                if outcome["outcome"] == "stored":
                    head += 1
                results.append(outcome)
            if head != start:
                conn.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=head))
        if on_stored is not None and head != start:
            on_stored(who, head - start)
        return {"results": results}

    return api


def _hold(engine: Engine, who: Principal, sha256: str) -> None:
    with writing(engine) as conn:
        blob_access.add_holder(conn, who, sha256)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f}"


def _store_row(conn, chains: AreaChains, who: Principal, row: protocol.Attachment,  # noqa: ANN001
               store: blobstore.BlobStore, seq: int) -> dict:
    def rejected(code: str, en: str, zh: str) -> dict:
        return {"id": row.id, "outcome": "rejected",
                "reason": {"code": code, "message": en, "message_zh": zh}}

    record = conn.execute(select(RECORDS.c.grid_code).where(RECORDS.c.id == row.record_id)
                          ).first()
    if record is None:
        return rejected("record_unknown", "the record has not reached the registry yet",
                        "该记录尚未同步到服务器")
    if not who.covers(chains.scope_codes(record.grid_code)):
        return rejected("out_of_scope", "the record is outside your scope",
                        "该记录不在您的负责范围内")
    existing = conn.execute(select(ATTACHMENTS).where(ATTACHMENTS.c.id == row.id)).first()
    if existing is None and not row.deleted:
        # A new row must point at content its poster sent or may read (blob_access).
        if not (blob_access.may_read(conn, who, row.sha256)
                and store.size(row.sha256) is not None):
            return rejected("blob_missing", "upload the file before its attachment row",
                            "请先上传文件再提交附件信息")
        blob_access.add_holder(conn, who, row.sha256)
    if existing is not None:
        if (existing.record_id, existing.sha256) != (row.record_id, row.sha256):
            return rejected("id_reused", "this attachment id belongs to another file",
                            "该附件编号已被其他文件使用")
        # Once deleted stays deleted: a late caption edit must not bring a photo back.
        deleted = bool(existing.deleted) or row.deleted
        if (existing.caption, bool(existing.deleted)) == (row.caption, deleted):
            return {"id": row.id, "outcome": "unchanged"}
        conn.execute(update(ATTACHMENTS).where(ATTACHMENTS.c.id == row.id)
                     .values(caption=row.caption, deleted=deleted))
    else:
        conn.execute(insert(ATTACHMENTS).values(
            id=row.id, record_id=row.record_id, sha256=row.sha256, name=row.name,
            kind=row.kind, mime=row.mime, size=row.size, caption=row.caption,
            created_at=row.created_at, author=who.name, device_id=who.device_id,
            uploaded_at=utcnow(), deleted=row.deleted))
    codes = chains.scope_codes(record.grid_code)
    if codes:
        conn.execute(insert(FEED), [{"code": c, "seq": seq, "record_id": row.record_id}
                                    for c in sorted(codes)])
    return {"id": row.id, "outcome": "stored"}


def _unsupported(error_cls):  # noqa: ANN001, ANN202
    zh, en = types.unsupported()
    return error_cls(415, "unsupported_type", en, zh)


async def _drain(request: Request, limit: int) -> None:
    """Read what the client sends anyway, so it hears the answer instead of a reset pipe."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            return
