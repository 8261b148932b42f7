"""Holes found by probing the registry from outside (issue 16), each closed on SQLite and
PostgreSQL: forged cursors, NUL and other unsafe characters anywhere, replays across scope,
blobs reached through someone else's attachment, a worker rewriting a supervisor's comment,
and log lines forged through the path."""

from __future__ import annotations

import hashlib
import logging
import uuid

import pytest
from server_support import (
    GRID,
    GRID_OTHER_STREET,
    OTHER_STREET,
    STREET,
    client,
    mutation,
    pull_all,
    push,
    registry,
    site,
)
from sqlalchemy import select

from sync.server import admin
from sync.server.admin import engine_for
from sync.server.models import Record
from tests.attachment_support import png_bytes

__all__ = ["registry"]  # the fixture, imported for pytest

NUL = "\x00"
BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: shows 请补充 backwards, hides what text says


def stored(url: str, record_id: str) -> Record:
    with engine_for(url).connect() as conn:
        return conn.execute(select(Record.__table__).where(
            Record.__table__.c.id == record_id)).first()


def test_forged_cursor_with_non_ascii_digits_starts_over(registry):
    worker = registry.user("wangfang")
    push(worker, mutation())
    _, cursor = pull_all(worker)
    fingerprint = cursor.rpartition(":")[0]
    for seq in ("²", "①", "٣", "１２"):
        r = worker.get("/api/v1/pull", params={"cursor": f"{fingerprint}:{seq}"})
        assert r.status_code == 200, (seq, r.text)
        assert len(r.json()["changes"]) == 1  # an unreadable cursor is no cursor


@pytest.mark.parametrize("where", ["create", "update"])
def test_nul_in_review_comment_is_never_a_server_error(registry, where):
    boss = registry.user("lisupervisor", "supervisor")
    worker = registry.user("wangfang")
    record_id = str(uuid.uuid4())
    if where == "create":
        fields = {**site(), "status": "submitted", "review_comment": f"请补充{NUL}电话"}
        [result] = push(boss, mutation(fields=fields, record_id=record_id))
    else:
        push(worker, mutation(fields={**site(), "status": "submitted"}, record_id=record_id))
        [result] = push(boss, mutation("update", {"status": "returned",
                                                  "review_comment": f"请补充{NUL}电话"},
                                       record_id, 1))
    assert result["outcome"] == "applied", result
    assert stored(registry.url, record_id).review_comment == "请补充电话"


def test_review_comment_follows_the_text_rule_like_content(registry):
    """Control characters (C0, C1) are dropped, bidi overrides refused, on both backends."""
    boss = registry.user("lisupervisor", "supervisor")
    worker = registry.user("wangfang")
    record_id = str(uuid.uuid4())
    push(worker, mutation(fields={**site(), "status": "submitted"}, record_id=record_id))
    [tricked] = push(boss, mutation("update", {"status": "returned",
                                               "review_comment": f"请补充{BIDI}话电"},
                                    record_id, 1))
    assert tricked["outcome"] == "rejected"
    assert tricked["reason"]["errors"][0]["field"] == "review_comment"
    [ok] = push(boss, mutation("update", {"status": "returned",
                                          "review_comment": "请\x07补充\x85电话\x1b[31m"},
                               record_id, 1))
    assert ok["outcome"] == "applied", ok
    assert stored(registry.url, record_id).review_comment == "请补充电话[31m"


def test_nul_in_any_content_field_is_answered_per_mutation(registry):
    worker = registry.user("wangfang")
    poisoned = [mutation(fields=site(**{name: f"{value}{NUL}"}))
                for name, value in (("grid_code", GRID), ("address", "天平路1号"),
                                    ("owner_name", "房管局"), ("owner_phone", "13800138000"),
                                    ("source_type", "storefront"))]
    poisoned.append(mutation(fields=site(candidate_functions=[f"elderly{NUL}"])))
    results = push(worker, *poisoned)
    assert [r["outcome"] for r in results] == ["applied"] * len(poisoned), results


def test_nul_in_enrollment_is_a_clear_4xx(registry):
    token = admin.add_user(registry.url, "wangfang", "worker", STREET)
    with client(registry.base) as c:
        for body in ({"device_id": f"dev{NUL}", "device_name": "x"},
                     {"device_id": "dev", "device_name": f"王{NUL}的电脑"},
                     {"device_id": "dev", "device_name": f"王{BIDI}的电脑"}):
            r = c.post("/api/v1/enroll", json={"token": token, **body})
            assert r.status_code == 422, (body, r.text)
        # The token was not spent by the refused requests.
        ok = c.post("/api/v1/enroll", json={"token": token, "device_id": "dev",
                                            "device_name": "王芳的电脑"})
        assert ok.status_code == 200, ok.text


