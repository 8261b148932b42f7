"""Getting around by keyboard: `s`, `f`, `/` bring the list itself (not the record last opened
from it), keys typed fast after `/` are kept as the search, and typing Chinese on a list
searches without pressing `/` first."""

from __future__ import annotations

from textual.widgets import Input

from fieldapp.store.records import Query
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from fieldapp.ui.widgets.record_table import PAGE_SIZE, RecordTable
from tests.ui_support import SIZE, make_app, open_store, settle, wait_for_screen, wait_until


async def test_s_f_and_slash_open_the_lists_not_the_record_last_viewed(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("h")
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, RecordListScreen)  # was: the detail again

        await pilot.press("f")
        await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("f")  # from the record itself
        await settle(pilot)
        assert isinstance(app.screen, RecordListScreen) and app.screen.kind == "facility"

        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("slash", "1", "2")  # typed before the list is there
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecordListScreen) and screen.kind == "site"
        search = screen.query_one("#search", Input)
        assert app.focused is search and search.value == "12"


async def test_keys_for_other_places_are_not_typed_into_the_search(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("h", "f", "slash")
        await settle(pilot)
        search = app.screen.query_one("#search", Input)
        assert search.value == ""  # not "hf"
        await pilot.press("escape")  # back to the table, search empty
        await settle(pilot)
        assert isinstance(app.focused, RecordTable)


async def test_typing_chinese_on_a_list_searches(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        table = screen.query_one(RecordTable)
        assert app.focused is table
        before = table.row_count
        await pilot.press("衡", "山")
        search = screen.query_one("#search", Input)
        assert app.focused is search and search.value == "衡山"
        expected = [r.id for r in open_store(demo).query(Query(kind="site", search="衡山"),
                                                           limit=PAGE_SIZE)]
        await wait_until(pilot, lambda: [r.id for r in table.rows] == expected)
        assert 0 < len(expected) < before


async def test_typing_asks_at_once_and_folds_keys_typed_while_a_page_is_on_its_way(demo,
                                                                                  monkeypatch):
    """No fixed debounce: the first key is searched at once; keys typed while that page is
    being read are asked for once, with the latest text, when it lands."""
    import time

    from fieldapp.store.records import RecordStore

    asked: list[str | None] = []
    real_query = RecordStore.query

    def slow_query(self, q, *args, **kwargs):  # noqa: ANN001
        if q.search:
            asked.append(q.search)
            time.sleep(0.8)  # a page that takes its time, so the next keys come meanwhile
        return real_query(self, q, *args, **kwargs)

    monkeypatch.setattr(RecordStore, "query", slow_query)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        table = screen.query_one(RecordTable)
        await pilot.press("天")
        await wait_until(pilot, lambda: asked == ["天"])
        await pilot.press("平")
        await pilot.pause(0.1)  # longer than any debounce: still folded, the page is not in
        await pilot.press("路")
        expected = [r.id for r in real_query(open_store(demo), Query(kind="site",
                                                                     search="天平路"),
                                             limit=PAGE_SIZE)]
        await wait_until(pilot, lambda: [r.id for r in table.rows] == expected, timeout=5)
        await settle(pilot)
        assert asked == ["天", "天平路"]  # not one query per key
