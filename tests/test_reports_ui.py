"""Reports from the app: `p` on a record makes its ledger, the palette's area report makes
the area's; both in a worker with progress, and the file can be opened when done."""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Button, Input, ProgressBar

from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from fieldapp.ui.screens.report_dialog import ReportModal
from tests.ui_support import make_app, text_of, wait_for_screen, wait_until


async def _make(pilot, modal: ReportModal, path) -> str:
    modal.query_one("#report-path", Input).value = str(path)
    # A try after a refused one: the wait below must not see the earlier refusal's mark.
    modal.query_one("#report-status").remove_class("-error")
    # Enter in the file name box, as a person types it (a click on 生成 sometimes missed it
    # when another dialog had been laid out before).
    modal.query_one("#report-path", Input).focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: modal.written is not None or "-error" in
                     modal.query_one("#report-status").classes, timeout=60)
    return text_of(modal.query_one("#report-status"))


async def test_ledger_from_the_detail_screen_and_area_report_from_the_palette(
        demo, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("fieldapp.compat.files.open_with_desktop",
                        lambda path: opened.append(path) or True)
    app = make_app(demo, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("p")
        modal = await wait_for_screen(pilot, ReportModal)
        assert str(modal.query_one("#report-path", Input).value).endswith(".pdf")
        status = await _make(pilot, modal, tmp_path / "台账")
        assert "已生成" in status and (tmp_path / "台账.pdf").exists()
        assert modal.query_one(ProgressBar).progress == 100
        await pilot.press("enter")  # the open button has the focus once the file is written
        assert opened == [tmp_path / "台账.pdf"]
        await pilot.press("escape")
        await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record is not None

        app.action_report_area()
        modal = await wait_for_screen(pilot, ReportModal)
        modal.query_one("#report-area", Input).value = "nosuch"
        status = await _make(pilot, modal, tmp_path / "报告.pdf")
        assert "unknown area code" in status and modal.written is None
        assert not modal.query_one("#report-make", Button).disabled  # try again
        modal.query_one("#report-area", Input).value = "310104003"
        status = await _make(pilot, modal, tmp_path / "报告.pdf")
        assert "已生成" in status and (tmp_path / "报告.pdf").stat().st_size > 10_000
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(["pdftotext", str(tmp_path / "台账.pdf"), "-"],
                              capture_output=True, check=True).stdout.decode("utf-8")
        assert detail.record.title in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_palette_lists_map_and_area_report(demo, lang):
    from fieldapp.ui.commands import ACTIONS
    from fieldapp.ui.i18n import t

    names = {key for key, _ in ACTIONS}
    assert {"map", "report_area"} <= names
    assert t("report_area", lang) and t("map", lang)
