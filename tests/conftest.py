"""Shared fixtures: a fresh data dir per test, a store on a real SQLite file with demo areas."""

from __future__ import annotations

import pytest

from fieldapp.demo import demo_areas
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore

GRID = "310104003001G01"  # 天平路街道, a demo grid


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDAPP_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def store(tmp_path) -> RecordStore:
    conn = connect(tmp_path / "fieldapp.sqlite3")
    s = RecordStore(conn, user="wangfang", role="worker")
    s.load_areas(demo_areas())
    yield s
    conn.close()


def complete_site(**overrides) -> dict:
    site = {
        "grid_code": GRID, "address": "天平路100号", "source_type": "storefront",
        "floor_from": 1, "usable_area": "120㎡", "ownership_type": "state",
        "owner_name": "徐汇区房屋管理局", "owner_consent": "agreed",
        "structure_condition": "good", "fire_condition": "good",
        "candidate_functions": ["elderly", "meal"],
    }
    site.update(overrides)
    return site


# The TUI tests' demo data folder (made once per session, copied per test).
from tests.ui_support import demo, demo_template  # noqa: E402,F401
