"""Backups people have restored: the registry's (pg_dump custom format on PostgreSQL, the
online backup API on SQLite, photo content included) and a laptop's (database and files,
never the credential). After the registry is restored to an older point, laptops that had
pushed newer work send it again and everyone converges, each change applied once."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from attachment_support import jpeg_bytes, png_bytes, write
from sqlalchemy import text
from sync_helpers import Laptop, live, registry, server_records  # noqa: F401

from fieldapp.cli import main
from fieldapp.store import attachments as att
from sync import attachment_sync
from sync.server import admin
from sync.server.db import reading
from tests.conftest import complete_site


def _count(url: str, sql: str) -> int:
    with reading(admin.engine_for(url)) as conn:
        return conn.execute(text(sql)).scalar_one()


def _laptop(registry, tmp_path, name: str, user: str, role: str = "worker",  # noqa: ANN001
            scopes: str = "310104003") -> Laptop:
    laptop = Laptop(name, tmp_path / name, registry.url)
    laptop.enroll(registry.token(user, role, scopes))
    return laptop


def test_registry_restored_to_an_older_backup_gets_newer_work_back(registry, tmp_path, capsys):
    url = registry.database_url
    a = _laptop(registry, tmp_path, "a", "wangfang")
    b = _laptop(registry, tmp_path, "b", "liming", "supervisor", "310104")
    try:
        assert a.sync().ok and b.sync().ok
        early = [a.store.save("site", complete_site(address=f"天平路{n}号")) for n in (1, 2, 3)]
        first = write(tmp_path / "card" / "1.jpg", jpeg_bytes(400_000, seed=1))
        att.attach(a.store, early[0].id, first, caption="门面")
        assert a.sync().ok and b.sync().ok
        before = registry.records()
        generation = a.store.setting("registry_generation:wangfang")
        assert generation

        backup = tmp_path / "registry.fieldapp-backup"
        assert main(["admin", "--database-url", url, "backup", "-o", str(backup)]) == 0
        assert "registry backed up" in capsys.readouterr().out
        with zipfile.ZipFile(backup) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            names = zf.namelist()
        if manifest["database"] == "postgresql":
            assert "database.pgdump" in names and manifest["blob_store"] == "db"
            with zipfile.ZipFile(backup) as zf:
                assert zf.read("database.pgdump")[:5] == b"PGDMP"  # pg_dump custom format
        else:
            assert "registry.sqlite3" in names and manifest["blobs"] == 1
            assert any(n.startswith("blobs/") for n in names)

        # Work after the backup: new sites, an edit, a submit, a second photo; b pulls it all.
        late = [a.store.save("site", complete_site(address=f"天平路{n}号")) for n in (4, 5)]
        a.store.save("site", {"usable_area": 222}, record_id=early[1].id)
        a.store.save("site", {}, record_id=early[2].id, status="submitted")
        second = write(tmp_path / "card" / "2.png", png_bytes(7))
        p2 = att.attach(a.store, late[0].id, second, caption="室内")
        assert a.sync().ok and b.sync().ok
        after = registry.records()
        assert len(after) == 5 and len(before) == 3

        # The disk dies; the operator restores last night's backup.
        registry.server.stop()
        assert main(["admin", "--database-url", url, "restore", str(backup)]) == 1
        assert "--yes" in capsys.readouterr().err
        assert main(["admin", "--database-url", url, "restore", str(backup), "--yes"]) == 0
        assert "new generation" in capsys.readouterr().out
        assert registry.records() == before  # the registry forgot the late work
        registry.server.start()

        # The laptop that pushed it sees the new generation and sends its journal again.
        report = a.sync()
        assert report.ok, report.errors
        assert report.replayed >= 5  # everything it had pushed; what survived: already applied
        assert a.store.setting("registry_generation:wangfang") != generation
        server = live(registry.records())
        assert len(server) == 5
        assert server[early[1].id]["data"]["usable_area"] == 222
        assert server[early[2].id]["status"] == "submitted"
        assert _count(url, "SELECT count(*) FROM attachment") == 2
        # b pulls afresh, taking the registry's renumbered versions.
        report = b.sync()
        assert report.ok, report.errors
        assert a.records() == b.records() == server
        got = attachment_sync.download(b.store, b.engine.client, p2.id)
        assert hashlib.sha256(got.read_bytes()).hexdigest() == p2.sha256

        # Life goes on: the supervisor approves, the worker edits, both converge.
        b.store.save("site", {}, record_id=early[2].id, status="approved")
        assert b.sync().ok
        a.store.save("site", {"usable_area": 99}, record_id=late[1].id)
        assert a.sync().ok and b.sync().ok and a.sync().ok
        server = live(registry.records())
        assert a.records() == b.records() == server
        assert server[early[2].id]["status"] == "approved"
        # Each change once: one history entry per applied mutation, no duplicates.
        assert _count(url, "SELECT count(*) FROM history") == _count(
            url, "SELECT count(*) FROM applied_mutation")
        assert _count(url, "SELECT count(*) FROM (SELECT record_id, version FROM history "
                           "GROUP BY record_id, version HAVING count(*) > 1) d") == 0
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("registry", ["sqlite"], indirect=True)
def test_laptop_backup_restores_into_a_new_folder_and_syncs_on(registry, tmp_path, capsys):
    a = _laptop(registry, tmp_path, "a", "wangfang")
    try:
        assert a.sync().ok
        synced = a.store.save("site", complete_site(address="天平路1号"))
        assert a.sync().ok
        waiting = [a.store.save("site", complete_site(address=f"天平路{n}号")) for n in (2, 3)]
        a.store.save("site", {"usable_area": 88}, record_id=synced.id)
        photo = write(tmp_path / "card" / "1.jpg", jpeg_bytes(300_000, seed=4))
        p = att.attach(a.store, waiting[0].id, photo, caption="门面")
        assert (a.config_dir / "credentials.json").exists()

        out = tmp_path / "usb" / "laptop.zip"
        assert main(["--data-dir", str(a.home), "backup", "-o", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "backed up 3 records" in printed and "credential is not included" in printed
        with zipfile.ZipFile(out) as zf:
            names = zf.namelist()
            assert not any("credential" in n or n.startswith("config") for n in names)
            assert b"fa-" not in b"".join(zf.read(n) for n in names if n != "fieldapp.sqlite3")
        assert "fieldapp.sqlite3" in names and any(n.startswith("attachments/") for n in names)
    finally:
        a.close()  # the laptop is lost

    new = tmp_path / "新 电脑"  # people's folders have Chinese names and spaces
    assert main(["restore", str(out), "--data-dir", str(new)]) == 0
    assert "restored 3 records" in capsys.readouterr().out
    assert main(["restore", str(out), "--data-dir", str(new)]) == 1  # never over a database
    assert "never overwritten" in capsys.readouterr().err
    assert not (new / "config" / "credentials.json").exists()

    b = Laptop("b", new, registry.url)
    try:
        assert b.store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 3
        b.enroll(registry.token("wangfang"))
        report = b.sync()
        assert report.ok, report.errors
        assert report.pushed == 3 and report.attachments.uploaded == 1
        server = live(registry.records())
        assert set(server) == {synced.id, *(w.id for w in waiting)}
        assert server[synced.id]["data"]["usable_area"] == 88
        assert b.records() == server
        assert att.get(b.store, p.id).state == "uploaded"
        assert _count(registry.database_url, "SELECT count(*) FROM applied_mutation") == 4
        again = tmp_path / "备份" / "第二次.zip"
        assert main(["--data-dir", str(new), "backup", "-o", str(again)]) == 0
        assert "backed up 3 records" in capsys.readouterr().out
    finally:
        b.close()


def test_restore_refuses_what_is_not_a_backup(tmp_path, capsys):
    junk = write(tmp_path / "junk.zip", b"not a zip")
    assert main(["restore", str(junk), "--data-dir", str(tmp_path / "x")]) == 1
    assert "not a fieldapp laptop backup" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    assert main(["admin", "--database-url", url, "restore", str(junk), "--yes"]) == 1
    assert "not a fieldapp registry backup" in capsys.readouterr().err
