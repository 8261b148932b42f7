"""The issue's "done when", by keyboard alone: find a site by a two-character query, add an
idle storefront fixing a validation error on the way, meet the duplicate warning, record an
inspection of a facility, and find it all again after the app was closed and restarted; at
120×40 and at 80×24."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from fieldapp.store import lookups
from fieldapp.store.records import Query
from fieldapp.ui.screens.dialogs import DuplicateModal
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.screens.record_form import RecordFormScreen
from fieldapp.ui.screens.record_list import RecordListScreen
from fieldapp.ui.widgets.field_input import FieldInput
from fieldapp.ui.widgets.record_table import EdgeTable
from tests.ui_support import (
    SIZE,
    make_app,
    open_store,
    text_of,
    wait_for_screen,
    wait_until,
)

ADDRESS = "衡山路88号"
GRID_FILTER = "天平"  # the first grid whose name has it: 天平路第一1号网格


def _field_of(node) -> FieldInput | None:
    return next((n for n in (node.ancestors_with_self if node else [])
                 if isinstance(n, FieldInput)), None)


async def tab_to(pilot, name: str) -> None:
    """Press Tab (or Shift+Tab, whichever is nearer) until the focus is in field `name`.

    The presses are counted on the screen's focus chain and sent in one go, then checked.
    """
    chain = pilot.app.screen.focus_chain
    target = next(i for i, node in enumerate(chain)
                  if (owner := _field_of(node)) is not None and owner.spec.name == name)
    here = chain.index(pilot.app.focused) if pilot.app.focused in chain else -1
    steps = target - here
    await pilot.press(*(["tab"] * steps if steps > 0 else ["shift+tab"] * -steps))
    owner = _field_of(pilot.app.focused)
    assert owner is not None and owner.spec.name == name, f"Tab never reached {name}"


async def pick_grid(pilot, text: str) -> None:
    await pilot.press("enter", *text)
    await pilot.pause(0.2)
    await pilot.press("enter")
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
async def test_a_newcomer_does_the_whole_round_by_keyboard(demo, size):
    store = open_store(demo)
    other = store.query(Query(kind="site"), limit=1)[0]
    facility = store.query(Query(kind="facility"), limit=1)[0]
    app = make_app(demo)
    async with app.run_test(size=size) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        # 1. a two-character Chinese search, open the first hit, come back
        await pilot.press("slash", "养", "老")
        screen = await wait_for_screen(pilot, RecordListScreen)
        await wait_until(pilot, lambda: screen.query_one(EdgeTable).row_count > 0
                         and "条" in text_of(screen.query_one("#list-info")))
        await pilot.press("enter", "enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, RecordListScreen)

        # 2. a new idle storefront; the area is wrong at first
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        await pick_grid(pilot, GRID_FILTER)
        await tab_to(pilot, "address")
        await pilot.press(*ADDRESS)
        await tab_to(pilot, "source_type")
        await pilot.press("right")  # the first choice: idle storefront
        await tab_to(pilot, "floor_from")
        await pilot.press("1")
        await tab_to(pilot, "usable_area")
        await pilot.press(*"abc")
        await tab_to(pilot, "ownership_type")
        await pilot.press("right")
        await tab_to(pilot, "owner_name")
        await pilot.press(*"房管所")
        for name in ("owner_consent", "structure_condition", "fire_condition"):
            await tab_to(pilot, name)
            await pilot.press("right")
        await tab_to(pilot, "candidate_functions")
        await pilot.press("space")
        await pilot.press("f9")
        area = form.query_one("#field-usable_area", FieldInput)
        await wait_until(pilot, lambda: "应为数字" in area.error)
        assert isinstance(app.screen, RecordFormScreen)
        await tab_to(pilot, "usable_area")
        assert isinstance(app.focused, Input)
        await pilot.press("end", "backspace", "backspace", "backspace", *"120")
        await pilot.press("f9")
        await wait_for_screen(pilot, RecordListScreen)

        # 3. the same address as an existing site: warned, look at it, then save anyway
        await pilot.press("n")
        await wait_for_screen(pilot, RecordFormScreen)
        await pick_grid(pilot, GRID_FILTER)
        await tab_to(pilot, "address")
        await pilot.press(*other.data["address"])
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, DuplicateModal)
        await pilot.press("enter")  # the listed record
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record.id == other.id
        await pilot.press("escape")
        await wait_for_screen(pilot, RecordFormScreen)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, DuplicateModal)
        await pilot.press("tab", "tab", "enter")  # past "open", onto "save anyway"
        await wait_for_screen(pilot, RecordListScreen)

        # 4. an inspection of a facility
        await pilot.press("f")
        facilities = await wait_for_screen(pilot, RecordListScreen)
        await wait_until(pilot, lambda: facilities.query_one(EdgeTable).row_count > 0)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("i")
        await wait_for_screen(pilot, RecordFormScreen)
        for name in ("structure", "fire_safety", "accessibility", "elevator", "equipment",
                     "cleanliness"):
            await tab_to(pilot, name)
            await pilot.press("right")  # OK
        await pilot.press("f9")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("ctrl+q")

    # 5. after a restart, all of it is there and findable
    app = make_app(demo)
    async with app.run_test(size=size) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await pilot.press("slash", *"衡山路88")
        screen = await wait_for_screen(pilot, RecordListScreen)
        await wait_until(pilot, lambda: "1 条" in text_of(screen.query_one("#list-info")))
        await pilot.press("enter", "enter")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        assert detail.record.status == "submitted"
        assert detail.record.data["usable_area"] == 120.0
        assert detail.record.data["source_type"] == "storefront"
    store = open_store(demo)
    assert len(store.find_by_address("site", other.data["address"])) == 2
    assert len(lookups.inspections_of(store.conn, facility.id)) >= 1
    assert lookups.load_form_draft(store.conn, "site", None) is None
