"""The grid worker's TUI driven through Pilot on a real demo database: search, filter, create
with a validation error fixed, duplicates, autosave restore after a restart, inspection,
language switch, paging, help and the command palette."""

from __future__ import annotations

import json

from textual.widgets import Input, OptionList

from fieldapp.store import lookups
from fieldapp.store.records import Query
from fieldapp.ui.screens.dialogs import DuplicateModal, RestoreDraftModal
from fieldapp.ui.screens.help import HelpScreen
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_form import RecordFormScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from fieldapp.ui.widgets.field_input import FieldInput
from fieldapp.ui.widgets.record_table import PAGE_SIZE, EdgeTable
from tests.conftest import GRID
from tests.ui_support import (
    SIZE,
    make_app,
    open_store,
    settle,
    text_of,
    wait_for_screen,
    wait_until,
)


def field(screen, name: str) -> FieldInput:
    return screen.query_one(f"#field-{name}", FieldInput)


async def type_into(pilot, screen, name: str, text: str) -> None:
    control = field(screen, name).control
    control.focus()
    control.value = ""
    await pilot.pause()
    await pilot.press(*text)


def fill(screen, values: dict) -> None:
    for name, value in values.items():
        field(screen, name).set_value(value)


NEW_SITE = {
    "grid_code": GRID, "address": "衡山路8号", "source_type": "storefront", "floor_from": "1",
    "ownership_type": "state", "owner_name": "徐汇区房屋管理局", "owner_consent": "agreed",
    "structure_condition": "good", "fire_condition": "good",
    "candidate_functions": ["elderly", "meal"],
}


def table_ids(screen) -> list[str]:
    table = screen.query_one(EdgeTable)
    return [row.id for row in table.rows]


async def test_home_shows_counts_sync_and_returned_records(demo):
    store = open_store(demo)
    counts = store.counts_by_kind()
    returned = lookups.returned(store.conn)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_screen(pilot, HomeScreen)
        text = text_of(screen.query_one("#home-counts"))
        assert str(sum(counts["site"].values())) in text
        assert str(counts["site"]["returned"]) in text
        assert f"待同步: {store.pending_count()}" in text_of(screen.query_one("#home-sync"))
        options = screen.query_one("#home-returned", OptionList)
        assert options.option_count == len(returned) > 0
        assert options.get_option_at_index(0).id == returned[0].id
        options.focus()
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert returned[0].review_comment in text_of(detail.query_one("#detail-comment"))


async def test_two_character_chinese_search_then_open_detail(demo):
    expected = open_store(demo).count(Query(kind="site", search="养老"))
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("slash")
        screen = await wait_for_screen(pilot, RecordListScreen)
        assert isinstance(app.focused, Input)
        await pilot.press("养", "老")
        assert 0 < expected < 600
        await wait_until(pilot, lambda: f"{expected} 条" in text_of(screen.query_one("#list-info"))
                         and len(table_ids(screen)) == min(expected, PAGE_SIZE))
        await pilot.press("enter")  # from the search box to the table
        first = table_ids(screen)[0]
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record.id == first
        fields_text = text_of(detail.query_one("#detail-fields"))
        assert detail.record.data["address"] in fields_text
        assert "养老" in detail.record.data.get("notes", "") + detail.record.data.get(
            "current_use", "") + detail.record.data.get("owner_name", "")


async def test_filter_by_status_and_source_type(demo):
    store = open_store(demo)
    expected = store.count(Query(kind="site", status="returned", source_type="storefront"))
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        screen.query_one("#f-status").value = "returned"
        screen.query_one("#f-source").value = "storefront"
        await settle(pilot)
        ids = table_ids(screen)
        assert len(ids) == expected > 0
        assert all(store.get(i).status == "returned" for i in ids)
        assert all(store.get(i).data["source_type"] == "storefront" for i in ids)
        await pilot.press("x")  # clear filters
        await settle(pilot)
        assert len(table_ids(screen)) == PAGE_SIZE


