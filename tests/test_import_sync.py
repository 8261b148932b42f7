"""What the importer saves, the registry accepts: a supervisor's sheet of approved records
reaches the registry approved (created, submitted, then approved, as the form would do it),
and a worker's rows outside their scope are refused at import, not parked at sync."""

from __future__ import annotations

import csv
import json

from fieldapp.io import import_file
from tests.conftest import GRID
from tests.sync_helpers import laptops, registry, sqlite_only  # noqa: F401  (fixtures)

HEADERS = ["网格", "地址", "资源类型", "所在楼层", "可用面积", "权属性质", "权属方", "权属方意见",
           "结构安全", "消防安全", "可承载功能", "状态"]


def sheet(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([HEADERS, *rows])
    return path


def row(address, status, grid=GRID):
    return [grid, address, "闲置门面房", "1", "120", "国有", "房管局", "已同意", "良好", "良好",
            "养老服务", status]


@sqlite_only
def test_a_supervisors_approved_rows_reach_the_registry_approved(registry, laptops, tmp_path):
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    assert boss.sync().ok  # areas first
    path = sheet(tmp_path / "approved.csv", [row("天平路1号", "已通过"), row("天平路2号", "已提交"),
                                             row("天平路3号", "")])
    report = import_file(boss.store, path)
    assert (report.added, report.rejected) == (3, 0), report.errors
    entries = boss.store.conn.execute(
        "SELECT op, fields FROM outbox ORDER BY seq").fetchall()
    steps = [(op, json.loads(fields).get("status")) for op, fields in entries]
    assert steps.count(("update", "approved")) == 1  # its own step after the create
    sync = boss.sync()
    assert sync.ok and not sync.rejected, sync.rejected
    by_address = {r["data"]["address"]: r["status"] for r in registry.records().values()}
    assert by_address == {"天平路1号": "approved", "天平路2号": "submitted", "天平路3号": "draft"}


@sqlite_only
def test_a_workers_rows_outside_the_scope_are_refused_at_import(registry, laptops, tmp_path):
    worker = laptops("w")  # scope: street 310104003
    assert worker.sync().ok
    path = sheet(tmp_path / "mixed.csv", [row("天平路1号", ""),
                                          row("湖南路1号", "", grid="310104004001G01")])
    report = import_file(worker.store, path)
    assert (report.added, report.rejected) == (1, 1)
    assert "outside your scope: cannot create it" in report.errors[0].en
    assert worker.sync().ok
