"""The one scope rule on the command line: list, status, review queue, export and coverage
show the user's areas by default and the rest with --all-local; acting on a record outside
them is refused locally with the registry's own reason, and nothing is queued."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from fieldapp.cli import main
from fieldapp.demo import populate
from fieldapp.store.db import connect
from fieldapp.store.records import Query, RecordStore
from fieldapp.store.review import approve
from fieldapp.store.scope import OutOfScope, user_scope

DISTRICT = "310104"  # 徐汇区: the supervisor's scope; the demo also holds three others


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("scoped")
    conn = connect(path / "fieldapp.sqlite3")
    store = RecordStore(conn, user="wangfang")
    populate(store, 800)
    for key, value in (("current_user", "lisupervisor"), ("role:lisupervisor", "supervisor"),
                       ("scopes:lisupervisor", DISTRICT)):
        store.set_setting(key, value)
    conn.close()
    return path


def run(folder, capsys, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(folder), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def open_store(folder) -> RecordStore:
    conn = connect(folder / "fieldapp.sqlite3")
    return RecordStore(conn, user="lisupervisor", role="supervisor")


def test_scope_helper_filters_queries_and_counts(folder):
    store = open_store(folder)
    scope = user_scope(store)
    assert scope.limited and scope.areas == (DISTRICT,)
    assert all(g.startswith(DISTRICT) for g in scope.grids)
    mine = store.query(Query(kind="site", scope=scope.grids), limit=10_000)
    every = store.query(Query(kind="site"), limit=10_000)
    assert mine and len(mine) < len(every)
    assert all(r.grid_code.startswith(DISTRICT) for r in mine)
    counts = store.counts_by_kind(scope.grids)
    assert sum(counts["site"].values()) == len(mine)
    wide = user_scope(store, all_local=True)
    assert wide.grids is None and wide.enrolled == scope.grids
    # A draft without a grid yet can only be this laptop's own: it stays in view.
    draft = store.save("site", {"address": "无网格草稿1号"})
    assert store.query(Query(kind="site", search="无网格草稿", scope=scope.grids))[0].id == draft.id
    store.delete(draft.id)  # never synced: gone entirely, so the other tests see the demo
    store.conn.close()


def test_list_status_and_queue_default_to_the_users_areas(folder, capsys):
    code, out, err = run(folder, capsys, "list", "sites", "--json", "--limit", "10000")
    assert code == 0
    shown = json.loads(out)
    assert shown and all(r["grid_code"].startswith(DISTRICT) for r in shown)
    assert "--all-local" in err and "outside your areas" in err
    code, out, _ = run(folder, capsys, "list", "sites", "--json", "--limit", "10000",
                       "--all-local")
    assert len(json.loads(out)) > len(shown)

    code, out, err = run(folder, capsys, "status", "--json")
    status = json.loads(out)
    assert sum(status["records"]["site"].values()) == len(shown)
    assert status["scope"] == [DISTRICT] and status["outside_scope"] > 0

    code, out, _ = run(folder, capsys, "review", "queue", "--json")
    queue = json.loads(out)
    assert queue and all(r["grid_code"].startswith(DISTRICT) for r in queue)
    code, out, _ = run(folder, capsys, "review", "queue", "--json", "--all-local")
    assert any(not r["grid_code"].startswith(DISTRICT) for r in json.loads(out))


def test_approving_outside_the_scope_is_refused_here_with_the_registrys_reason(folder, capsys):
    store = open_store(folder)
    outside = store.query(Query(kind="site", status="submitted"), limit=10_000)
    outside = next(r for r in outside if not r.grid_code.startswith(DISTRICT))
    pending = store.pending_count()
    store.conn.close()
    code, _, err = run(folder, capsys, "review", "approve", outside.id[:8])
    assert code == 1 and err.count("\n") == 1
    assert f"grid {outside.grid_code} is outside your scope: cannot approve it" in err
    assert f"网格 {outside.grid_code} 不在您的负责范围内" in err
    store = open_store(folder)
    assert store.get(outside.id).status == "submitted" and store.pending_count() == pending
    with pytest.raises(OutOfScope):  # the store refuses it for the TUI too
        approve(store, [outside.id])
    with pytest.raises(OutOfScope):  # and moving a record out of the scope
        inside = store.query(Query(kind="site", scope=user_scope(store).grids))[0]
        store.save("site", {"grid_code": outside.grid_code}, record_id=inside.id)
    store.conn.close()


def test_export_and_coverage_keep_to_the_scope(folder, tmp_path, capsys):
    code, _, _ = run(folder, capsys, "export", "--kind", "sites", "-o", str(tmp_path / "a.csv"))
    assert code == 0
    text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert text and all(f",{DISTRICT}" in line for line in text)
    code, _, _ = run(folder, capsys, "export", "-o", str(tmp_path / "all.xlsx"), "--all-local")
    rows = list(load_workbook(tmp_path / "all.xlsx")["存量资源"].iter_rows(min_row=2))
    assert len(rows) > len(text)

    code, out, _ = run(folder, capsys, "coverage", "--json")
    grids = json.loads(out)["grids"]
    assert grids and all(g["code"].startswith(DISTRICT) for g in grids)
    code, out, _ = run(folder, capsys, "coverage", "--json", "--all-local")
    assert len(json.loads(out)["grids"]) > len(grids)
    code, _, err = run(folder, capsys, "coverage", "--area", "310101")
    assert code == 1 and "outside your areas" in err and "--all-local" in err
    code, out, _ = run(folder, capsys, "coverage", "--area", "天平路街道", "--json")
    named = json.loads(out)["grids"]
    assert named and all(g["code"].startswith("310104003") for g in named)


def test_area_filters_take_codes_in_any_case_and_names_and_refuse_the_rest(folder, capsys):
    code, out, _ = run(folder, capsys, "list", "sites", "--grid", "天平路街道", "--json")
    assert code == 0 and all(r["grid_code"].startswith("310104003") for r in json.loads(out))
    code, lower, _ = run(folder, capsys, "list", "sites", "--grid", "310104003001g01", "--json")
    code, upper, _ = run(folder, capsys, "list", "sites", "--grid", "310104003001G01", "--json")
    assert code == 0 and lower == upper and json.loads(upper)
    for bad in ("999", "abc"):
        for command in (["list", "sites"], ["export", "-o", "x.xlsx"], ["review", "queue"]):
            code, out, err = run(folder, capsys, *command, "--grid", bad)
            assert code == 1 and out == "" and err.count("\n") == 1
            assert f"no area has the code or name '{bad}'" in err and "e.g. 3101" in err


def test_list_says_on_stderr_when_it_stopped_at_its_limit(folder, capsys):
    code, out, err = run(folder, capsys, "list", "sites", "--all-local", "--limit", "5")
    assert code == 0 and len(out.splitlines()) == 5
    total = open_store(folder).count(Query(kind="site"))
    assert f"显示 5 / {total:,} 条,--limit 查看更多" in err
    code, out, err = run(folder, capsys, "list", "sites", "--all-local", "--limit", "100000")
    assert "--limit" not in err
