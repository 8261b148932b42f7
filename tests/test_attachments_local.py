"""Attachments on the laptop: copy in, content-addressed dedupe, limits, removal, migration."""

from __future__ import annotations

import hashlib

import pytest

from fieldapp.domain import attachment_types as types
from fieldapp.store import attachments as att
from fieldapp.store.db import connect
from fieldapp.store.migrations import LATEST
from tests.attachment_support import jpeg_bytes, pdf_bytes, png_bytes, write
from tests.conftest import complete_site


def _site(store, n: int = 1):
    return store.save("site", complete_site(address=f"测试路{n}号"))


def test_attach_copies_file_content_addressed(store, tmp_path):
    site = _site(store)
    photo = write(tmp_path / "card" / "DSC0001.JPG", png_bytes(1))
    a = att.attach(store, site.id, photo, caption="门面正面")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (a.sha256, a.mime, a.kind, a.state) == (sha, "image/png", "photo", "local")
    stored = att.blob_path(tmp_path, sha)
    assert stored.read_bytes() == photo.read_bytes()
    photo.unlink()  # the card is taken out: the copy stays
    assert stored.exists()
    listed = att.list_for(store, site.id)
    assert [(x.name, x.caption, x.size) for x in listed] == [
        ("DSC0001.JPG", "门面正面", len(png_bytes(1)))]
    assert not list((tmp_path / "attachments" / "tmp").iterdir())


def test_same_photo_on_two_records_is_stored_once(store, tmp_path):
    one, two = _site(store, 1), _site(store, 2)
    photo = write(tmp_path / "p.png", png_bytes(5))
    a1 = att.attach(store, one.id, photo)
    a2 = att.attach(store, two.id, photo, caption="同一张")
    assert a1.id != a2.id and a1.sha256 == a2.sha256
    files = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert files == [att.blob_path(tmp_path, a1.sha256)]
    # Removing one keeps the file for the other; removing both frees it.
    att.remove(store, a1.id)
    assert att.blob_path(tmp_path, a1.sha256).exists()
    assert [x.id for x in att.list_for(store, one.id)] == []
    att.remove(store, a2.id)
    assert not att.blob_path(tmp_path, a1.sha256).exists()
    # The deletions wait to sync.
    assert {x.id for x in att.pending(store)} == {a1.id, a2.id}


def test_pdf_is_a_document_and_kind_can_be_chosen(store, tmp_path):
    site = _site(store)
    doc = att.attach(store, site.id, write(tmp_path / "consent.pdf", pdf_bytes()))
    scan = att.attach(store, site.id, write(tmp_path / "cert.jpg", jpeg_bytes(2000)),
                      kind="document", caption="产权证扫描件")
    assert (doc.mime, doc.kind) == ("application/pdf", "document")
    assert (scan.mime, scan.kind) == ("image/jpeg", "document")


def test_too_large_refused_bilingual_and_nothing_kept(store, tmp_path):
    site = _site(store)
    big = write(tmp_path / "huge.jpg", jpeg_bytes(types.MAX_SIZE + 1))
    with pytest.raises(att.AttachmentError) as err:
        att.attach(store, site.id, big)
    assert "文件太大" in err.value.zh and "too large" in err.value.en
    assert "20 MB" in err.value.message("zh")
    assert att.list_for(store, site.id) == []
    assert not [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert big.exists()  # the user's file is untouched


def test_wrong_type_missing_file_and_unknown_record(store, tmp_path):
    site = _site(store)
    text = write(tmp_path / "photo.jpg", b"just text, named like a photo")
    with pytest.raises(att.AttachmentError, match="unsupported file type") as err:
        att.attach(store, site.id, text)
    assert "不支持" in err.value.zh
    with pytest.raises(att.AttachmentError, match="file not found"):
        att.attach(store, site.id, tmp_path / "nope.png")
    with pytest.raises(att.AttachmentError, match="no such record"):
        att.attach(store, "00000000-0000-0000-0000-000000000000",
                   write(tmp_path / "a.png", png_bytes()))
    with pytest.raises(att.AttachmentError, match="photo or document"):
        att.attach(store, site.id, write(tmp_path / "b.png", png_bytes()), kind="video")
    assert att.list_for(store, site.id) == []


@pytest.mark.parametrize("head,mime", [
    (b"\xff\xd8\xff\xe1" + b"\0" * 12, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "image/png"),
    (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
    (b"\0\0\0\x18ftypheic\0\0\0\0", "image/heic"),
    (b"\0\0\0\x18ftypmif1\0\0\0\0", "image/heic"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"\0\0\0\x18ftypisom\0\0\0\0", None),  # an MP4 video
    (b"GIF89a", None),
])
def test_sniff_by_content(head, mime):
    assert types.sniff(head) == mime


def test_prefix_lookup_and_counts(store, tmp_path):
    site = _site(store)
    a = att.attach(store, site.id, write(tmp_path / "x.png", png_bytes(9)))
    assert att.get(store, a.id[:8]).id == a.id
    assert att.get(store, a.id[:3]) is None  # too short to trust
    assert att.counts(store) == {"total": 1, "to_upload": 1, "not_fetched": 0}
    assert att.photo_counts(store)["downscaled"] == 0


def test_migration_adds_table_to_an_old_database(tmp_path):
    conn = connect(tmp_path / "old.sqlite3", migrate_schema=False)
    from fieldapp.store.migrations import migrate

    migrate(conn, target=3)
    assert migrate(conn) == list(range(4, LATEST + 1))
    cols = {r[1] for r in conn.execute("PRAGMA table_info(attachment)")}
    assert {"id", "record_id", "sha256", "state", "has_content", "deleted"} <= cols