async def test_paging_fetches_only_one_page_at_a_time(demo):
    store = open_store(demo)
    total = store.count(Query(kind="site"))
    second = [r.id for r in store.query(Query(kind="site"), limit=PAGE_SIZE, offset=PAGE_SIZE)]
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        assert f"{total} 条" in text_of(screen.query_one("#list-info"))
        screen.query_one(EdgeTable).focus()
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert table_ids(screen) == second
        assert "第 2 页" in text_of(screen.query_one("#list-info"))
        await pilot.press("up")  # off the top edge: back to page 1, cursor on its last row
        await settle(pilot)
        table = screen.query_one(EdgeTable)
        assert "第 1 页" in text_of(screen.query_one("#list-info"))
        assert table.cursor_row == PAGE_SIZE - 1


async def test_submit_refuses_an_incomplete_site_but_a_draft_saves(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        fill(form, {"grid_code": GRID, "address": "衡山路9号"})
        await pilot.press("f9")
        await settle(pilot)
        assert "提交前必须填写" in field(form, "owner_name").error
        assert "处需要修改" in text_of(form.query_one("#form-summary"))
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, HomeScreen)
    saved = open_store(demo).find_by_address("site", "衡山路9号")
    assert [r.status for r in saved] == ["draft"]


async def test_duplicate_address_warns_and_opens_the_other_record(demo):
    store = open_store(demo)
    other = store.query(Query(kind="site"), limit=1)[0]
    # Same address written another way: full-width digits.
    address = other.data["address"].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        fill(form, {**NEW_SITE, "address": address, "usable_area": "80"})
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        modal = await wait_for_screen(pilot, DuplicateModal)
        assert other.id in [m[0].id for m in modal.matches]
        modal.query_one("#open").press()
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record.id == other.id
        await pilot.press("escape")
        form = await wait_for_screen(pilot, RecordFormScreen)
        await pilot.press("ctrl+s")
        modal = await wait_for_screen(pilot, DuplicateModal)
        modal.query_one("#save").press()
        await wait_for_screen(pilot, HomeScreen)
    pair = open_store(demo).find_by_address("site", other.data["address"])
    assert len(pair) == 2
    mine = next(r for r in pair if r.id != other.id)

    # "Not a duplicate" is remembered: a later edit of the same record saves without asking.
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        app.open_form("site", mine.id)
        form = await wait_for_screen(pilot, RecordFormScreen)
        fill(form, {"usable_area": "95"})
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, HomeScreen)
        assert not isinstance(app.screen, DuplicateModal)
    assert open_store(demo).get(mine.id).data["usable_area"] == 95


async def test_nearby_coordinates_count_as_possible_duplicates(demo):
    store = open_store(demo)
    other = store.query(Query(kind="site"), limit=1)[0]
    found = lookups.nearby(store.conn, "site", other.data["lat"] + 0.0001, other.data["lng"])
    assert other.id in [r.id for r, metres in found if 10 < metres < 12]
    assert lookups.nearby(store.conn, "site", other.data["lat"], other.data["lng"],
                          exclude_id=other.id, metres=0.01) == []


async def test_autosaved_input_is_offered_back_after_a_restart(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        await type_into(pilot, form, "address", "漕溪北路77号")
        field(form, "source_type").set_value("office")
        reader = open_store(demo)  # what a restarted app would find, read while typing goes on
        await wait_until(pilot, lambda: (lookups.load_form_draft(reader.conn, "site", None)
                                         or lookups.FormDraft("", "", None, {}, "")).data.get(
            "source_type") == "office")
        # The app "dies" here: no save, no Escape.
    kept = lookups.load_form_draft(open_store(demo).conn, "site", None)
    assert kept is not None and kept.data["address"] == "漕溪北路77号"

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        modal = await wait_for_screen(pilot, RestoreDraftModal)
        modal.query_one("#restore").press()
        form = await wait_for_screen(pilot, RecordFormScreen)
        assert field(form, "address").raw_value() == "漕溪北路77号"
        assert field(form, "source_type").raw_value() == "office"
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, HomeScreen)
    store = open_store(demo)
    assert store.find_by_address("site", "漕溪北路77号")[0].data["source_type"] == "office"
    assert lookups.load_form_draft(store.conn, "site", None) is None


