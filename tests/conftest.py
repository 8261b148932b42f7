"""Shared fixtures: a fresh data dir per test, a store on a real SQLite file with demo areas."""

from __future__ import annotations

import codecs
import io
import os

import pytest
from hypothesis import HealthCheck, settings

from fieldapp.demo import demo_areas
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore

# Times are shown in local time; tests (and their snapshots) read them in Shanghai's, whatever
# the machine's own zone is (fieldapp.localtime reads this at its first use, in a test).
os.environ.setdefault("FIELDAPP_TZ", "Asia/Shanghai")

GRID = "310104003001G01"  # 天平路街道, a demo grid

# -- Hypothesis profiles ------------------------------------------------------------------------
# `ci` (the default, what .ci/run uses): derandomized, so every run draws the same examples and
# a failure seen once comes back on the next run; no example database to depend on.
# `dev`: fresh random examples each run, failures kept in .hypothesis/ and replayed first.
# `long`: like dev with ten times the examples (and longer state machines), run by hand:
#   FIELDAPP_HYPOTHESIS=long pytest tests/test_properties.py
# A failure prints the profile, the seed (`--hypothesis-seed=N` replays a random one) and the
# example database key, plus Hypothesis's own @reproduce_failure blob.
HYPOTHESIS_ENV = "FIELDAPP_HYPOTHESIS"
_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])
settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("dev", **_COMMON)
settings.register_profile("long", max_examples=1000, **_COMMON)
PROFILE = os.environ.get(HYPOTHESIS_ENV, "ci")
if PROFILE not in ("ci", "dev", "long"):
    raise pytest.UsageError(f"{HYPOTHESIS_ENV}={PROFILE!r}: expected ci, dev or long")
settings.load_profile(PROFILE)
SCALE = 10 if PROFILE == "long" else 1


def examples(n: int) -> int:
    """A test's number of examples in the current profile (ten times as many with `long`)."""
    return n * SCALE


def hypothesis_replay_note(test) -> str:
    """How to get this Hypothesis test's failure back: profile, seed, example database key."""
    from hypothesis import core
    from hypothesis.internal.reflection import function_digest

    current = settings.default
    inner = getattr(getattr(test, "hypothesis", None), "inner_test", test)
    generated = getattr(test, "_hypothesis_internal_use_generated_seed", None)
    if getattr(test, "_hypothesis_internal_use_seed", None) is not None:
        seed = f"@seed({test._hypothesis_internal_use_seed}) on the test"
    elif current.derandomize:
        seed = "derandomized: the seed is the test's own digest, every run is the same"
    elif core.global_force_seed is not None:
        seed = f"--hypothesis-seed={core.global_force_seed}"
    elif generated is not None:
        seed = f"--hypothesis-seed={generated}"
    else:
        seed = "unknown"
    database = current.database
    key = function_digest(inner).hex() if database is not None else "none"
    return (f"hypothesis profile {PROFILE!r} ({HYPOTHESIS_ENV}); seed: {seed}; "
            f"example database: {database!r}, key {key}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    test = getattr(item, "obj", None)
    if report.when == "call" and report.failed and getattr(test, "is_hypothesis_test", False):
        report.sections.append(("Hypothesis replay", hypothesis_replay_note(test)))


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


def pytest_terminal_summary(terminalreporter):
    """What the long-running checks exercised (tests/run_stats.py), after the results."""
    from tests.run_stats import LINES

    if LINES:
        terminalreporter.section("exercised")
        for line in LINES:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _environment_restored():
    """Commands run in-process (serve, demo) set variables for their child processes; a test
    must not hand them to the next one (a leaked PROMETHEUS_MULTIPROC_DIR hid the counters of
    a later registry)."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
