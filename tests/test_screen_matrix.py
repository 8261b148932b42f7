"""Every screen at 80×24 and 120×40, in Chinese and English, Ctrl+L pressed on each.

For each screen this checks what a grid worker would notice first: it opens without a crash
and survives the language switch (twice, back again); no table column label is cut (a cut
label is ambiguous: "St…", "Sub…"); the bottom bar shows whole key hints, including how to go
back; in Chinese, no English word of the program's own leaks onto the screen. Each screen's
text is kept as a snapshot in tests/screen_matrix_snapshots/ (plain text, so a diff reads
like the screen; regenerate with `--snapshot-update` after looking at the change).

ADDING A SCREEN is one line in SCREENS: a name and how to get there from home (keys, or a
function of the pilot). The screen should be a BaseScreen with HINTS that include Esc, or a
modal whose text says Esc.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.screen import ModalScreen
from textual.widgets import DataTable

from fieldapp.ui.screens.home import HomeScreen
from tests.screen_capture import screen_text
from tests.ui_support import copy_demo, make_app, open_store, wait_for_screen, workers_done

# Not in syrupy's __snapshots__: a full run fails on files there that syrupy did not write.
SNAPSHOTS = Path(__file__).parent / "screen_matrix_snapshots"
SIZES = [(80, 24), (120, 40)]
LANGS = ["zh", "en"]

Opener = list[str] | Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Screen:
    name: str
    open: Opener  # keys pressed from home, or `async def open(pilot)`
    home: bool = False  # home needs no way back


async def _open_first_inspection(pilot) -> None:
    store = open_store(pilot.app.ctx.data_dir)
    row = store.conn.execute("SELECT id FROM record WHERE kind = 'inspection' AND deleted = 0 "
                             "ORDER BY rid LIMIT 1").fetchone()
    store.conn.close()
    pilot.app.open_detail(row[0])


async def _open_facility_form(pilot) -> None:
    pilot.app.open_form("facility")


async def _open_pin(pilot) -> None:
    from fieldapp.ui.screens.pin import PinModal

    app = pilot.app
    app.push_screen(PinModal(app.lang, app.ctx.config_dir, "lisupervisor", "pin_why_switch",
                             demo_pin="123456"))


async def _open_area_report(pilot) -> None:
    from textual.widgets import Input

    from fieldapp.ui.screens.report_dialog import ReportModal

    pilot.app.action_report_area()
    dialog = await wait_for_screen(pilot, ReportModal)
    # The default path lies in the test's temporary folder: the same name on every run.
    dialog.query_one("#report-path", Input).value = "区域报告.pdf"


SCREENS: list[Screen] = [
    Screen("home", [], home=True),
    Screen("sites", ["s"]),
    Screen("facilities", ["f"]),
    Screen("site_detail", ["s", "enter"]),
    Screen("facility_detail", ["f", "enter"]),
    Screen("inspection_detail", _open_first_inspection),
    Screen("site_form", ["n"]),
    Screen("facility_form", _open_facility_form),
    Screen("inspection_form", ["s", "enter", "i"]),
    Screen("attachments", ["s", "enter", "a"]),
    Screen("joint_review", ["s", "enter", "l"]),
    Screen("review", ["v"]),
    Screen("sync", ["f5"]),
    Screen("coverage", ["c"]),
    Screen("charts", ["c", "c"]),
    Screen("progress", ["j"]),
    Screen("map", ["s", "g"]),
    Screen("help", ["f1"]),
    Screen("pin", _open_pin),
    Screen("area_report", _open_area_report),
]

#: English words the program itself may show in Chinese mode: key names, units, codes.
ENGLISH_OK = {"esc", "tab", "enter", "ctrl", "space", "shift", "utc", "gps", "wgs", "gcj",
              "fieldapp", "demo", "enroll", "sync", "pdf", "jpeg", "png", "heic", "webp",
              "mb", "kb", "wangfang", "lisupervisor", "li", "english", "pin"}


def _checks(name: str, text: str, app, lang: str, home: bool) -> list[str]:  # noqa: ANN001
    problems = []
    screen = app.screen
    for table in screen.query(DataTable):
        if not table.display:
            continue
        for column in table.columns.values():
            label = column.label.plain
            room = column.get_render_width(table) - 2 * table.cell_padding
            if cell_len(label) > room:
                problems.append(f"{name}: column {label!r} cut to {room} cells")
    lines = text.rstrip("\n").split("\n")
    bottom = lines[-1] if lines else ""
    if isinstance(screen, ModalScreen):
        if not re.search(r"\bEsc\b", text, re.IGNORECASE):
            problems.append(f"{name}: the dialog does not say Esc closes it")
    else:
        if not home and "Esc" not in bottom:
            problems.append(f"{name}: the bottom bar does not show Esc: {bottom!r}")
        if "…" in bottom.split("●")[0]:
            problems.append(f"{name}: a key hint is cut: {bottom!r}")
    if lang == "zh":
        words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}
        stray = sorted(words - ENGLISH_OK)
        if stray:
            problems.append(f"{name}: English in Chinese mode: {stray}")
    return problems


def _check_snapshot(request, name: str, text: str) -> str | None:
    path = SNAPSHOTS / f"{name}.txt"
    if request.config.getoption("--snapshot-update", default=False):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return None
    if not path.exists():
        return f"{name}: no snapshot yet (run with --snapshot-update and look at it)"
    if path.read_text(encoding="utf-8") != text:
        return f"{name}: differs from {path.relative_to(Path(__file__).parent)}"
    return None


async def settle(pilot) -> None:
    """Workers done and their messages shown; no fixed sleeps (this test visits ~60 screens)."""
    for _ in range(2):
        await workers_done(pilot.app)
        await pilot.pause()
    # A DataTable sizes its columns to their content on a later refresh: until then they are
    # as wide as their labels (a snapshot once caught "天平" for 天平路第一1号网格).
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.05)


async def _go_home(pilot) -> None:
    app = pilot.app
    for _ in range(8):
        if isinstance(app.screen, HomeScreen):
            return
        if len(app.screen_stack) > 1:
            app.pop_screen()
        else:
            app.switch_mode("home")
        await pilot.pause()
    await wait_for_screen(pilot, HomeScreen)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_screen(size, lang, demo_template, tmp_path, request):
    data = copy_demo(demo_template, tmp_path / "data")
    app = make_app(data, lang)
    problems: list[str] = []
    async with app.run_test(size=size) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        for item in SCREENS:
            name = f"{item.name}-{size[0]}x{size[1]}-{lang}"
            await _go_home(pilot)
            if callable(item.open):
                await item.open(pilot)
                await settle(pilot)
            else:
                for key in item.open:
                    await pilot.press(key)
                    await settle(pilot)
            await settle(pilot)
            opened = type(app.screen)
            text = screen_text(app)
            problems += _checks(name, text, app, lang, item.home)
            problem = _check_snapshot(request, name, text)
            if problem:
                problems.append(problem)
            for _ in range(2):  # to the other language and back
                await pilot.press("ctrl+l")
                await settle(pilot)
                if type(app.screen) is not opened:
                    problems.append(f"{name}: Ctrl+L left {opened.__name__} for "
                                    f"{type(app.screen).__name__}")
            assert app.is_running, f"{name}: the app stopped"
    assert not problems, "\n".join(problems)
