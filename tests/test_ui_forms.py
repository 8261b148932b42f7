"""Forms and records as a grid worker reads them: a refused save says nothing was saved, yes/no
answers read the same ticked or not, floors and dates as people write them, an inspection
names what it inspects (never a raw id), and history says each field from what to what."""

from __future__ import annotations

from fieldapp.store.records import Query
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_form import RecordFormScreen
from fieldapp.ui.widgets.yes_no import YesNo
from tests.conftest import GRID
from tests.screen_capture import screen_text
from tests.test_ui_flows import NEW_SITE, field, fill
from tests.ui_support import SIZE, make_app, open_store, settle, text_of, wait_for_screen


def _notes(app) -> str:  # noqa: ANN001
    return " ".join(str(n.message) for n in app._notifications)


async def test_a_refused_save_says_nothing_was_saved_and_what_each_field_expects(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        fill(form, {"grid_code": GRID, "address": "衡山路10号", "floor_from": "一楼",
                    "idle_since": "2024年13月5日", "owner_phone": "12345"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecordFormScreen)
        assert "未保存" in _notes(app) and "输入已暂存" in _notes(app)
        assert field(form, "floor_from").error == ""  # 一楼 is a floor
        assert "没有 13 月" in field(form, "idle_since").error
        assert "11 位手机号" in field(form, "owner_phone").error
    assert open_store(demo).find_by_address("site", "衡山路10号") == []


async def test_yes_no_answers_read_the_same_ticked_or_not(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        frontage = field(form, "street_frontage")
        control = frontage.control
        assert isinstance(control, YesNo) and frontage.raw_value() is None
        assert "未填" in str(control.render())
        control.focus()
        await pilot.press("space")
        assert frontage.raw_value() is True and "[✓] 是" in str(control.render())
        await pilot.press("space")
        assert frontage.raw_value() is False and "[ ] 否" in str(control.render())
        await pilot.press("delete")
        assert frontage.raw_value() is None


async def test_an_inspection_names_its_target_and_history_shows_from_and_to(demo):
    store = open_store(demo)
    site = store.query(Query(kind="site", status="draft"), limit=1)[0]
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        app.open_detail(site.id)
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("i")
        form = await wait_for_screen(pilot, RecordFormScreen)
        assert site.id not in screen_text(app)  # no raw id on the screen
        assert site.title in text_of(field(form, "target_id").control)
        await pilot.press("escape")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("e")
        form = await wait_for_screen(pilot, RecordFormScreen)
        old_area = form.values["usable_area"]
        fill(form, {**{k: v for k, v in NEW_SITE.items() if k in ("owner_name",)},
                    "usable_area": "321"})
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        await settle(pilot)
        history = text_of(detail.query_one("#detail-history"))
        assert f"可用面积: {old_area}㎡ → 321㎡" in history
