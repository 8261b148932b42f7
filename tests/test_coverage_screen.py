"""The coverage screen driven with Pilot inside a tiny host app, on a real SQLite store."""

from __future__ import annotations

from textual.app import App
from textual.widgets import DataTable

from fieldapp.demo import populate
from fieldapp.domain.coverage import SCENE_CODES
from fieldapp.store.coverage_load import analyse_store
from fieldapp.ui.screens.coverage import CoverageScreen
from tests.conftest import GRID, complete_site

ELDERLY_COL = 4 + SCENE_CODES.index("elderly")


class Host(App):
    def __init__(self, screen: CoverageScreen) -> None:
        super().__init__()
        self.coverage = screen

    def on_mount(self) -> None:
        self.push_screen(self.coverage)


async def settle(app, pilot) -> None:
    """Wait for the analysis worker and the table it fills."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def grid_centre(store, code):
    return store.conn.execute("SELECT lat, lng FROM area WHERE code = ?", (code,)).fetchone()


async def test_drill_down_shows_the_site_that_could_take_elderly_care(store):
    lat, lng = grid_centre(store, GRID)
    store.save("site", complete_site(lat=lat + 0.0005, lng=lng, usable_area=200,
                                     candidate_functions=["elderly"]))
    store.save("site", complete_site(address="天平路102号", lat=lat, lng=lng, floor_from=-1,
                                     candidate_functions=["childcare"]))
    screen = CoverageScreen(store, lang="zh", area="310104003")
    app = Host(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = screen.query_one("#cov-table", DataTable)
        assert table.row_count == 9  # the street's grids
        assert table.get_cell(GRID, "elderly").plain == "✗"  # no facilities at all
        row = table.get_row_index(GRID)
        table.move_cursor(row=row, column=ELDERLY_COL)
        await pilot.press("enter")
        await pilot.pause()
        assert "缺少养老服务(300 米内无设施)" in screen.detail_text
        assert " 1. [+" in screen.detail_text and "天平路100号" in screen.detail_text
        assert "距网格中心 56 米" in screen.detail_text  # 0.0005° of latitude ≈ 55.6 m

        table.move_cursor(row=row, column=ELDERLY_COL + 1)  # childcare
        await pilot.press("enter")
        await pilot.pause()
        assert "地下室不可用于托育服务(宝宝屋)" in screen.detail_text
        assert "附近没有可承载的存量资源" in screen.detail_text

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen


async def test_table_filter_and_chart_match_the_analysis(store):
    populate(store, 400)
    result = analyse_store(store)
    screen = CoverageScreen(store, lang="en")
    app = Host(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = screen.query_one("#cov-table", DataTable)
        assert table.row_count == len(result.grids)
        assert str(table.columns["elderly"].label) == "elder"
        for g in result.grids[:30]:
            marks = [table.get_cell(g.grid.code, s).plain for s in SCENE_CODES]
            assert marks == ["✓" if s in g.covered else "✗" for s in SCENE_CODES]

        table.move_cursor(row=0, column=ELDERLY_COL)
        await pilot.press("m")
        await pilot.pause()
        lacking = result.lacking("elderly")
        assert table.row_count == len(lacking) > 0
        assert f"only grids lacking Elderly care ({len(lacking)})" in screen.detail_text
        first = lacking[0].grid
        await pilot.press("enter")
        await pilot.pause()
        expected = result.candidates(first.code, "elderly")
        assert f"{first.name} lacks Elderly care" in screen.detail_text
        for n, c in enumerate(expected, 1):
            assert f" {n}. [{c.score:+d}]" in screen.detail_text

        await pilot.press("c")
        await pilot.pause()
        assert screen.has_class("charts")
        street = next(r for r in result.streets if r.code == first.street)
        assert screen.chart_counts["functions"] == street.covered
        street_grids = {g.grid.code for g in result.grids if g.grid.street == first.street}
        assert sum(screen.chart_counts["status"].values()) == sum(
            1 for s in result.sites if s.grid in street_grids)

        await pilot.press("m")  # filter off again
        await pilot.pause()
        assert table.row_count == len(result.grids)


async def test_recompute_after_a_change_and_a_bad_norms_file(store, tmp_path):
    lat, lng = grid_centre(store, GRID)
    (tmp_path / "norms.toml").write_text("[radius_m]\nelderly = 'near'\n", encoding="utf-8")
    screen = CoverageScreen(store, lang="en", area=GRID)
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        summary = str(screen.query_one("#cov-summary").render())
        assert "cannot analyse" in summary and "radius_m.elderly" in summary
        table = screen.query_one("#cov-table", DataTable)
        assert table.row_count == 0

        (tmp_path / "norms.toml").write_text("[radius_m]\nelderly = 400\n", encoding="utf-8")
        store.save("facility", {"name": "天平路长者照护之家", "grid_code": GRID,
                                "address": "天平路1号", "facility_kind": "single",
                                "functions": ["elderly"], "building_area": 300,
                                "lat": lat + 0.0035, "lng": lng})  # ≈ 389 m north
        await pilot.press("r")
        await settle(app, pilot)
        assert table.row_count == 1
        assert table.get_cell(GRID, "elderly").plain == "✓"  # within 400 m, not 300 m
        assert str(tmp_path / "norms.toml") in str(screen.query_one("#cov-summary").render())


async def test_opens_on_grids_lacking_a_function_and_follows_a_language_switch(store):
    populate(store, 300)
    result = analyse_store(store, "310104")
    lacking = result.lacking("elderly")
    screen = CoverageScreen(store, lang="zh", area="310104", function="dementia_care")
    app = Host(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = screen.query_one("#cov-table", DataTable)
        assert table.row_count == len(lacking) > 0
        assert table.cursor_coordinate.column == ELDERLY_COL
        assert f"只显示缺少养老服务的网格 ({len(lacking)} 个)" in screen.detail_text
        await pilot.press("enter")
        await pilot.pause()
        assert "缺少养老服务" in screen.detail_text

        app.lang = "en"  # what FieldApp does on ctrl+l before calling relabel()
        screen.relabel()
        await pilot.pause()
        assert "lacks Elderly care (no facility within 300 m)" in screen.detail_text
        assert str(table.columns["elderly"].label) == "elder"
        assert table.cursor_coordinate.column == ELDERLY_COL
