"""The bottom bar tells a worker about conflicts waiting and when the last sync succeeded."""

from __future__ import annotations

from textual.widgets import OptionList

from fieldapp.ui.widgets.status_bar import StatusBar
from tests.sync_helpers import (  # noqa: F401  (fixtures)
    laptops,
    registry,
    same_field_edited_on_both,
    sqlite_only,
)
from tests.ui_support import SIZE, make_app, settle, text_of


@sqlite_only
async def test_status_bar_shows_open_conflicts_and_last_sync(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    same_field_edited_on_both(a, b)
    assert b.sync().conflicts == 1
    b.close()
    app = make_app(b.home)
    async with app.run_test(size=SIZE) as pilot:
        app.refresh_pending()
        await settle(pilot)
        bar = text_of(app.screen.query_one(StatusBar))
        assert "冲突 1" in bar and "上次同步" in bar, bar


async def test_a_new_laptop_says_how_to_get_grids(tmp_path):
    app = make_app(tmp_path / "new-laptop")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        grids = app.screen.query_one("#home-grids", OptionList)
        text = str(grids.get_option_at_index(0).prompt)
        assert "fieldapp enroll" in text and "fieldapp demo" in text
