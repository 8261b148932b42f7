"""Blob stores: the folder and the database keep content by SHA-256 over real HTTP, uploads
are idempotent and leave nothing behind when cut or damaged, a user's quota is a clear 413,
and `fieldapp admin gc-blobs` removes only content no live attachment uses, after the grace."""

from __future__ import annotations

import hashlib
import socket
import time
import uuid

import pytest
from attachment_support import jpeg_bytes, png_bytes
from server_support import mutation, push, registry_for
from sqlalchemy import text

from fieldapp.cli import main
from sync.server import admin
from sync.server.blobstore import CHUNK
from sync.server.db import reading, writing

STORES = [pytest.param("sqlite", "dir", id="sqlite-dir"),
          pytest.param("sqlite", "database", id="sqlite-database"),
          pytest.param("postgresql", "postgres", id="postgres", marks=pytest.mark.postgres)]


def _count(url: str, sql: str) -> int:
    with reading(admin.engine_for(url)) as conn:
        return conn.execute(text(sql)).scalar_one()


def _put(c, content: bytes):  # noqa: ANN001, ANN202
    return c.put(f"/api/v1/blobs/{hashlib.sha256(content).hexdigest()}", content=content)


def _attach(c, content: bytes, record_id: str | None = None) -> tuple[str, str]:  # noqa: ANN001
    """A pushed site with one attachment row naming `content`: (record id, attachment id)."""
    if record_id is None:
        m = mutation()
        assert push(c, m)[0]["outcome"] == "applied"
        record_id = m["record_id"]
    row = {"id": str(uuid.uuid4()), "record_id": record_id,
           "sha256": hashlib.sha256(content).hexdigest(), "name": "门面.jpg", "kind": "photo",
           "mime": "image/jpeg", "size": len(content), "caption": "",
           "created_at": "2026-01-05T10:00:00+08:00"}
    r = c.post("/api/v1/attachments", json={"attachments": [row]})
    assert r.json()["results"][0]["outcome"] == "stored", r.text
    return record_id, row["id"]


