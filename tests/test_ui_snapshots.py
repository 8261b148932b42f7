"""Snapshots of the main screens in Chinese and English on the fixed-seed demo data.

Nothing on these screens depends on the clock: demo dates are fixed, no sync has happened
("never"), and the form starts empty. Regenerate with `pytest --snapshot-update` after a
deliberate change and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_form import RecordFormScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from tests.ui_support import (
    SIZE,
    copy_demo,
    make_app,
    wait_for_screen,
)


@pytest.fixture(params=["zh", "en"])
def lang_app(request, demo_template, tmp_path):
    return make_app(copy_demo(demo_template, tmp_path / "data"), request.param)


def test_home(snap_compare, lang_app):
    async def ready(pilot):
        await wait_for_screen(pilot, HomeScreen)

    assert snap_compare(lang_app, terminal_size=SIZE, run_before=ready)


def test_sites_list(snap_compare, lang_app):
    async def ready(pilot):
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, RecordListScreen)

    assert snap_compare(lang_app, terminal_size=SIZE, run_before=ready)


def test_site_form(snap_compare, lang_app):
    async def ready(pilot):
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("n")
        await wait_for_screen(pilot, RecordFormScreen)

    assert snap_compare(lang_app, terminal_size=SIZE, run_before=ready)


def test_site_detail(snap_compare, lang_app):
    async def ready(pilot):
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)

    assert snap_compare(lang_app, terminal_size=SIZE, run_before=ready)