def test_nul_in_attachment_name_or_caption_is_a_clear_4xx(registry):
    worker = registry.user("wangfang")
    record_id = str(uuid.uuid4())
    push(worker, mutation(record_id=record_id))
    content = png_bytes(1)
    sha = hashlib.sha256(content).hexdigest()
    assert worker.put(f"/api/v1/blobs/{sha}", content=content).status_code == 200
    row = {"id": str(uuid.uuid4()), "record_id": record_id, "sha256": sha, "name": "a.png",
           "kind": "photo", "mime": "image/png", "size": len(content), "caption": "门面",
           "created_at": "2026-01-05T10:00:00+08:00"}
    for bad in ({"name": f"a{NUL}.png"}, {"caption": f"门{NUL}面"}, {"caption": f"门{BIDI}面"},
                {"mime": f"image/png{NUL}"}, {"created_at": f"2026{NUL}"}):
        r = worker.post("/api/v1/attachments", json={"attachments": [{**row, **bad}]})
        assert r.status_code == 422, (bad, r.text)
    r = worker.post("/api/v1/attachments", json={"attachments": [row]})
    assert r.json()["results"][0]["outcome"] == "stored"


def test_nul_in_a_record_id_in_the_url_is_not_found(registry):
    worker = registry.user("wangfang")
    for path in ("/api/v1/records/%00", "/api/v1/records/abc%00def/history",
                 f"/api/v1/records/{uuid.uuid4()}%00"):
        r = worker.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"] == "not_found"


def test_replayed_mutation_id_of_another_scope_leaks_nothing(registry):
    worker = registry.user("wangfang")
    outsider = registry.user("zhao", "supervisor", OTHER_STREET)
    m = mutation(fields=site(owner_phone="13912345678", notes="业主只在周末"))
    [first] = push(worker, m)
    assert first["outcome"] == "applied"
    assert outsider.get(f"/api/v1/records/{m['record_id']}").status_code == 403
    [replayed] = push(outsider, m)
    assert replayed["outcome"] == "rejected"
    assert replayed["reason"]["code"] == "out_of_scope"
    assert "record" not in replayed and "13912345678" not in str(replayed)
    # The author's own resend still gets the first answer.
    [again] = push(worker, m)
    assert again["outcome"] == "already_applied" and again["record"]["id"] == m["record_id"]


def _attachment_row(record_id: str, sha: str, size: int) -> dict:
    return {"id": str(uuid.uuid4()), "record_id": record_id, "sha256": sha, "name": "p.png",
            "kind": "photo", "mime": "image/png", "size": size, "caption": "",
            "created_at": "2026-01-05T10:00:00+08:00"}


def test_knowing_a_hash_gives_no_access_to_the_file(registry):
    worker = registry.user("wangfang")
    outsider = registry.user("zhao", "worker", OTHER_STREET)
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    push(worker, mutation(record_id=mine))
    push(outsider, mutation(fields=site(grid_code=GRID_OTHER_STREET), record_id=theirs))
    content = png_bytes(42)
    sha = hashlib.sha256(content).hexdigest()
    assert outsider.head(f"/api/v1/blobs/{sha}").status_code == 404
    assert worker.put(f"/api/v1/blobs/{sha}", content=content).status_code == 200
    [stored_row] = worker.post("/api/v1/attachments", json={
        "attachments": [_attachment_row(mine, sha, len(content))]}).json()["results"]
    assert stored_row["outcome"] == "stored"
    assert worker.head(f"/api/v1/blobs/{sha}").status_code == 200
    # The outsider knows the hash: HEAD must not confirm the file exists ...
    assert outsider.head(f"/api/v1/blobs/{sha}").status_code == 404
    assert outsider.get(f"/api/v1/blobs/{sha}").status_code == 404
    # ... and a row on their own record pointing at it, without uploading, is refused.
    [claimed] = outsider.post("/api/v1/attachments", json={
        "attachments": [_attachment_row(theirs, sha, len(content))]}).json()["results"]
    assert claimed["outcome"] == "rejected" and claimed["reason"]["code"] == "blob_missing"
    r = outsider.get(f"/api/v1/blobs/{sha}")
    assert r.status_code == 404 and r.content != content
    # Uploading the same bytes proves they hold the file: then the row is theirs to keep.
    assert outsider.put(f"/api/v1/blobs/{sha}", content=content).json()["stored"] is False
    [owned] = outsider.post("/api/v1/attachments", json={
        "attachments": [_attachment_row(theirs, sha, len(content))]}).json()["results"]
    assert owned["outcome"] == "stored"
    assert outsider.get(f"/api/v1/blobs/{sha}").content == content


def test_put_over_an_existing_blob_checks_the_bytes(registry):
    worker = registry.user("wangfang")
    outsider = registry.user("zhao", "worker", OTHER_STREET)
    content = png_bytes(43)
    sha = hashlib.sha256(content).hexdigest()
    assert worker.put(f"/api/v1/blobs/{sha}", content=content).status_code == 200
    forged = outsider.put(f"/api/v1/blobs/{sha}", content=png_bytes(44))
    assert forged.status_code == 422 and forged.json()["error"] == "hash_mismatch"
    assert outsider.head(f"/api/v1/blobs/{sha}").status_code == 404
    assert worker.get(f"/api/v1/blobs/{sha}").content == content  # the sender holds it


