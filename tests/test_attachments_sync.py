"""Attachments through the real registry: upload once by hash, through a faulty network,
limits and corruption refused with nothing lost, the supervisor sees and fetches, scope kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from fieldapp.store import attachments as att
from sync import attachment_sync
from sync.client import Refused
from sync.server import admin
from sync.server.db import reading
from tests.attachment_support import jpeg_bytes, pdf_bytes, png_bytes, write
from tests.conftest import complete_site
from tests.faultproxy import FaultProxy
from tests.sync_helpers import (  # noqa: F401  (fixtures)
    Laptop,
    ServerThread,
    laptops,
    registry,
    server_count,
)

FAULTS = {"pass": 4, "drop_before": 1, "drop_after": 1, "delay": 1, "truncate": 1, "reset": 1}


@pytest.fixture(autouse=True)
def blob_dir(tmp_path, monkeypatch) -> Path:
    # Autouse fixtures start first: the registry fixture's server reads this at start.
    path = tmp_path / "registry-blobs"
    monkeypatch.setenv("FIELDAPP_BLOB_DIR", str(path))
    return path


def _blobs(blob_dir: Path) -> list[Path]:
    return sorted(p for p in blob_dir.rglob("*") if p.is_file())


def _server_rows(database_url: str) -> list[dict]:
    from sqlalchemy import select

    from sync.server.attachments import ATTACHMENTS, attachment_dict

    with reading(admin.engine_for(database_url)) as conn:
        return [attachment_dict(r) for r in conn.execute(select(ATTACHMENTS))]


def _site(laptop, n: int, grid: str | None = None):
    extra = {"grid_code": grid} if grid else {}
    return laptop.store.save("site", complete_site(address=f"天平路{n}号", **extra))


def test_worker_attaches_offline_and_the_supervisor_sees_and_fetches(
        registry, laptops, tmp_path, blob_dir):
    worker = laptops("worker")
    supervisor = laptops("supervisor", user="liming", role="supervisor", scopes="310104")
    worker.sync()  # areas arrive
    one, two = _site(worker, 1), _site(worker, 2)
    card = tmp_path / "card" / "DCIM"
    front = write(card / "IMG_0001.JPG", jpeg_bytes(300_000, seed=1))
    inside = write(card / "IMG_0002.PNG", png_bytes(2))
    letter = write(card / "consent.pdf", pdf_bytes())
    a1 = att.attach(worker.store, one.id, front, caption="门面正面")
    att.attach(worker.store, one.id, inside, caption="室内")
    att.attach(worker.store, one.id, letter)
    att.attach(worker.store, two.id, front, caption="同一张照片")  # same content, 2nd record

    report = worker.sync()
    assert report.ok, report.errors
    assert report.attachments.uploaded == 4
    assert report.summary("en").endswith("attachments up 4 down 0")
    assert "附件上传 4" in report.summary("zh")
    assert report.attachments.skipped_blobs == 1  # the second use of the photo is not sent
    assert report.attachments.sent_bytes == sum(
        p.stat().st_size for p in (front, inside, letter))
    assert len(_blobs(blob_dir)) == 3
    assert {a.state for a in att.list_for(worker.store, one.id)} == {"uploaded"}

    assert supervisor.sync().ok
    seen = att.list_for(supervisor.store, one.id)
    assert sorted((a.name, a.caption, a.kind, a.has_content) for a in seen) == [
        ("IMG_0001.JPG", "门面正面", "photo", False), ("IMG_0002.PNG", "室内", "photo", False),
        ("consent.pdf", "", "document", False)]
    assert att.counts(supervisor.store)["not_fetched"] == 4  # metadata only: no disk used
    path = attachment_sync.download(supervisor.store, supervisor.engine.client, a1.id)
    assert path.read_bytes() == front.read_bytes()
    assert att.get(supervisor.store, a1.id).has_content
    # The other record's row shares the content: fetched once, present for both.
    assert all(a.has_content for a in att.list_for(supervisor.store, two.id))


def test_auto_download_setting_and_removal_reach_the_other_laptop(registry, laptops, tmp_path):
    worker = laptops("worker")
    other = laptops("other", user="zhaoli")
    worker.sync()
    site = _site(worker, 3)
    a = att.attach(worker.store, site.id, write(tmp_path / "p.png", png_bytes(7)))
    assert worker.sync().ok
    other.store.set_setting(attachment_sync.AUTO_DOWNLOAD, "1")
    report = other.sync()
    assert report.ok and report.attachments.downloaded == 1
    assert att.blob_path(other.home, a.sha256).read_bytes() == png_bytes(7)

    att.remove(worker.store, a.id)
    assert worker.sync().ok
    assert other.sync().ok
    assert att.list_for(other.store, site.id) == []
    assert [r["deleted"] for r in _server_rows(registry.database_url)] == [True]


def test_upload_through_a_faulty_network_resumes_without_duplicates(
        registry, laptops, tmp_path, blob_dir):
    worker = laptops("worker")
    worker.sync()
    made = []
    for n in range(6):
        site = _site(worker, 10 + n)
        made.append(att.attach(worker.store, site.id,
                               write(tmp_path / f"f{n}.jpg", jpeg_bytes(200_000, seed=n))))
        # Half the records carry a second use of an earlier photo.
        if n % 2:
            made.append(att.attach(worker.store, site.id, tmp_path / f"f{n - 1}.jpg"))
    with FaultProxy(registry.server.port, seed=8, delay=0.05) as proxy:
        # Faults on the uploads and attachment rows only: a cycle cut at its status report
        # or its push would never reach them.
        proxy.set_weights(paths=("/api/v1/blobs", "/api/v1/attachments"), **FAULTS)
        worker.connect_engine(proxy.url, timeout=3)
        failed = 0
        for _ in range(40):
            report = worker.sync()
            failed += bool(report.errors)
            if report.ok and not att.pending(worker.store):
                break
        proxy.set_weights(**{"pass": 1})
        assert worker.sync().ok
        faults = sum(n for (path, mode), n in proxy.by_path.items()
                     if mode != "pass" and path.startswith("/api/v1/blobs/"))
    assert failed >= 1 and faults >= 3, (failed, faults)  # uploads really were cut
    assert att.pending(worker.store) == []
    rows = _server_rows(registry.database_url)
    assert sorted(r["id"] for r in rows) == sorted(a.id for a in made)
    assert len(_blobs(blob_dir)) == 6  # one file per distinct photo, no leftovers
    for blob in _blobs(blob_dir):
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


def test_server_limit_refuses_clearly_and_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDAPP_MAX_ATTACHMENT_BYTES", "50000")
    url = f"sqlite:///{tmp_path / 'small.sqlite3'}"
    admin.load_demo_areas(url)
    server = ServerThread(url).start()
    try:
        worker = Laptop("w", tmp_path / "w", server.url)
        worker.enroll(admin.add_user(url, "wangfang", "worker", "310104003"))
        worker.sync()
        site = _site(worker, 1)
        photo = write(tmp_path / "big.jpg", jpeg_bytes(120_000))
        small = write(tmp_path / "small.png", png_bytes(1))
        big = att.attach(worker.store, site.id, photo)  # fine locally (20 MB), too big there
        ok = att.attach(worker.store, site.id, small)
        report = worker.sync()
        assert any("too large" in e and "文件太大" in e for e in report.errors), report.errors
        assert report.attachments.uploaded == 1  # the small one went anyway
        kept = att.get(worker.store, big.id)
        assert (kept.state, kept.last_error["code"], kept.refused) == ("local", "too_large", True)
        assert att.blob_path(worker.home, big.sha256).read_bytes() == photo.read_bytes()
        assert att.get(worker.store, ok.id).state == "uploaded"
        # Not sent again every cycle: it waits for the user.
        again = worker.sync()
        assert again.ok and again.attachments.sent_bytes == 0
        with httpx.Client(base_url=server.url) as http:
            answer = http.put(f"/api/v1/blobs/{big.sha256}", content=photo.read_bytes(),
                              headers={"X-Fieldapp-Protocol": "1",
                                       "Authorization": f"Bearer "
                                       f"{worker.engine.client.credential}"})
        assert answer.status_code == 413
        assert answer.json()["error"] == "too_large" and "文件太大" in answer.json()["message_zh"]
        worker.close()
    finally:
        server.stop()


def test_corrupted_or_wrong_type_upload_is_refused_and_nothing_kept(registry, laptops,
                                                                   blob_dir):
    worker = laptops("worker")
    client = worker.engine.client
    good, bad = png_bytes(1), png_bytes(2)
    sha = hashlib.sha256(good).hexdigest()
    with pytest.raises(Refused) as err:
        client.put_blob(sha, bad)  # content damaged on the way: hash does not match
    assert "hash_mismatch" in err.value.detail and "校验值" in err.value.zh
    assert not client.blob_exists(sha)
    text = b"not a photo at all, but sixteen+ bytes"
    with pytest.raises(Refused) as err:
        client.put_blob(hashlib.sha256(text).hexdigest(), text)
    assert "unsupported_type" in err.value.detail and "不支持" in err.value.zh
    assert _blobs(blob_dir) == []  # no file, no temporary left behind
    assert client.put_blob(sha, good).stored is True
    assert client.put_blob(sha, good).stored is False  # idempotent: not rewritten
    assert client.blob_exists(sha)


def test_scope_is_kept_for_rows_and_content(registry, laptops, tmp_path):
    worker = laptops("worker")
    stranger = laptops("stranger", user="zhouqi", scopes="310101002")
    worker.sync()
    site = _site(worker, 5)
    a = att.attach(worker.store, site.id, write(tmp_path / "x.png", png_bytes(3)))
    assert worker.sync().ok
    stranger.sync()
    assert att.list_for(stranger.store, site.id) == []  # never pulled
    with pytest.raises(Refused) as err:
        stranger.engine.client.get_blob(a.sha256, open(tmp_path / "out", "wb"))
    assert "not_found" in err.value.detail  # the same answer as for a file that is not there
    row = {**a.wire(), "id": "5d0c2f9e-0d1f-4d6f-9a8e-6a2b3c4d5e6f", "caption": "mine now"}
    assert stranger.engine.client.post_attachments([row])[0].reason.code == "out_of_scope"
    # A row whose content was never uploaded is refused too.
    orphan = {**a.wire(), "id": "6e1d3fa0-1e2f-4e7f-8b9f-7b3c4d5e6f70", "sha256": "ab" * 32}
    assert worker.engine.client.post_attachments([orphan])[0].reason.code == \
        "blob_missing"
    assert server_count(registry.database_url, "attachment") == 1


def test_upload_cut_midway_leaves_nothing_and_the_retry_stores_it(registry, laptops,
                                                                 blob_dir):
    import socket

    worker = laptops("worker")
    content = png_bytes(11) + b"\0" * 400_000
    sha = hashlib.sha256(content).hexdigest()
    head = (f"PUT /api/v1/blobs/{sha} HTTP/1.1\r\nHost: x\r\nX-Fieldapp-Protocol: 1\r\n"
            f"Authorization: Bearer {worker.engine.client.credential}\r\n"
            f"Content-Length: {len(content)}\r\n\r\n").encode()
    import time

    def parts() -> list:
        return list(blob_dir.rglob("*.part"))

    with socket.create_connection(("127.0.0.1", registry.server.port)) as sock:
        sock.sendall(head + content[:150_000])
        deadline = time.monotonic() + 30
        while not parts():  # the server is writing the upload: a temporary file exists
            assert time.monotonic() < deadline, "the server never started on the upload"
            time.sleep(0.02)
    # The laptop's Wi-Fi dropped mid-upload; the server notices and removes its temporary.
    deadline = time.monotonic() + 30
    while parts():
        assert time.monotonic() < deadline, f"a half upload stayed: {parts()}"
        time.sleep(0.02)
    assert _blobs(blob_dir) == []  # no half file under the hash, no temporary left
    assert not worker.engine.client.blob_exists(sha)
    assert worker.engine.client.put_blob(sha, content).stored is True
    assert [p.name for p in _blobs(blob_dir)] == [sha]


def test_a_record_leaving_scope_takes_its_attachments_off_the_laptop(registry, laptops,
                                                                    tmp_path):
    worker = laptops("worker")  # the whole street
    grid_only = laptops("grid", user="zhaoli", scopes="310104003001G01")
    grid_only.store.set_setting(attachment_sync.AUTO_DOWNLOAD, "1")
    worker.sync()
    site = _site(worker, 9)  # in grid 310104003001G01
    a = att.attach(worker.store, site.id, write(tmp_path / "m.png", png_bytes(12)))
    assert worker.sync().ok
    assert grid_only.sync().ok
    assert att.blob_path(grid_only.home, a.sha256).exists()
    worker.store.save("site", {"grid_code": "310104003002G01"}, record_id=site.id)
    assert worker.sync().ok
    report = grid_only.sync()
    assert report.ok and report.evicted == 1
    assert att.list_for(grid_only.store, site.id, include_deleted=True) == []
    assert not att.blob_path(grid_only.home, a.sha256).exists()
    assert att.blob_path(worker.home, a.sha256).exists()  # the worker keeps it