@pytest.mark.parametrize(("backend", "store"), STORES)
def test_content_goes_in_and_out_in_chunks_and_uploads_are_idempotent(backend, store,
                                                                      tmp_path):
    spec = f"dir:{tmp_path / 'blobs'}" if store == "dir" else store
    with registry_for(backend, tmp_path, blob_store=spec) as reg:
        c = reg.user("wangfang")
        content = jpeg_bytes(3 * 1024 * 1024 + 123, seed=5)
        sha = hashlib.sha256(content).hexdigest()
        assert c.head(f"/api/v1/blobs/{sha}").status_code == 404
        r = _put(c, content)
        assert r.status_code == 200 and r.json() == {"sha256": sha, "stored": True,
                                                     "size": len(content)}
        assert _put(c, content).json()["stored"] is False  # the same again: nothing rewritten
        assert c.head(f"/api/v1/blobs/{sha}").headers["x-blob-size"] == str(len(content))
        _attach(c, content)
        got = c.get(f"/api/v1/blobs/{sha}")
        assert got.status_code == 200 and got.content == content
        assert _count(reg.url, f"SELECT size FROM blob WHERE sha256 = '{sha}'") == len(content)
        if store != "dir":
            chunks = -(-len(content) // CHUNK)
            assert _count(reg.url, "SELECT count(*) FROM blob_chunk") == chunks
            assert _count(reg.url, "SELECT count(*) FROM blob_upload") == 0

        # Damaged on the way: refused, and no chunk, upload or file is left behind.
        bad = jpeg_bytes(600_000, seed=6)
        r = c.put(f"/api/v1/blobs/{hashlib.sha256(bad).hexdigest()}", content=bad[:-1] + b"x")
        assert r.status_code == 422 and r.json()["error"] == "hash_mismatch"
        assert _count(reg.url, "SELECT count(*) FROM blob") == 1
        if store != "dir":
            assert _count(reg.url, "SELECT count(*) FROM blob_chunk") == chunks
            assert _count(reg.url, "SELECT count(*) FROM blob_upload") == 0
        else:
            assert not list((tmp_path / "blobs" / "tmp").iterdir())


@pytest.mark.parametrize(("backend", "store"), [STORES[1], STORES[2]])
def test_an_upload_cut_midway_leaves_no_rows_in_the_database_store(backend, store, tmp_path):
    with registry_for(backend, tmp_path, blob_store=store) as reg:
        c = reg.user("wangfang")
        content = jpeg_bytes(1_500_000, seed=8)
        sha = hashlib.sha256(content).hexdigest()
        port = int(reg.base.rsplit(":", 1)[1])
        head = (f"PUT /api/v1/blobs/{sha} HTTP/1.1\r\nHost: x\r\nX-Fieldapp-Protocol: 1\r\n"
                f"Authorization: {c.headers['authorization']}\r\n"
                f"Content-Length: {len(content)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + content[:700_000])  # the Wi-Fi drops here
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
                _count(reg.url, "SELECT count(*) FROM blob_upload")
                or _count(reg.url, "SELECT count(*) FROM blob_chunk")):
            time.sleep(0.05)
        assert _count(reg.url, "SELECT count(*) FROM blob_upload") == 0
        assert _count(reg.url, "SELECT count(*) FROM blob_chunk") == 0
        assert c.head(f"/api/v1/blobs/{sha}").status_code == 404
        assert _put(c, content).json()["stored"] is True  # the retry starts clean


@pytest.mark.parametrize(("backend", "store"), [STORES[0], STORES[2]])
def test_a_user_over_quota_gets_a_clear_413_and_shared_content_is_free(backend, store,
                                                                       tmp_path):
    spec = f"dir:{tmp_path / 'blobs'}" if store == "dir" else store
    with registry_for(backend, tmp_path, blob_store=spec, user_quota=1_000_000) as reg:
        worker, other = reg.user("wangfang"), reg.user("zhaolei")
        first, second = jpeg_bytes(600_000, seed=1), jpeg_bytes(600_000, seed=2)
        assert _put(worker, first).status_code == 200
        r = _put(worker, second)
        assert r.status_code == 413
        body = r.json()
        assert body["error"] == "quota_exceeded" and body["quota"] == 1_000_000
        assert "存储空间已用完" in body["message_zh"] and "quota" in body["message"]
        assert worker.head(f"/api/v1/blobs/{hashlib.sha256(second).hexdigest()}"
                           ).status_code == 404
        # Content someone already stored costs nothing; another user has their own quota.
        assert _put(other, first).json()["stored"] is False
        assert _put(other, second).json()["stored"] is True


def _age(url: str, sha: str, days: int) -> None:
    old = f"2020-01-{days:02d}T00:00:00.000+00:00"
    with writing(admin.engine_for(url)) as conn:
        conn.execute(text("UPDATE blob SET created_at = :t, touched_at = :t WHERE sha256 = :s"),
                     {"t": old, "s": sha})


@pytest.mark.parametrize(("backend", "store"), [STORES[0], STORES[2]])
def test_gc_blobs_removes_only_unused_content_after_the_grace_period(backend, store, tmp_path,
                                                                      capsys):
    blob_dir = tmp_path / "blobs"
    spec = f"dir:{blob_dir}" if store == "dir" else store
    with registry_for(backend, tmp_path, blob_store=spec) as reg:
        c = reg.user("wangfang")
        used, unused, young, removed = (png_bytes(n) for n in (1, 2, 3, 4))
        for content in (used, unused, young, removed):
            assert _put(c, content).status_code == 200
        record_id, _ = _attach(c, used)
        _, gone = _attach(c, removed, record_id)
        r = c.post("/api/v1/attachments", json={"attachments": [{
            "id": gone, "record_id": record_id, "sha256": hashlib.sha256(removed).hexdigest(),
            "name": "门面.jpg", "kind": "photo", "mime": "image/jpeg", "size": len(removed),
            "caption": "", "created_at": "2026-01-05T10:00:00+08:00", "deleted": True}]})
        assert r.json()["results"][0]["outcome"] == "stored"
        for content in (used, unused, removed):
            _age(reg.url, hashlib.sha256(content).hexdigest(), 1)
        if store == "dir":  # files carry their own time too
            import os

            for content in (used, unused, removed):
                sha = hashlib.sha256(content).hexdigest()
                os.utime(blob_dir / sha[:2] / sha, (1577836800, 1577836800))
        store_args = ["--blob-store", spec]
        assert main(["admin", "--database-url", reg.url, "gc-blobs", "--dry-run",
                     *store_args]) == 0
        out = capsys.readouterr().out
        assert "would delete 2 个文件 file(s)" in out and "1 个仍被附件使用 in use" in out
        assert _count(reg.url, "SELECT count(*) FROM blob") == 4
        assert main(["admin", "--database-url", reg.url, "gc-blobs", "--older-than", "7d",
                     *store_args]) == 0
        assert "deleted 2 个文件" in capsys.readouterr().out
        left = {hashlib.sha256(x).hexdigest(): x for x in (used, young)}
        with reading(admin.engine_for(reg.url)) as conn:
            assert set(conn.execute(text("SELECT sha256 FROM blob")).scalars()) == set(left)
        assert c.get(f"/api/v1/blobs/{hashlib.sha256(used).hexdigest()}").content == used
        for content in (unused, removed):
            sha = hashlib.sha256(content).hexdigest()
            assert c.head(f"/api/v1/blobs/{sha}").status_code == 404
        assert main(["admin", "--database-url", reg.url, "gc-blobs", "--older-than",
                     "7 days"]) == 1
        assert "7d" in capsys.readouterr().err


def test_blob_store_spec_is_checked(tmp_path):
    from sync.server.blobstore import BlobStoreError, DbBlobStore, DirBlobStore, open_store
    from sync.server.db import make_engine

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    engine = make_engine(url)
    try:
        assert isinstance(open_store(engine, url), DirBlobStore)
        assert open_store(engine, url).root == tmp_path / "blobs"
        assert isinstance(open_store(engine, url, "database"), DbBlobStore)
        assert open_store(engine, url, f"dir:{tmp_path / 'x'}").root == tmp_path / "x"
        with pytest.raises(BlobStoreError, match="needs a PostgreSQL"):
            open_store(engine, url, "postgres")
        with pytest.raises(BlobStoreError, match="unknown blob store"):
            open_store(engine, url, "s3:bucket")
    finally:
        engine.dispose()



@pytest.mark.parametrize(("backend", "store"), [STORES[0], STORES[2]])
def test_copy_blobs_moves_folder_content_into_the_database(backend, store, tmp_path, capsys):
    folder = tmp_path / "old-blobs"
    with registry_for(backend, tmp_path, blob_store=f"dir:{folder}") as reg:
        c = reg.user("wangfang")
        contents = [jpeg_bytes(700_000, seed=n) for n in (1, 2)]
        for content in contents:
            assert _put(c, content).json()["stored"] is True
        target = "postgres" if store == "postgres" else "database"
        args = ["admin", "--database-url", reg.url, "copy-blobs", "--from", f"dir:{folder}",
                "--blob-store", target]
        assert main(args) == 0
        assert "copied 2 file(s)" in capsys.readouterr().out
        assert main(args) == 0  # again: nothing left to copy
        assert "copied 0 file(s)" in capsys.readouterr().out
        db = admin.blob_store(reg.url, target)
        for content in contents:
            sha = hashlib.sha256(content).hexdigest()
            assert db.size(sha) == len(content)
            assert b"".join(db.read(sha)) == content
        with reading(admin.engine_for(reg.url)) as conn:
            assert set(conn.execute(text("SELECT uploader FROM blob")).scalars()) == {"wangfang"}


def test_serve_keeps_photos_of_the_old_default_folder_on_postgresql(tmp_path, monkeypatch,
                                                                   capsys):
    """A PostgreSQL registry from before the database store kept photos in the user data
    folder: upgraded, it keeps serving them from there and says how to move them."""
    import argparse

    from fieldapp.cli.server_cmds import _legacy_blob_folder

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("FIELDAPP_BLOB_DIR", "FIELDAPP_BLOB_STORE"):
        monkeypatch.delenv(name, raising=False)
    url = "postgresql+psycopg://fieldapp@db/fieldapp"
    args = argparse.Namespace(blob_store=None, blob_dir=None)
    _legacy_blob_folder(args, url)
    assert args.blob_store is None  # nothing there: the database store, the new default
    old = tmp_path / "xdg" / "fieldapp" / "registry-blobs" / "ab" / ("ab" + "0" * 62)
    old.parent.mkdir(parents=True)
    old.write_bytes(png_bytes(1))
    _legacy_blob_folder(args, url)
    assert args.blob_store == f"dir:{old.parent.parent}"
    assert "admin copy-blobs --from" in capsys.readouterr().err
