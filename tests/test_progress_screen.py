"""The progress screen as a supervisor uses it: `j` from home opens it on the demo, the table
holds districts, streets and pilot communities, and the charts follow the street under the
cursor; the palette opens it too."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.progress import ProgressScreen
from tests.ui_support import make_app, wait_for_screen, wait_until


async def test_progress_screen_follows_the_street_under_the_cursor(demo):
    app = make_app(demo, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("j")
        screen = await wait_for_screen(pilot, ProgressScreen)
        await wait_until(pilot, lambda: screen.result is not None
                         and screen.query_one("#prog-table", DataTable).row_count > 0)
        table = screen.query_one("#prog-table", DataTable)
        result = screen.result
        assert table.row_count == (len(result.districts) + len(result.streets)
                                   + len(result.communities))
        summary = str(screen.query_one("#prog-summary", Static).render())
        assert f"试点社区 {len(result.communities)} 个" in summary
        last_street = result.streets[-1]
        table.move_cursor(row=table.get_row_index(last_street.children[0].code))
        await wait_until(pilot, lambda: last_street.name in str(
            screen.query_one("#prog-funnel", Static).render()))
        funnel = str(screen.query_one("#prog-funnel", Static).render())
        assert f"{last_street.sites}/{last_street.sites}" in funnel and "已开放" in funnel
        plan = str(screen.query_one("#prog-plan", Static).render())
        assert last_street.children[0].name in plan
        await pilot.press("escape")
        await wait_for_screen(pilot, HomeScreen)
        app.action_progress()
        await wait_for_screen(pilot, ProgressScreen)


async def test_a_user_whose_areas_hold_no_pilot_is_told_so(demo):
    """A worker of a grid outside every pilot community read "no pilot communities: flag them
    with fieldapp admin set-pilot" (an admin command) or a CLI flag; the screen says none is
    in their areas."""
    from tests.ui_support import open_store

    store = open_store(demo)
    user = store.setting("current_user") or "li"
    store.set_setting("current_user", user)
    store.set_setting(f"scopes:{user}", "310104003003G01")  # 天平路花园: not a pilot
    store.conn.close()
    app = make_app(demo, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("j")
        screen = await wait_for_screen(pilot, ProgressScreen)
        await wait_until(pilot, lambda: screen.result is not None)
        assert screen.result.communities == [] and screen.result.hidden > 0
        summary = str(screen.query_one("#prog-summary", Static).render())
        assert "您的负责范围内没有试点社区" in summary and "set-pilot" not in summary
