"""The sync screen driven through Pilot on a laptop enrolled with the real registry: refused
entries with their reason, a conflict resolved side by side, and "sync now" sending it."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, RadioButton, RadioSet, Static

from fieldapp.ui.screens.sync import ConflictScreen, SyncScreen
from sync import conflicts
from tests.conftest import complete_site
from tests.screen_capture import screen_text
from tests.sync_helpers import (  # noqa: F401  (fixtures)
    laptops,
    registry,
    same_field_edited_on_both,
    sqlite_only,
    stale_scope,
)
from tests.ui_support import SIZE, make_app, open_store, settle, text_of, wait_for_screen


def _table_text(table: DataTable) -> str:
    return " ".join(str(cell) for row in range(table.row_count) for cell in table.get_row_at(row))


@sqlite_only
async def test_sync_screen_shows_refusals_and_resolves_a_conflict(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    site = same_field_edited_on_both(a, b)
    stale_scope(b.store)
    b.store.save("site", complete_site(grid_code="310104004001G01"))  # outside the scope
    report = b.sync()
    assert report.conflicts == 1 and len(report.rejected) == 1
    b.close()

    app = make_app(b.home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        screen = await wait_for_screen(pilot, SyncScreen)
        summary = text_of(screen.query_one("#sync-summary", Static))
        assert "zhaoli" in summary and "被拒 1" in summary and "冲突 1" in summary
        assert "范围" in _table_text(screen.query_one("#outbox", DataTable))
        table = screen.query_one("#conflicts", DataTable)
        assert "可用面积" in _table_text(table)
        table.focus()
        await pilot.press("enter")
        dialog = await wait_for_screen(pilot, ConflictScreen)
        choice = dialog.query_one("#choice-usable_area", RadioSet)
        labels = [str(b.label) for b in choice.query(RadioButton)]
        assert labels[0].startswith("本机: ") and labels[0].endswith("㎡")  # values as read
        assert choice.pressed_button is None  # nothing chosen for the user
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConflictScreen)  # refused until each field is chosen
        assert "请为每个字段选择" in text_of(dialog.query_one("#conflict-error", Static))
        dialog.query_one("#value-usable_area", Input).value = "abc"
        await pilot.pause()
        assert choice.pressed_button.id == "value"  # typing a value picks it
        await pilot.click("#save")
        await settle(pilot)
        assert "可用面积" in text_of(dialog.query_one("#conflict-error", Static))  # stays open
        dialog.query_one("#value-usable_area", Input).value = "200"
        await pilot.click("#save")
        screen = await wait_for_screen(pilot, SyncScreen)
        assert "冲突 0" in text_of(screen.query_one("#sync-summary", Static))
        await pilot.press("y")  # sync now
        await settle(pilot, rounds=10)
        assert "推送 1" in text_of(screen.query_one("#sync-result", Static))
    assert registry.records()[site.id]["data"]["usable_area"] == 200.0
    store = open_store(b.home)
    assert conflicts.open_count(store) == 0


@sqlite_only
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_conflict_dialog_at_both_sizes_and_languages(registry, laptops, size, lang):
    """The conflict dialog is not in the screen matrix (it needs a real conflict from the
    registry); the matrix's own checks run on it here, language switched there and back."""
    from tests.test_screen_matrix import _checks

    a, b = laptops("a"), laptops("b", user="zhaoli")
    same_field_edited_on_both(a, b)
    assert b.sync().conflicts == 1
    b.close()
    app = make_app(b.home, lang)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f5")
        screen = await wait_for_screen(pilot, SyncScreen)
        screen.query_one("#conflicts", DataTable).focus()
        await pilot.press("enter")
        dialog = await wait_for_screen(pilot, ConflictScreen)
        for _ in range(3):
            await settle(pilot)
            text = screen_text(app).replace("zhaoli", "")  # a user's name, not program text
            problems = _checks(f"conflict-{size[0]}x{size[1]}-{app.lang}", text, app, app.lang,
                               home=False)
            assert not problems, problems
            assert ("可用面积" if app.lang == "zh" else "Usable area") in text
            assert dialog.query_one("#save").region.bottom <= size[1]  # the save button shows
            await pilot.press("ctrl+l")
        assert app.is_running and isinstance(app.screen, ConflictScreen)


@sqlite_only
async def test_background_sync_drives_the_footer_and_sends_a_save(registry, laptops):
    from fieldapp.context import AppContext
    from sync.background import BackgroundSync

    a = laptops("a")
    a.close()
    app = make_app(a.home)
    syncing = BackgroundSync(AppContext.create(str(a.home)), app.set_sync_status,
                             interval=30, watch_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        syncing.start()
        try:
            for _ in range(200):
                if app.sync_status == "online":
                    break
                await pilot.pause(0.05)
            assert app.sync_status == "online"
            site = app.store.save("site", complete_site())  # as the form would
            for _ in range(200):
                if site.id in registry.records():
                    break
                await pilot.pause(0.05)
            assert site.id in registry.records()  # sent without waiting for the interval
            registry.server.stop()
            app.store.save("site", {"notes": "离线时保存"}, record_id=site.id)
            for _ in range(200):
                if app.sync_status == "offline":
                    break
                await pilot.pause(0.05)
            assert app.sync_status == "offline" and app.pending == 1
        finally:
            syncing.stop()
