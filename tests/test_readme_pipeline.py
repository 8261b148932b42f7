"""README "From idle space to an open facility": its commands, run as written, take one site
through every stage; the opening makes one facility that coverage counts, and a refused step
says why and saves nothing."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from fieldapp.cli import main
from fieldapp.domain import project as P
from fieldapp.store.coverage_load import analyse_store
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from fieldapp.ui.commands import ACTIONS

README = Path(__file__).parent.parent / "README.md"


def readme_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## From idle space to an open facility", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("fieldapp ")]


@pytest.fixture
def home(tmp_path):
    from fieldapp.demo import populate

    store = RecordStore(connect(tmp_path / "fieldapp.sqlite3"), user="lisupervisor")
    populate(store, 200)
    store.set_setting("current_user", "lisupervisor")
    store.set_setting("role:lisupervisor", "supervisor")
    store.conn.close()
    return tmp_path


def run(capsys, home: Path, args: list[str]) -> tuple[int, str, str]:
    code = main(["--data-dir", str(home), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_readme_walk_through_every_stage(home, capsys):
    commands = readme_commands()
    assert [c[:2] for c in commands[:2]] == [["new", "site"], ["review", "approve"]]
    stages = [c[c.index("--stage") + 1] for c in commands if "--stage" in c]
    assert [P.parse_stage(s) for s in stages] == list(P.PIPELINE)
    site = None
    for args in commands:
        args = [site if a == "SITE" else a for a in args]
        code, out, err = run(capsys, home, args)
        assert code == 0, (args, err)
        if site is None:
            site = out.strip()
    assert "已开放运营" in out or "天平路第一居委" in out
    store = RecordStore(connect(home / "fieldapp.sqlite3"), user="lisupervisor")
    try:
        record = store.get(site)
        assert record.status == "approved" and record.data["project_stage"] == "opened"
        assert [record.data[P.date_field(s)] for s in P.PIPELINE] == [
            "2026-01-05", "2026-01-20", "2026-02-10", "2026-03-01", "2026-06-15", "2026-07-01"]
        facility = store.get(P.facility_id_for(site))
        assert facility.data["site_id"] == site and facility.data["opened_on"] == "2026-07-01"
        assert facility.data["address"] == "天平路88号"
        assert facility.data["functions"] == ["elderly", "meal"]
        assert facility.data["operator"] == "上海福苑养老服务有限公司"
        count = store.conn.execute("SELECT count(*) FROM record WHERE kind = 'facility' AND "
                                   "json_extract(data, '$.site_id') = ?", (site,)).fetchone()[0]
        assert count == 1
        analysis = analyse_store(store, "310104003")
        for scene in ("elderly", "meal"):  # within walking radius of its own grid
            near = analysis.nearest("310104003001G01", scene)
            assert facility.id in [f.id for f, _ in near]
    finally:
        store.conn.close()
    code, out, _ = run(capsys, home, ["project", "list", "--area", "310104003", "--json"])
    assert site in [r["id"] for r in json.loads(out)]
    code, out, _ = run(capsys, home, ["progress", "--area", "310104003", "--json"])
    community = next(c for c in json.loads(out)["communities"] if c["code"] == "310104003001")
    assert community["opened"] >= 1
    assert ("progress", "progress") in ACTIONS


def test_a_refused_step_says_why_and_saves_nothing(home, capsys):
    commands = readme_commands()
    code, out, _ = run(capsys, home, commands[0])
    site = out.strip()
    run(capsys, home, ["review", "approve", site])
    run(capsys, home, [a if a != "SITE" else site for a in commands[2]])
    code, _, err = run(capsys, home, ["project", "advance", site, "--stage", "改造中"])
    assert code == 1 and "联审" in err and "Joint review passed" in err
    store = RecordStore(connect(home / "fieldapp.sqlite3"), user="lisupervisor")
    try:
        assert store.get(site).data["project_stage"] == "selected"
    finally:
        store.conn.close()
