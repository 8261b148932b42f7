"""The bottom bar tells a worker about conflicts waiting and when the last sync succeeded."""

from __future__ import annotations

from textual.widgets import OptionList

from fieldapp.ui.widgets.status_bar import StatusBar
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry, sqlite_only  # noqa: F401  (fixtures)
from tests.ui_support import SIZE, make_app, settle, text_of


@sqlite_only
async def test_status_bar_shows_open_conflicts_and_last_sync(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    for laptop in (a, b):
        laptop.sync()
    site = a.store.save("site", complete_site())
    a.sync()
    b.sync()
    a.store.save("site", {"usable_area": 150}, record_id=site.id)
    b.store.save("site", {"usable_area": 180}, record_id=site.id)
    a.sync()
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