async def test_record_an_inspection_of_a_facility(demo):
    store = open_store(demo)
    facility = store.query(Query(kind="facility"), limit=1)[0]
    before = len(lookups.inspections_of(store.conn, facility.id))
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        screen = await wait_for_screen(pilot, RecordListScreen)
        assert table_ids(screen)[0] == facility.id
        screen.query_one(EdgeTable).focus()
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("i")
        form = await wait_for_screen(pilot, RecordFormScreen)
        assert field(form, "target_id").raw_value() == facility.id
        assert field(form, "grid_code").readonly
        fill(form, {"structure": "ok", "fire_safety": "issue", "accessibility": "ok",
                    "elevator": "na", "equipment": "ok", "cleanliness": "ok",
                    "open_issues": "灭火器过期"})
        await pilot.press("f9")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        options = detail.query_one("#detail-inspections", OptionList)
        assert "灭火器过期" in str(options.get_option_at_index(0).prompt)
        options.focus()
        await pilot.press("enter")  # the new inspection, then back to what it inspected
        inspection = await wait_for_screen(pilot, RecordDetailScreen)
        assert inspection.record.kind == "inspection"
        assert facility.title in text_of(inspection.query_one("#detail-title"))
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordDetailScreen)
                         and app.screen.record is not None and app.screen.record.id == facility.id)
    inspections = lookups.inspections_of(open_store(demo).conn, facility.id)
    assert len(inspections) == before + 1
    assert inspections[0].data["fire_safety"] == "issue"
    assert inspections[0].status == "submitted"


async def test_edit_shows_history_and_sync_state(demo):
    store = open_store(demo)
    site = store.query(Query(kind="site", status="draft"), limit=1)[0]
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        app.open_detail(site.id)
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("e")
        form = await wait_for_screen(pilot, RecordFormScreen)
        fill(form, {"current_use": "空置待租"})
        await pilot.press("ctrl+s")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        history = text_of(detail.query_one("#detail-history"))
        assert "修改" in history and "现状用途" in history
        assert "尚未上传" in text_of(detail.query_one("#detail-sync"))
    changes = json.loads(open_store(demo).history(site.id)[-1]["changes"])
    assert changes["current_use"][1] == "空置待租"


