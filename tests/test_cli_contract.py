"""The command line's contract: every subcommand, given bad input of each kind (a missing,
unreadable or wrong file, a folder instead of a file, a bad code, a bad id, a bad number, a
taken port, an unknown option, a data folder that is a file), prints exactly one line
starting `fieldapp:`, no traceback, exits non-zero — and changes nothing in the data folder.

A new subcommand must add its cases to CASES (the first test says which one is missing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp.cli import build_parser, main
from fieldapp.demo import populate
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore

# Placeholders, filled per run: {missing} a file that does not exist, {folder} a folder,
# {garbage} a file that is no table/CSV of areas, {nodir} a path in a folder that does not
# exist, {id} a real record id, {att} an attachment that was never refused, {taken} a port
# another socket holds.
CASES: dict[str, list[list[str]]] = {
    "demo": [["demo", "--records", "-5", "--no-open"], ["demo", "--records", "abc"]],
    "status": [["status", "--all-locall"]],
    "list": [["list", "sites", "--grid", "999"], ["list", "sites", "--grid", "abc"],
             ["list", "sites", "--status", "bogus"], ["list", "sites", "--limit", "-1"],
             ["list", "parks"]],
    "tui": [["tui", "--bogus"]],
    "new": [["new", "park", "地址=x"], ["new", "site", "nosuch=1"], ["new", "site", "地址"],
            ["new", "site", "可用面积=很大"], ["new", "site", "网格=999"],
            ["new", "site", "地址=x", "--submit"], ["new", "inspection", "对象编号=ffffffff"]],
    "edit": [["edit", "zz", "备注=x"], ["edit", "{id}"], ["edit", "{id}", "可用面积=-3"],
             ["edit", "{id}", "状态=approved"]],
    "show": [["show", "zz"], ["show", "ffffffff"]],
    "import": [["import", "{missing}"], ["import", "{folder}"], ["import", "{garbage}"],
               ["import", "{missing}.xls"], ["import", "{garbage}", "--kind", "parks"]],
    "export": [["export", "-o", "{nodir}/a.xlsx"], ["export", "-o", "{folder}/z.txt"],
               ["export", "--template", "{folder}/t.csv"], ["export", "-o", "{folder}"],
               ["export", "--kind", "parks", "-o", "{folder}/a.xlsx"],
               ["export", "--grid", "999", "-o", "{folder}/a.xlsx"],
               ["export", "--status", "bogus", "-o", "{folder}/a.csv"],
               ["export", "-o", "-", "--format", "xlsx"],
               ["export", "--three-lists", "-o", "{folder}/3.xlsx"],
               ["export", "--three-lists", "--area", "999", "-o", "{folder}/3.xlsx"],
               ["export", "--format", "csv", "-o", "{folder}/a.xlsx"]],
    "enroll": [["enroll", "--server", "http://127.0.0.1:{taken}", "--token", "x"],
               ["enroll", "--server", "not a url", "--token", "x"], ["enroll"]],
    "sync": [["sync"], ["sync", "--interval", "abc"], ["sync", "--watch", "--interval", "-5"]],
    "conflicts": [["conflicts", "--bogus"]],
    "resolve": [["resolve", "abc"], ["resolve", "999"], ["resolve", "1", "备注"]],
    "outbox": [["outbox", "--retry", "abc"], ["outbox", "--retry", "999999"],
               ["outbox", "--discard", "-1"]],
    "user list": [["user", "list", "--bogus"]],
    "user switch": [["user", "switch", "nobody"]],
    "review queue": [["review", "queue", "--grid", "999"], ["review", "queue", "--kind", "x"],
                     ["review", "queue", "--function", "napping"]],
    "review approve": [["review", "approve", "zz"], ["review", "approve", "ffffffff"],
                       ["review", "approve", "{id}"]],  # a worker may not approve
    "review return": [["review", "return", "ffffffff", "--comment", "x"],
                      ["review", "return", "{id}"]],
    "history": [["history", "zz"], ["history", "ffffff"]],
    "joint-review": [["joint-review", "zz"], ["joint-review", "ffffffff"],
                     ["joint-review", "{id}", "--dept", "police", "--result", "pass"],
                     ["joint-review", "{id}", "--dept", "fire", "--result", "maybe"],
                     ["joint-review", "{id}", "--dept", "fire"],
                     ["joint-review", "{id}", "--result", "pass"],
                     ["joint-review", "{id}", "--dept", "fire", "--result", "pass",
                      "--date", "x"],
                     ["joint-review", "{id}", "--dept", "fire", "--result", "conditional"],
                     ["joint-review", "{id}", "--dept", "fire", "--result", "pass"]],  # worker
    "progress": [["progress", "--area", "999"], ["progress", "--year", "abc"],
                 ["progress", "--year", "1850"], ["progress", "-o", "{folder}/p.txt"],
                 ["progress", "-o", "{nodir}/p.xlsx"]],
    "project list": [["project", "list", "--area", "999"], ["project", "list", "--stage", "x"]],
    "project advance": [["project", "advance", "zz", "--stage", "selected"],
                        ["project", "advance", "{id}", "--stage", "nowhere"],
                        ["project", "advance", "{id}", "--stage", "selected"],  # a worker
                        ["project", "advance", "{id}", "--stage", "opened", "--date", "x"],
                        ["project", "advance", "{id}", "--stage", "built", "nosuch=1"]],
    "serve": [["serve", "--port", "99999"], ["serve", "--port", "abc"],
              ["serve", "--port", "{taken}"], ["serve", "--workers", "0"],
              ["serve", "--database-url", "mysql://x/y"]],
    "admin add-user": [["admin", "add-user", "x", "--role", "king", "--scope", "1"],
                       ["admin", "add-user", "x", "--role", "worker", "--scope", "999999"]],
    "admin list-users": [["admin", "--database-url", "mysql://x/y", "list-users"]],
    "admin revoke-user": [["admin", "revoke-user", "nobody"]],
    "admin restore-user": [["admin", "restore-user", "nobody"]],
    "admin load-areas": [["admin", "load-areas", "{missing}"], ["admin", "load-areas", "{folder}"],
                         ["admin", "load-areas", "{garbage}"]],
    "admin load-demo-areas": [["admin", "load-demo-areas", "--database-url", "mysql://x/y"]],
    "admin set-pilot": [["admin", "set-pilot", "999999"],
                        ["admin", "--database-url", "mysql://x/y", "set-pilot", "310104"]],
    "admin set-target": [["admin", "set-target", "310104", "--target", "abc"],
                         ["admin", "set-target", "999999", "--target", "3"]],
    "admin gc-blobs": [["admin", "gc-blobs", "--older-than", "abc"]],
    "admin copy-blobs": [["admin", "copy-blobs", "--from", "sideways"]],
    "admin devices": [["admin", "devices", "--stale", "abc"],
                      ["admin", "--database-url", "mysql://x/y", "devices"]],
    "admin activity": [["admin", "activity", "--since", "yesterday-ish"],
                       ["admin", "--database-url", "mysql://x/y", "activity"]],
    "admin backup": [["admin", "--database-url", "mysql://x/y", "backup", "-o", "{folder}/b"]],
    "admin restore": [["admin", "restore", "{missing}", "--yes"],
                      ["admin", "restore", "{folder}", "--yes"],
                      ["admin", "restore", "{garbage}", "--yes"]],
    "backup": [["backup", "-o", "{folder}"]],
    "restore": [["restore", "{missing}"], ["restore", "{folder}"], ["restore", "{garbage}"]],
    "doctor": [["doctor", "--bogus"]],
    "bundle": [["bundle", "--platform", "sideways"], ["bundle", "--check", "{missing}"],
               ["bundle", "--wheel", "{missing}"]],
    "coverage": [["coverage", "--area", "999"], ["coverage", "--function", "napping"],
                 ["coverage", "--limit", "-1"]],
    "geo": [["geo", "gcj2wgs", "abc", "121"], ["geo", "gcj2wgs", "91", "200"],
            ["geo", "nowhere", "31", "121"]],
    "attach": [["attach", "ffffffff", "{garbage}"], ["attach", "{id}", "{missing}"],
               ["attach", "{id}", "{folder}"], ["attach", "{id}", "{garbage}"]],
    "attachments": [["attachments", "ffffffff"], ["attachments", "--quality", "abc"]],
    "attachment": [["attachment", "open", "ffffffff"], ["attachment", "retry", "{att}"],
                   ["attachment", "explode", "{att}"]],
    "settings": [["settings", "nosuch", "x"], ["settings", "borders", "sideways"]],
    "report ledger": [["report", "ledger", "ffffffff", "-o", "{folder}/l.pdf"],
                      ["report", "ledger", "{id}", "-o", "{folder}"]],
    "report area": [["report", "area", "999", "-o", "{folder}/a.pdf"],
                    ["report", "area", "310104", "-o", "{folder}/a.docx"]],
}

#: Enough arguments for each command to get past argparse, to try a data folder that is a file.
MINIMAL = {"list": ["list", "sites"], "import": ["import", "{garbage}"],
           "export": ["export", "-o", "{folder}/a.xlsx"], "resolve": ["resolve", "1"],
           "user switch": ["user", "switch", "x"], "review approve": ["review", "approve", "{id}"],
           "review return": ["review", "return", "{id}", "--comment", "x"],
           "history": ["history", "{id}"],
           "joint-review": ["joint-review", "{id}"],
           "project advance": ["project", "advance", "{id}", "--stage", "selected"],
           "edit": ["edit", "{id}", "备注=x"],
           "show": ["show", "{id}"], "new": ["new", "site", "地址=x"],
           "attach": ["attach", "{id}", "{garbage}"],
           "attachment": ["attachment", "open", "{att}"],
           "admin add-user": ["admin", "add-user", "x", "--role", "worker", "--scope", "1"],
           "admin revoke-user": ["admin", "revoke-user", "x"],
           "admin restore-user": ["admin", "restore-user", "x"],
           "admin load-areas": ["admin", "load-areas", "{garbage}"],
           "admin set-pilot": ["admin", "set-pilot", "310104"],
           "admin set-target": ["admin", "set-target", "310104", "--target", "1"],
           "geo": ["geo", "gcj2wgs", "31", "121"], "settings": ["settings"],
           "report ledger": ["report", "ledger", "{id}", "-o", "{folder}/l.pdf"],
           "report area": ["report", "area", "310104", "-o", "{folder}/a.pdf"],
           "enroll": ["enroll", "--server", "http://127.0.0.1:{taken}", "--token", "x"],
           "demo": ["demo", "--no-open"], "serve": ["serve", "--port", "{taken}"],
           "admin backup": ["admin", "backup", "-o", "{folder}/b.zip"],
           "admin copy-blobs": ["admin", "copy-blobs", "--from", "dir:{folder}"],
           "admin restore": ["admin", "restore", "{garbage}"],
           "backup": ["backup", "-o", "{folder}/b.zip"], "restore": ["restore", "{garbage}"]}
#: Commands that never open the laptop's data folder (the registry's own database URL).
NO_DATA_DIR = {"geo", "bundle"}
#: Commands that read their file argument before the data folder: any one-line error will do.
FILE_FIRST = {"admin load-areas", "admin restore", "restore"}


def leaf_commands() -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs and path:
            found[" ".join(path)] = parser
        for action in subs:
            for name, child in action.choices.items():
                walk(child, (*path, name))

    walk(build_parser(), ())
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    data = root / "data"
    data.mkdir()
    conn = connect(data / "fieldapp.sqlite3")
    store = RecordStore(conn, user="wangfang")
    populate(store, 40)
    store.set_setting("current_user", "wangfang")
    record_id = conn.execute("SELECT id FROM record WHERE kind = 'site' AND status = 'submitted'"
                             " LIMIT 1").fetchone()[0]
    conn.close()
    garbage = root / "garbage.jpg"
    garbage.write_bytes(b"\x00\x01not a photo, not a table\xff" * 50)
    from tests.attachment_support import png_bytes

    photo = root / "photo.png"
    photo.write_bytes(png_bytes(1))
    assert main(["--data-dir", str(data), "attach", record_id, str(photo)]) == 0
    conn = connect(data / "fieldapp.sqlite3")
    attachment_id = conn.execute("SELECT id FROM attachment").fetchone()[0]
    conn.close()
    folder = root / "folder"
    folder.mkdir()
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    values = {"missing": str(root / "missing.csv"), "folder": str(folder),
              "garbage": str(garbage), "nodir": str(root / "no" / "such" / "dir"),
              "id": record_id, "att": attachment_id, "taken": str(holder.getsockname()[1])}
    yield data, values, root
    holder.close()


def fill(args: list[str], values: dict[str, str]) -> list[str]:
    import uuid

    # A folder that does not exist, new each time (a command may rightly create folders).
    nodir = str(Path(values["nodir"]) / uuid.uuid4().hex)
    return [a.format(**{**values, "nodir": nodir}) for a in args]


def snapshot(data: Path) -> tuple:
    """What a refused command must leave as it was."""
    conn = connect(data / "fieldapp.sqlite3")
    try:
        return tuple(conn.execute(sql).fetchone() for sql in (
            "SELECT count(*), max(updated_at), group_concat(status) FROM record",
            "SELECT count(*), max(seq) FROM outbox", "SELECT count(*) FROM history",
            "SELECT count(*), group_concat(coalesce(last_error, '')) FROM attachment",
            "SELECT group_concat(key || '=' || value) FROM setting"))
    finally:
        conn.close()


def check_one_line(code: int, out: str, err: str, args: list[str]) -> None:
    assert code != 0, f"{args}: exit 0 for bad input\n{out}{err}"
    assert "Traceback" not in err and "Exception ignored" not in err, f"{args}:\n{err}"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fieldapp: "), f"{args}: stderr was\n{err}"


def test_every_subcommand_has_bad_input_cases():
    missing = sorted(set(leaf_commands()) - set(CASES))
    assert not missing, f"add bad-input cases to tests/test_cli_contract.py for: {missing}"


@pytest.mark.parametrize("command", sorted(CASES))
def test_bad_input_is_one_line_nonzero_and_touches_nothing(command, world, capsys,
                                                           monkeypatch):
    data, values, root = world
    monkeypatch.chdir(root)
    monkeypatch.setenv("FIELDAPP_HOME", str(data))  # the registry commands keep their DB here
    for args in CASES[command]:
        before = snapshot(data)
        args = ["--data-dir", str(data), *fill(args, values)]
        code = main(args)
        captured = capsys.readouterr()
        check_one_line(code, captured.out, captured.err, args)
        assert snapshot(data) == before, f"{args} changed the data folder"
        assert not (root / "folder" / "a.xlsx").exists() and not (root / "-").exists()


@pytest.mark.parametrize("command", sorted(set(CASES) - NO_DATA_DIR))
def test_a_data_folder_that_is_a_file(command, world, tmp_path, capsys, monkeypatch):
    _data, values, _root = world
    not_a_folder = tmp_path / "plain.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    monkeypatch.delenv("FIELDAPP_HOME", raising=False)
    args = fill(MINIMAL.get(command, command.split()), values)
    code = main(["--data-dir", str(not_a_folder), *args])
    captured = capsys.readouterr()
    check_one_line(code, captured.out, captured.err, args)
    if command not in FILE_FIRST:
        assert "is a file, not a folder" in captured.err
    assert not_a_folder.read_text(encoding="utf-8") == "x"


def test_unreadable_file(world, capsys, tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root reads any file")
    data, values, _root = world
    locked = tmp_path / "locked.csv"
    locked.write_text("网格,地址\n", encoding="utf-8")
    locked.chmod(0)
    for args in (["import", str(locked)], ["attach", values["id"], str(locked)],
                 ["admin", "load-areas", str(locked)]):
        code = main(["--data-dir", str(data), *args])
        captured = capsys.readouterr()
        check_one_line(code, captured.out, captured.err, args)


def fieldapp_process(args: list, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "fieldapp", *args], capture_output=True,
                          env=env, timeout=120, **kw)


def test_a_closed_pipe_is_not_an_error(world):
    data, _values, _root = world
    command = (f"{shlex_join([sys.executable, '-m', 'fieldapp', '--data-dir', str(data)])} "
               f"list sites --all-local --limit 5000 | head -1")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr
    assert len(done.stdout.splitlines()) == 1


def shlex_join(parts: list[str]) -> str:
    import shlex

    return shlex.join(parts)


@pytest.mark.skipif(sys.platform == "win32", reason="arguments are UTF-16 on Windows")
def test_an_argument_that_is_not_utf8(world):
    data, _values, _root = world
    done = fieldapp_process([b"--data-dir", str(data).encode(), b"list", b"sites", b"--search",
                             "天平".encode("gbk")])
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2 and err.count("\n") == 1 and err.startswith("fieldapp: ")
    assert "not valid text" in err and "Traceback" not in err


def test_serve_refuses_a_taken_port_before_its_banner(world, tmp_path):
    _data, values, _root = world
    done = fieldapp_process(["--data-dir", str(tmp_path), "serve", "--port", values["taken"]])
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1 and err.startswith("fieldapp: ") and err.count("\n") == 1
    assert f"port {values['taken']} is in use" in err and "registry on" not in err
    assert not (tmp_path / "registry.sqlite3").exists()  # refused before touching anything


def test_export_to_stdout_writes_csv(world):
    data, _values, root = world
    done = fieldapp_process(["--data-dir", str(data), "export", "--all-local", "-o", "-"],
                            cwd=root)
    assert done.returncode == 0
    text = done.stdout.decode("utf-8-sig")
    assert text.startswith("记录ID,状态,网格") and len(text.splitlines()) > 5
    assert not (root / "-").exists()
    shutil.rmtree(root / "-", ignore_errors=True)