def test_supervisor_who_can_read_a_record_reads_its_files(registry):
    worker = registry.user("wangfang")
    boss = registry.user("lisupervisor", "supervisor")
    record_id = str(uuid.uuid4())
    push(worker, mutation(record_id=record_id))
    content = png_bytes(45)
    sha = hashlib.sha256(content).hexdigest()
    worker.put(f"/api/v1/blobs/{sha}", content=content)
    worker.post("/api/v1/attachments", json={
        "attachments": [_attachment_row(record_id, sha, len(content))]})
    assert boss.head(f"/api/v1/blobs/{sha}").status_code == 200
    assert boss.get(f"/api/v1/blobs/{sha}").content == content


def test_worker_cannot_overwrite_the_supervisors_comment(registry):
    worker = registry.user("wangfang")
    boss = registry.user("lisupervisor", "supervisor")
    record_id = str(uuid.uuid4())
    push(worker, mutation(fields={**site(), "status": "submitted"}, record_id=record_id))
    [returned] = push(boss, mutation("update", {"status": "returned",
                                                "review_comment": "请补充权属方联系电话"},
                                     record_id, 1))
    assert returned["outcome"] == "applied"
    for fields in ({"review_comment": "已经补好了,直接通过"},
                   {"status": "submitted", "review_comment": "主管说可以"},
                   {"review_comment": None}):
        [result] = push(worker, mutation("update", fields, record_id, 2))
        assert result["outcome"] == "rejected", (fields, result)
        assert result["reason"]["errors"][0]["field"] == "review_comment"
    assert stored(registry.url, record_id).review_comment == "请补充权属方联系电话"
    # Sending back the comment the record already has is not a change.
    [same] = push(worker, mutation("update", {"review_comment": "请补充权属方联系电话",
                                              "owner_phone": "13800138000"}, record_id, 2))
    assert same["outcome"] == "applied", same
    # Resubmitting without touching the comment is the worker's normal path.
    [resubmitted] = push(worker, mutation("update", {"status": "submitted"}, record_id, 3))
    assert resubmitted["outcome"] == "applied"
    assert stored(registry.url, record_id).review_comment == "请补充权属方联系电话"


def test_a_path_cannot_forge_a_log_line(registry, caplog):
    caplog.set_level(logging.INFO, logger="fieldapp.server")
    with client(registry.base) as c:
        c.get("/api/v1/health%0A2026-01-01 GET /api/v1/me 200 1.0ms admin")
        c.get("/api/v1/x%0D%0Afake%1B[2J")
    lines = [r.getMessage() for r in caplog.records if r.name == "fieldapp.server"]
    assert lines, "the server logs one line per request"
    assert all("\n" not in line and "\r" not in line and "\x1b" not in line for line in lines)
    assert any("%0A" in line or "\\n" in line for line in lines)


def test_admin_names_follow_the_text_rule(tmp_path):
    from fieldapp.domain.areas import Area

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    admin.load_demo_areas(url)
    with pytest.raises(admin.AdminError, match="control characters"):
        admin.add_user(url, f"wang{NUL}fang", "worker", STREET)
    with pytest.raises(admin.AdminError, match="control characters"):
        admin.add_user(url, f"管理{BIDI}员", "admin", "*")
    with pytest.raises(admin.AdminError, match="bidi"):
        admin.load_areas(url, [Area("310104003001G99", f"99号{BIDI}网格", "grid",
                                    "310104003001")])


def test_existing_attachments_keep_their_files_readable_after_the_upgrade(tmp_path):
    """Revision 0004 makes the author of each blob's first row its holder: a registry
    upgraded with photos on it serves them as before (and only as the new rule allows)."""
    from alembic import command
    from sqlalchemy import text

    from sync.server.blob_access import HOLDERS
    from sync.server.db import make_engine
    from sync.server.migrations import config, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        with engine.begin() as conn:
            command.upgrade(config(conn), "0003_alembic_owns_the_schema")
            for n, name in enumerate(("wangfang", "zhao"), start=1):
                conn.execute(text("INSERT INTO fa_user (id, name, role, scopes, created_at) "
                                  "VALUES (:i, :n, 'worker', '310104003', 'then')"),
                             {"i": n, "n": name})
            for n, (author, at) in enumerate((("wangfang", "2026-01-01"),
                                              ("zhao", "2026-01-02"))):
                conn.execute(text(
                    "INSERT INTO attachment (id, record_id, sha256, name, kind, mime, size, "
                    "created_at, author, device_id, uploaded_at) VALUES (:id, 'r', :sha, 'p.png',"
                    " 'photo', 'image/png', 1, 'then', :a, 'd', :at)"),
                    {"id": f"a{n}", "sha": "ab" * 32, "a": author, "at": at})
        migrate(engine)
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(select(HOLDERS.c.sha256, HOLDERS.c.user_id))
                    ] == [("ab" * 32, 1)]
    finally:
        engine.dispose()
