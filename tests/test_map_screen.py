"""The map screen on the real app and demo data: `g` from a list, a record and a coverage
gap; keys pan, zoom and fit; Enter opens the nearest record; records without coordinates are
listed beside the map; snapshots at 80×24 and 120×40."""

from __future__ import annotations

import pytest

from fieldapp.domain.mapview import Frame, MapPoint, layers_from, nearest
from fieldapp.ui.screens.coverage import CoverageScreen
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.map import MapScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from fieldapp.ui.widgets.map_canvas import MapCanvas
from tests.conftest import complete_site
from tests.ui_support import copy_demo, make_app, open_store, settle, text_of, wait_for_screen


async def _open_map_from_sites(pilot) -> MapScreen:
    await wait_for_screen(pilot, HomeScreen)
    await pilot.press("s")
    await wait_for_screen(pilot, RecordListScreen)
    await pilot.press("g")
    screen = await wait_for_screen(pilot, MapScreen)
    await settle(pilot)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_map_snapshot(snap_compare, demo_template, tmp_path, size):
    app = make_app(copy_demo(demo_template, tmp_path / "data"), "zh")

    async def ready(pilot):
        await _open_map_from_sites(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)


async def test_keys_move_zoom_fit_and_enter_opens_the_nearest_record(demo):
    store = open_store(demo)
    store.save("site", complete_site(address="无坐标路1号", lat=None, lng=None))
    app = make_app(demo, "en")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_map_from_sites(pilot)
        canvas = screen.query_one(MapCanvas)
        first = app.screen.near
        assert first is not None and first.kind in ("site", "facility")
        start = (canvas.frame.lat, canvas.frame.lng, canvas.frame.metres_per_unit)
        await pilot.press("right", "right", "up")
        moved = (canvas.frame.lat, canvas.frame.lng)
        assert moved[1] > start[1] and moved[0] > start[0]
        await pilot.press("minus")
        assert canvas.frame.metres_per_unit == pytest.approx(start[2] * 2)
        await pilot.press("plus", "plus")
        assert canvas.frame.metres_per_unit == pytest.approx(start[2] / 2)
        await pilot.press("0")
        side = text_of(screen.query_one("#map-unplaced"))
        assert "without coordinates" in side and "无坐标路1号" in side
        assert "Legend" in text_of(screen.query_one("#map-legend"))
        assert "one cell" in text_of(screen.query_one("#map-info"))
        rows = "".join(strip.text for strip in canvas._lines)
        assert "●" in rows and "■" in rows
        await pilot.press("ctrl+l")  # the legend follows the language
        await settle(pilot)
        assert "图例" in text_of(screen.query_one("#map-legend"))
        lat, lng = canvas.frame.lat, canvas.frame.lng
        layers = screen.loaded.layers
        expected = nearest([*layers.facilities, *layers.sites], lat, lng)[0]
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record_id == expected.id


