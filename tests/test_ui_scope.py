"""The one scope rule in the TUI: a worker whose scope is one street sees that street's records
in her lists, counts and returned records (newest first, her own), and only its grids in the
filters — the laptop may hold more, as the demo's 600 records across districts do."""

from __future__ import annotations

from fieldapp.store import lookups
from fieldapp.store.records import Query
from fieldapp.store.scope import user_scope
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from fieldapp.ui.widgets.record_table import RecordTable
from tests.conftest import GRID, complete_site
from tests.ui_support import SIZE, make_app, open_store, settle, text_of, wait_for_screen

STREET = "310104003"  # 天平路街道


def scoped_worker(demo) -> tuple[int, int]:
    """wangfang's scope is one street; returns (site records in it, all local sites)."""
    store = open_store(demo)
    store.set_setting("scopes:wangfang", STREET)
    inside = store.count(Query(kind="site", scope=user_scope(store).grids))
    everything = store.count(Query(kind="site"))
    # Her own record returned today, and an old return of someone else's in her street.
    mine = store.save("site", complete_site(address="天平路1号"), status="submitted")
    reviewer = open_store(demo)
    reviewer.user, reviewer.role = "li", "supervisor"
    reviewer.save("site", {}, record_id=mine.id, status="returned", comment="今天退回的")
    store.conn.close()
    return inside + 1, everything + 1


async def test_a_worker_sees_her_street_only(demo):
    inside, everything = scoped_worker(demo)
    assert 0 < inside < everything
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        home = await wait_for_screen(pilot, HomeScreen)
        counts = text_of(home.query_one("#home-counts"))
        assert str(everything) not in counts.split()  # not the laptop's total
        returned = home.query_one("#home-returned")
        first = returned.get_option_at_index(0)
        assert "天平路1号" in str(first.prompt)  # today's own return on top
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        await settle(pilot)
        assert f"{inside} " in text_of(screen.query_one("#list-info"))
        table = screen.query_one(RecordTable)
        store = open_store(demo)
        grids = {store.get(row.id).grid_code for row in table.rows}
        assert grids and all(g.startswith(STREET) for g in grids)
        codes = [code for _, code in app.area_options()]
        assert GRID in codes and all(c.startswith(STREET) for c in codes)


def test_returned_records_newest_first_in_scope(demo):
    scoped_worker(demo)
    store = open_store(demo)
    scope = user_scope(store).grids
    back = lookups.returned(store.conn, scope=scope, author="wangfang")
    assert back[0].title == "天平路1号"
    assert all(r.grid_code in scope for r in back)
    stamps = [r.updated_at for r in back]
    assert stamps == sorted(stamps, reverse=True)