async def test_switch_to_english_is_remembered(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_screen(pilot, HomeScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert "Counts by status" in text_of(app.screen.query_one(".section-title"))
        assert "Waiting to sync" in text_of(app.screen.query_one("#home-sync"))
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        assert "records" in text_of(screen.query_one("#list-info"))
        assert screen.query_one(EdgeTable).columns[1].label == "Address"
    assert open_store(demo).setting("lang") == "en"
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        assert app.lang == "en"


async def test_help_palette_and_sync_status_hook(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, HomeScreen)
        from fieldapp.ui.commands import FieldCommands

        provider = FieldCommands(app.screen)
        hits = [hit async for hit in provider.search("新建存量")]
        assert hits and "New site" in hits[0].text
        hits[0].command()
        await wait_for_screen(pilot, RecordFormScreen)
        app.set_sync_status("online", pending=3)
        await pilot.pause()
        bar = text_of(app.screen.query_one("StatusBar"))
        assert "在线" in bar and "待同步 3" in bar


async def test_coverage_key_opens_coverage_with_the_demo_grids(demo):
    from fieldapp.ui.screens.coverage import CoverageScreen

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("c")
        screen = await wait_for_screen(pilot, CoverageScreen)
        table = screen.query_one("#cov-table")
        await wait_until(pilot, lambda: table.row_count > 0)  # the analysis came back
        assert not any("覆盖分析模块" in n.message for n in app._notifications)


async def test_sync_status_reported_before_start_and_from_a_thread(demo):
    import threading

    app = make_app(demo)
    app.set_sync_status("syncing")  # the sync thread may report before the app runs
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        assert app.sync_status == "syncing"
        worker = threading.Thread(target=app.set_sync_status, args=("online",),
                                  kwargs={"pending": 0, "last_sync_at": "2026-01-02T03:04:00"})
        worker.start()
        worker.join(5)
        await settle(pilot)
        # The home screen recounts after a sync; the outbox, not the report, has the last word.
        assert app.sync_status == "online"
        assert app.pending == open_store(demo).pending_count()
        assert "2026-01-02 11:04" in text_of(app.screen.query_one("#home-sync"))


async def test_language_switch_in_a_form_keeps_what_was_typed(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        await type_into(pilot, form, "address", "宛平南路3号")
        field(form, "candidate_functions").set_value(["childcare"])
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: "Notes" in text_of(
            field(form, "notes").query_one(".field-label")))  # the last, lazily built section
        assert field(form, "address").raw_value() == "宛平南路3号"
        assert field(form, "candidate_functions").raw_value() == ["childcare"]
        assert "Address" in text_of(field(form, "address").query_one(".field-label"))
        assert app.lang == "en"


async def test_back_from_a_record_keeps_the_list_cursor(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        await pilot.press("down", "down", "down")
        wanted = table_ids(screen)[3]
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record.id == wanted
        await pilot.press("escape")
        await wait_for_screen(pilot, RecordListScreen)
        await wait_until(pilot, lambda: screen.query_one(EdgeTable).cursor_row == 3)


async def test_gcj02_coordinates_are_stored_as_wgs84_and_shown_back_as_typed(demo):
    from fieldapp.domain.geo import gcj02_to_wgs84

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        app.action_new_facility()
        form = await wait_for_screen(pilot, RecordFormScreen)
        fill(form, {"name": "天平路社区食堂", "grid_code": GRID, "address": "天平路300号",
                    "lat": "31.2080", "lng": "121.4480", "coord_system": "gcj02",
                    "facility_kind": "single", "functions": ["meal"], "building_area": "150",
                    "staggered_use": True})
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, HomeScreen)
        store = open_store(demo)
        saved = store.find_by_address("facility", "天平路300号")[0]
        lat, lng = gcj02_to_wgs84(31.2080, 121.4480)
        assert abs(saved.data["lat"] - lat) < 1e-6 and abs(saved.data["lng"] - lng) < 1e-6
        assert saved.data["functions"] == ["meal"] and saved.data["staggered_use"] is True
        app.open_form("facility", saved.id)
        form = await wait_for_screen(pilot, RecordFormScreen)
        assert field(form, "lat").raw_value() == "31.208000"
        fill(form, {"operator": "街道自营"})
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, HomeScreen)
    again = open_store(demo).get(saved.id)
    assert again.data["lat"] == saved.data["lat"] and again.data["operator"] == "街道自营"


async def test_quitting_inside_the_autosave_pause_still_keeps_the_input(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        await type_into(pilot, form, "address", "零陵路5号")
        await pilot.press("ctrl+q")  # at once, before the half-second autosave
    kept = lookups.load_form_draft(open_store(demo).conn, "site", None)
    assert kept is not None and kept.data["address"] == "零陵路5号"


async def test_what_is_typed_right_after_slash_reaches_the_search_box(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        # As if "/" had just been pressed and the list screen were still being built.
        app.search_pending, app.search_typed = True, ""
        await pilot.press("天", "平", "s")  # "s" is typed text here, not "go to sites"
        assert app.search_typed == "天平s" and isinstance(app.screen, HomeScreen)
        app.switch_mode("sites")
        screen = await wait_for_screen(pilot, RecordListScreen)
        await wait_until(pilot, lambda: screen.query_one("#search", Input).value == "天平s"
                         and app.focused is screen.query_one("#search", Input))
        assert not app.search_pending