async def test_from_a_record_and_from_a_gap(demo):
    app = make_app(demo, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("f")
        await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("g")
        screen = await wait_for_screen(pilot, MapScreen)
        await settle(pilot)
        assert screen.near is not None and screen.near.id == detail.record.id
        canvas = screen.query_one(MapCanvas)
        assert any(style.color for *_, style in canvas.circles)  # its walking radius
        await pilot.press("escape", "escape", "escape")
        await pilot.press("c")
        coverage = await wait_for_screen(pilot, CoverageScreen)
        await settle(pilot)
        grid, scene = next((g.grid.code, s) for g in coverage.result.grids for s in g.missing
                           if g.grid.lat is not None)
        table = coverage.query_one("#cov-table")
        row = table.get_row_index(grid)
        from fieldapp.domain.coverage import SCENE_CODES

        table.move_cursor(row=row, column=4 + SCENE_CODES.index(scene))
        await pilot.press("g")
        screen = await wait_for_screen(pilot, MapScreen)
        await settle(pilot)
        assert screen.gap == (grid, scene)
        assert "可填补缺口的存量资源" in text_of(screen.query_one("#map-near"))
        assert "红圈" in text_of(screen.query_one("#map-legend"))
        assert len(screen.query_one(MapCanvas).circles) >= 1


def test_frame_round_trip_zoom_pan_and_nearest():
    frame = Frame.fit((31.19, 31.21, 121.43, 121.46), 100, 40, aspect=2.0)
    x, y = frame.to_box(31.2, 121.445)
    assert frame.to_geo(x, y) == pytest.approx((31.2, 121.445))
    assert frame.zoomed(2).metres_per_unit == pytest.approx(frame.metres_per_unit / 2)
    east = frame.panned(0.5, 0)
    assert east.lng > frame.lng and east.lat == pytest.approx(frame.lat)
    points = [MapPoint("a", "site", 31.2, 121.44, "a"), MapPoint("b", "site", 31.201, 121.44,
                                                                   "b")]
    assert nearest(points, 31.2009, 121.44)[0].id == "b"
    assert nearest(points, 31.25, 121.44, max_m=100) is None


def test_layers_keep_to_the_scope_and_list_what_has_no_point():
    from fieldapp.domain.coverage import FacilityIn, GridIn, SiteIn

    grids = [GridIn("g1", "一", 31.2, 121.44), GridIn("g2", "二", 31.3, 121.5)]
    facilities = [FacilityIn("f1", "g1", ("elderly",), lat=31.2, lng=121.44),
                  FacilityIn("f2", "g2", ("meal",), lat=31.3, lng=121.5)]
    sites = [SiteIn("s1", "g1", status="draft"), SiteIn("s2", "g2", lat=31.3, lng=121.5)]
    layers = layers_from(grids, facilities, sites, grid_codes={"g1"})
    assert [p.id for p in layers.points()] == ["g1", "f1"]
    assert [p.id for p in layers.unplaced] == ["s1"]
    assert layers.facilities[0].scene == "elderly"


def test_point_index_shows_what_a_view_can_hold():
    from fieldapp.domain.mapview import LEVELS_M, PointIndex

    points = [MapPoint(f"s{i}", "site", 31.2 + i * 1e-5, 121.44, "s") for i in range(100)]
    points.append(MapPoint("f", "facility", 31.2005, 121.44, "f"))
    points.append(MapPoint("far", "site", 31.3, 121.6, "far"))
    index = PointIndex(points, (31.2, 121.44))
    fine = index.visible(-500, 500, -500, 500, 10.0)
    assert len(fine) == 101  # every point near the origin, none far away
    coarse = index.visible(-5000, 5000, -5000, 5000, LEVELS_M[4])
    assert [p.id for *_, p in coarse] == ["f"]  # one per bucket, the facility first
    found = index.near(31.2005, 121.44, 30)
    assert found[0].id == "f" and found[1] < 1
    assert index.near(31.25, 121.5, 100) is None


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_global_key_on_the_map_screen(demo, size):
    """Each global key from the map leaves the app working, and the map comes back."""
    from fieldapp.ui.screens.help import HelpScreen

    app = make_app(demo, "en")
    async with app.run_test(size=size) as pilot:
        await _open_map_from_sites(pilot)
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, MapScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.lang == "zh" and "图例" in text_of(app.screen.query_one("#map-legend"))
        for key in ("f5", "v", "c", "n"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, MapScreen), key
            await pilot.press("escape")
            await wait_for_screen(pilot, MapScreen)
        for key in ("h", "f"):
            await pilot.press(key)
            await settle(pilot)
            await pilot.press("s")  # the sites list itself, not the map last opened from it
            await wait_for_screen(pilot, RecordListScreen)
            await pilot.press("g")
            await wait_for_screen(pilot, MapScreen)
        await pilot.press("slash")
        await wait_for_screen(pilot, RecordListScreen)
