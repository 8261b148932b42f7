"""Shared fixtures: a fresh data dir per test, a store on a real SQLite file with demo areas."""

from __future__ import annotations

import codecs
import io
import os

import pytest

from fieldapp.demo import demo_areas
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore

# Times are shown in local time; tests (and their snapshots) read them in Shanghai's, whatever
# the machine's own zone is (fieldapp.localtime reads this at its first use, in a test).
os.environ.setdefault("FIELDAPP_TZ", "Asia/Shanghai")

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


def _console_encoding() -> str | None:
    """The encoding PYTHONIOENCODING names, when it is not UTF-8 (CI runs the CLI tests
    again with `PYTHONIOENCODING=gbk`, as on a Chinese Windows console)."""
    name = os.environ.get("PYTHONIOENCODING", "").partition(":")[0].strip()
    if not name or codecs.lookup(name).name == "utf-8":
        return None
    return name


def console_text(text: str) -> str:
    """`text` as the test's console shows it: itself, unless the PYTHONIOENCODING the tests
    run under lacks some of its characters (then their readable stand-ins, ✓ → √)."""
    encoding = _console_encoding()
    if encoding is None:
        return text
    from fieldapp.compat.console import ERRORS

    return text.encode(encoding, errors=ERRORS).decode(encoding)


if _console_encoding():
    from _pytest import capture

    class _ConsoleCaptureIO(io.TextIOWrapper):
        """capsys's stream, encoding like that console and failing as it would: a command
        that prints a character the console lacks without `fieldapp.compat.console` fails
        its test."""

        def __init__(self) -> None:
            super().__init__(io.BytesIO(), encoding=_console_encoding(), errors="strict",
                             newline="", write_through=True)

        def getvalue(self) -> str:
            return self.buffer.getvalue().decode(self.encoding)

    capture.CaptureIO = _ConsoleCaptureIO


# The TUI tests' demo data folder (made once per session, copied per test).
from tests.ui_support import demo, demo_template  # noqa: E402,F401
