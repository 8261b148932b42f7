"""End to end through the command line, as the README tells a newcomer: a registry started
with `fieldapp serve` in its own process, users added with `fieldapp admin`, laptops enrolled
with `fieldapp enroll` and synced with `fieldapp sync` (those run in-process, for speed); each
one refused where its scope ends."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout

import httpx
import pytest
from server_support import (
    BACKENDS,
    GRID,
    GRID_OTHER_STREET,
    OTHER_STREET,
    STREET,
    database_url,
    free_port,
    site,
)

from fieldapp.cli import main
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from fieldapp.store.scope import OutOfScope

PINS = "246810\n246810\n"  # the PIN `enroll` asks for, twice


def fieldapp(data_dir, *args: str, check: bool = True, stdin: str = ""):  # noqa: ANN001, ANN201
    """Run a fieldapp command in this process (the server is the one in its own process);
    `stdin` answers what it asks (the PIN `enroll` sets)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["--data-dir", str(data_dir), *args])
    finally:
        sys.stdin = saved
    proc = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@contextmanager
def serving(data_dir, url: str):  # noqa: ANN001, ANN201
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "--data-dir", str(data_dir),
                             "serve", "--port", str(port), "--database-url", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read()) from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        # One log line per request, without credentials or phone numbers.
        assert "GET /api/v1/health 200" in err
        assert "Bearer" not in err and "13800138000" not in err


def local_save(laptop, grid: str, address: str, stale_scope: bool = False) -> str:  # noqa: ANN001
    conn = connect(laptop / "fieldapp.sqlite3")
    store = RecordStore(conn)
    store.user = store.setting("current_user") or ""
    if stale_scope:  # a laptop that has not heard its scope was narrowed: the registry decides
        store.set_setting(f"scopes:{store.user}", "*")
    try:
        record = store.save("site", site(grid_code=grid, address=address,
                                         owner_phone="13800138000"))
    finally:
        conn.close()
    return record.id


@pytest.mark.parametrize("backend", BACKENDS)
def test_newcomer_path_with_scopes(backend, tmp_path):
    server_dir, lap_w, lap_s = (tmp_path / d for d in ("registry", "worker", "supervisor"))
    with database_url(backend, tmp_path) as url:
        fieldapp(server_dir, "admin", "--database-url", url, "load-demo-areas")
        worker_token = fieldapp(server_dir, "admin", "--database-url", url, "add-user",
                                "wangfang", "--role", "worker", "--scope", STREET).stdout.strip()
        boss_token = fieldapp(server_dir, "admin", "add-user", "liming", "--role", "supervisor",
                              "--scope", OTHER_STREET, "--database-url", url).stdout.strip()
        bad = fieldapp(server_dir, "admin", "--database-url", url, "add-user", "x", "--role",
                       "worker", "--scope", "999999", check=False)
        assert bad.returncode == 1 and "unknown area code" in bad.stderr
        users = json.loads(fieldapp(server_dir, "admin", "--database-url", url, "list-users",
                                    "--json").stdout)
        assert [(u["name"], u["role"]) for u in users] == [("liming", "supervisor"),
                                                           ("wangfang", "worker")]
        with serving(server_dir, url) as base:
            fieldapp(lap_w, "enroll", "--server", base, "--token", worker_token, stdin=PINS)
            again = fieldapp(lap_s, "enroll", "--server", base, "--token", worker_token,
                             check=False, stdin=PINS)
            assert again.returncode != 0
            fieldapp(lap_s, "enroll", "--server", base, "--token", boss_token, stdin=PINS)

            fieldapp(lap_w, "sync")  # the first pull brings the areas the form checks grids by
            mine = local_save(lap_w, GRID, "天平路8号")
            with pytest.raises(OutOfScope):  # the laptop knows the scope and refuses at once
                local_save(lap_w, GRID_OTHER_STREET, "湖南路9号")
            theirs = local_save(lap_w, GRID_OTHER_STREET, "湖南路9号", stale_scope=True)
            report = json.loads(fieldapp(lap_w, "sync", "--json", check=False).stdout)
            assert report["pushed"] == 1
            assert [r["record_id"] for r in report["rejected"]] == [theirs]

            report = json.loads(fieldapp(lap_s, "sync", "--json").stdout)
            assert report["pulled"] == 0  # the worker's street is not the supervisor's
            listed = fieldapp(lap_s, "list", "sites", "--json").stdout
            assert mine not in listed

            revoked = fieldapp(server_dir, "admin", "--database-url", url, "revoke-user",
                               "wangfang")
            assert "1" in revoked.stdout
            after = fieldapp(lap_w, "sync", "--json", check=False)
            assert after.returncode != 0
            # Revocation can be undone: a new token, the laptop enrolls again, sync works.
            refused = fieldapp(server_dir, "admin", "--database-url", url, "add-user",
                               "wangfang", "--role", "worker", "--scope", STREET, check=False)
            assert refused.returncode == 1 and "restore-user" in refused.stderr
            token = fieldapp(server_dir, "admin", "--database-url", url, "restore-user",
                             "wangfang").stdout.strip()
            fieldapp(lap_w, "enroll", "--server", base, "--token", token, stdin=PINS)
            back = json.loads(fieldapp(lap_w, "sync", "--json", check=False).stdout)
            assert back["errors"] == [] and not back["fatal"], back


def test_admin_errors_are_one_line(tmp_path):
    unreachable = fieldapp(tmp_path, "admin", "--database-url",
                           "postgresql+psycopg://nobody@127.0.0.1:1/none", "list-users",
                           check=False)
    unsupported = fieldapp(tmp_path, "admin", "--database-url", "mysql://x/y", "list-users",
                           check=False)
    for proc in (unreachable, unsupported):
        assert proc.returncode == 1
        assert proc.stderr.startswith("fieldapp: ") and proc.stderr.count("\n") == 1
    assert "cannot reach the database" in unreachable.stderr
    assert "unsupported database url" in unsupported.stderr
