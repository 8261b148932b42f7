"""The supervisor's review screen driven with Pilot: queue order, what changed, return with a
comment, bulk approve with one confirmation, and a worker refused."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from fieldapp.store.review import QueueFilter, queue
from fieldapp.ui.screens.review import ConfirmModal, ReviewScreen
from sync import credentials
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry, sqlite_only  # noqa: F401  (fixtures)
from tests.ui_support import SIZE, make_app, open_store, settle, text_of, wait_for_screen


def as_supervisor(demo) -> None:
    store = open_store(demo)
    store.set_setting("current_user", "li")
    store.set_setting("role:li", "supervisor")
    store.conn.close()


async def open_review(pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("v")  # the key the help screen lists
    return await wait_for_screen(pilot, ReviewScreen)


async def test_supervisor_returns_and_bulk_approves(demo):
    as_supervisor(demo)
    waiting = queue(open_store(demo), QueueFilter(), limit=1000)
    assert len(waiting) > 5
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        table = screen.query_one("#review-queue", DataTable)
        assert table.row_count == len(waiting)
        assert app.focused is table  # ↓ walks records, not the grid panel (SIZE is 120×40)
        assert [r.id for r in screen.records] == [r.id for r in waiting]  # oldest first
        assert "首次审核" in text_of(screen.query_one("#review-changes"))
        first = screen.records[0]
        await pilot.press("r")
        await pilot.pause()
        screen.app.screen.query_one(Input).value = "请补充权属方联系电话"
        await pilot.press("enter")
        await settle(pilot)
        assert first.id not in {r.id for r in screen.records}
        await pilot.press("space", "space", "A")
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("enter")
        await wait_for_screen(pilot, ReviewScreen)
        await settle(pilot)
        assert len(screen.records) == len(waiting) - 3
    store = open_store(demo)
    assert store.get(first.id).status == "returned"
    assert store.get(first.id).review_comment == "请补充权属方联系电话"
    approved = [r for r in waiting[1:3]]
    assert all(store.get(r.id).status == "approved" for r in approved)
    assert [h["who"] for h in store.history(first.id)][-1] == "li"


async def test_worker_may_look_but_not_decide(demo):
    app = make_app(demo, "en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        before = len(screen.records)
        await pilot.press("a")
        await settle(pilot)
        assert len(screen.records) == before
        assert any("only a supervisor may approve" in str(n.message)
                   for n in app._notifications)


@sqlite_only
async def test_team_laptop_switches_user_and_records_who_decided(registry, laptops):
    """One laptop, a worker and a supervisor enrolled: the worker submits, the supervisor
    takes over from the command palette and returns it; history names each of them."""
    laptop = laptops("team", user="wangfang")
    laptop.enroll(registry.token("lisupervisor", "supervisor", "310104"))
    laptop.sync()  # areas come down with the first pull
    credentials.switch(laptop.config_dir, laptop.store, "wangfang")
    site = laptop.store.save("site", complete_site(), status="submitted")
    laptop.close()
    app = make_app(laptop.home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.enrolled_users() == ["lisupervisor", "wangfang"]
        await pilot.press("ctrl+p")
        await pilot.press(*"lisupervisor")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.store.user == "lisupervisor" and app.store.role == "supervisor"
        screen = await open_review(pilot)
        await pilot.press("r")
        await pilot.pause()
        screen.app.screen.query_one(Input).value = "照片不清楚"
        await pilot.press("enter")
        await settle(pilot)
    store = open_store(laptop.home)
    assert [h["who"] for h in store.history(site.id)] == ["wangfang", "lisupervisor"]
    assert store.setting("current_user") == "lisupervisor"


async def test_switching_language_on_the_review_queue_keeps_it_working(demo):
    """Ctrl+L rebuilt the screen without its columns and the next load crashed the app."""
    as_supervisor(demo)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        rows = screen.query_one("#review-queue", DataTable).row_count
        await pilot.press("ctrl+l")
        await settle(pilot)
        table = screen.query_one("#review-queue", DataTable)
        assert app.screen is screen and table.row_count == rows
        assert [c.label.plain for c in table.columns.values()][1:3] == ["Kind", "Grid"]
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert screen.query_one("#review-queue", DataTable).row_count == rows


async def test_an_approval_can_be_undone_with_u(demo):
    as_supervisor(demo)
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_review(pilot)
        first = screen.records[0]
        await pilot.press("a")
        await settle(pilot)
        assert first.id not in {r.id for r in screen.records}
        assert open_store(demo).get(first.id).status == "approved"
        await pilot.press("u")
        await settle(pilot)
        assert first.id in {r.id for r in screen.records}  # back in the queue
    store = open_store(demo)
    assert store.get(first.id).status == "submitted"
    assert [h["action"] for h in store.history(first.id)][-2:] == ["approved", "submitted"]
