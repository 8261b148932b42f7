"""The Textual application: wires screens together and nothing else.

Three modes, each with its own screen stack: home, sites and facilities. Forms, details and
dialogs are pushed on top. One data path: reads run in thread workers on the store's read
connections (`reading()`; the UI thread's own connection only reads small things); every write
goes through the one writer (`write()`, fieldapp/ui/writer.py), which answers with `Saved` or
`SaveFailed`. No SQL here or in the screens: queries live in fieldapp/store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen

from fieldapp.context import AppContext
from fieldapp.i18n import norm_lang, other_lang
from fieldapp.localtime import latest
from fieldapp.store import lookups
from fieldapp.store.db import connect
from fieldapp.store.records import Record, RecordStore
from fieldapp.ui.i18n import t
from fieldapp.ui.messages import PendingCounted, SyncStatusChanged
from fieldapp.ui.screens.home import HomeScreen
from fieldapp.ui.writer import Job, Saved, SaveFailed, Writer

# Only the home screen is imported up front: the others (and their widgets, TextArea and
# SelectionList among them) load when first opened, which keeps start-up short.


def _list_screen(kind: str):
    from fieldapp.ui.screens.record_list import RecordListScreen

    return RecordListScreen(kind)


def _field_commands():
    """The palette's provider, imported when the palette first opens (Textual allows a
    callable in COMMANDS)."""
    from fieldapp.ui.commands import FieldCommands

    return FieldCommands


def _is_list(screen) -> bool:
    return type(screen).__name__ == "RecordListScreen"

#: Actions on plain keys; off while the user types in a form or answers a dialog.
LETTER_ACTIONS = {"home", "sites", "facilities", "new_site", "search", "coverage", "review",
                  "help_key", "progress"}
SYNC_STATES = ("online", "offline", "syncing", "sync_error", "locked")


class FieldApp(App):
    # Absolute, so subclasses elsewhere (benchmarks, tests) still find it.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "fieldapp 社区嵌入式服务设施"
    COMMANDS = App.COMMANDS | {_field_commands}
    MODES = {
        "home": HomeScreen,
        "sites": lambda: _list_screen("site"),
        "facilities": lambda: _list_screen("facility"),
    }
    DEFAULT_MODE = "home"
    BINDINGS = [
        Binding("f1", "help", show=False),
        Binding("question_mark", "help_key", show=False),
        Binding("ctrl+l", "switch_lang", show=False),
        Binding("h", "home", show=False),
        Binding("s", "sites", show=False),
        Binding("f", "facilities", show=False),
        Binding("n", "new_site", show=False),
        Binding("slash", "search", show=False),
        Binding("c", "coverage", show=False),
        Binding("j", "progress", show=False),
        Binding("v", "review", show=False),
        Binding("f5", "sync_screen", show=False),
        Binding("ctrl+q", "quit", show=False, priority=True),
    ]

    lang = reactive("zh", init=False)
    #: online / offline / syncing / sync_error; the sync engine sets it via set_sync_status.
    sync_status = reactive("offline", init=False)
    pending = reactive(0, init=False)
    conflicts = reactive(0, init=False)
    last_sync_at = reactive("", init=False)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.store = ctx.open_store()
        self.set_reactive(FieldApp.lang, norm_lang(ctx.lang))
        self._readers: dict[str, RecordStore] = {}
        self._read_locks: dict[str, threading.Lock] = {}
        self._areas: list[tuple[str, str]] | None = None
        self._early_status: SyncStatusChanged | None = None
        self.writer = Writer(ctx.open_store, fallback=self)
        self.warmed = False
        self.search_pending = False
        self.search_typed = ""

    # -- data access for screens ------------------------------------------------------------
    @contextmanager
    def reading(self, channel: str = "page") -> Iterator[RecordStore]:
        """A read connection for thread workers, one worker per channel at a time.

        Pages and counts read on separate connections (WAL lets them run side by side), so a
        slow count never holds up the page the user is waiting for.
        """
        with self._read_locks.setdefault(channel, threading.Lock()):
            reader = self._readers.get(channel)
            if reader is None:
                reader = self._readers[channel] = RecordStore(
                    connect(self.ctx.database_path), self.store.user, self.store.role,
                    self.store.device_id)
            yield reader

    def write(self, job: Job, *, what: str, reply_to=None) -> int:  # noqa: ANN001
        """Queue a write as the current user; `reply_to` (or the app) gets Saved/SaveFailed."""
        return self.writer.submit(job, what=what, reply_to=reply_to, user=self.store.user,
                                  role=self.store.role)

    def on_saved(self, message: Saved) -> None:
        """Every committed write ends here too (screens let the message bubble): what waits
        to sync may have changed."""
        if message.what == "switch_user":
            self.on_user_switched(message.result)
        if message.what != "setting":
            self.refresh_pending()

    def on_save_failed(self, message: SaveFailed) -> None:
        """A failure no screen took care of (screens that show it themselves stop it)."""
        self.notify(message.reason(self.lang), severity="error", timeout=10)

    def close_writer(self) -> None:
        self.writer.close()

    def on_unmount(self) -> None:
        # Screens have unmounted (a form has queued its last keystrokes): let them land.
        self.close_writer()

    def area_options(self) -> list[tuple[str, str]]:
        """Streets and their grids in the user's areas for filters, each grid under its
        street (all local ones when the user has no scope)."""
        if self._areas is None:
            from fieldapp.store.scope import ScopeError, user_scope

            try:
                grids = user_scope(self.store).grids
            except ScopeError:
                grids = None
            rows = lookups.streets_and_grids(self.store.conn)
            if grids is not None:
                rows = [r for r in rows if r[2] != "grid" or r[0] in grids]
                kept = [code for code, _, level in rows if level == "grid"]
                rows = [r for r in rows  # a street stays when a kept grid's code begins so
                        if r[2] == "grid" or any(g.startswith(r[0]) for g in kept)]
            self._areas = [(name if level == "street" else f"  {name}", code)
                           for code, name, level in rows]
        return self._areas

    def grid_name(self, code: str | None) -> str:
        names = getattr(self, "_grid_names", None)
        if names is None:
            names = self._grid_names = {c: n.strip() for n, c in self.area_options()}
        return names.get(code or "", "")

    def on_mount(self) -> None:
        self.call_after_refresh(self.ask_pin_if_locked)
        # The first count waits for home's (HomeLoaded carries the pending count), so start-up
        # runs one reader thread beside the paint, not two.
        self.set_interval(5, self.refresh_pending)
        if self._early_status is not None:
            self.post_message(self._early_status)

    @work(thread=True, exclusive=True, group="warm-up")
    def warm_up(self) -> None:
        """Import the other screens once home is shown, so the first list or form opens
        without the import pause (they are left out of start-up to keep it short)."""
        import fieldapp.ui.screens.record_detail  # noqa: F401
        import fieldapp.ui.screens.record_form  # noqa: F401
        import fieldapp.ui.screens.record_list  # noqa: F401

    @work(thread=True, exclusive=True, group="pending")
    def refresh_pending(self) -> None:
        from fieldapp.store import sync_state

        with self.reading("count") as store:
            n = store.pending_count()
            conflicts = sync_state.open_conflict_count(store)
            last = store.setting("last_sync_at")
        self.post_message(PendingCounted(n, conflicts, last))

    def on_pending_counted(self, message: PendingCounted) -> None:
        self.pending = message.pending
        self.conflicts = message.conflicts
        # A report the writer has not stored yet is newer than what the count read.
        self.last_sync_at = latest(self.last_sync_at, message.last_sync_at)

    def set_sync_status(self, status: str, pending: int | None = None,
                        last_sync_at: str | None = None) -> None:
        """For the sync engine: show online/offline/syncing/sync_error; safe from any thread.

        Posting a message never blocks the caller, even while the app is closing; a status
        reported before the app runs is kept and shown when it starts.
        """
        message = SyncStatusChanged(status, pending, last_sync_at)
        if self.is_running:
            self.post_message(message)
        else:
            self._early_status = message

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        self.sync_status = message.status if message.status in SYNC_STATES else "offline"
        if message.pending is not None:
            self.pending = message.pending
        if message.last_sync_at:
            last = message.last_sync_at
            self.write(lambda store: store.set_setting("last_sync_at", last), what="setting")
            self.last_sync_at = last
            self.refresh_pending()  # a cycle may have brought conflicts
            if isinstance(self.screen, HomeScreen):
                self.screen.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in LETTER_ACTIONS and (isinstance(self.screen, ModalScreen)
                                         or getattr(self.screen, "TYPING", False)):
            return False
        return True

    # -- navigation -------------------------------------------------------------------------
    def open_detail(self, record_id: str) -> None:
        from fieldapp.ui.screens.record_detail import RecordDetailScreen

        self.push_screen(RecordDetailScreen(record_id))

    def open_map(self, area: str | None = None, focus_id: str | None = None,
                 gap: tuple[str, str] | None = None) -> None:
        """The map of `area` (default: the user's areas), centred on a record or a gap."""
        from fieldapp.ui.screens.map import MapScreen

        self.push_screen(MapScreen(area, focus_id, gap))

    def action_map(self) -> None:
        self.open_map()

    def open_report(self, kind: str, *, record_ids: list[str] | None = None,
                    area: str | None = None, name: str = "") -> None:
        """The dialog that makes a ledger or an area report (PDF) in a worker thread."""
        from fieldapp.ui.screens.report_dialog import ReportModal, default_path

        stem = f"{t('report_ledger' if kind == 'ledger' else 'report_area', self.lang)}_{name}"
        self.push_screen(ReportModal(self.lang, kind, record_ids=record_ids, area=area,
                                     name=name, output=default_path(self.ctx.data_dir, stem)))

    def action_report_area(self) -> None:
        from fieldapp.reports.area import AreaReportError, default_area

        try:
            area = default_area(self.store)
        except AreaReportError:
            area = None
        self.open_report("area", area=area, name=area or "")

    def open_form(self, kind: str, record_id: str | None = None) -> None:
        from fieldapp.ui.screens.record_form import RecordFormScreen

        self.push_screen(RecordFormScreen(kind, record_id))

    def open_inspection_form(self, target: Record) -> None:
        from fieldapp.ui.screens.record_form import RecordFormScreen, inspection_preset

        self.push_screen(RecordFormScreen("inspection", preset=inspection_preset(
            target, self.store.user or ""), context_title=target.title))

    def show_sites_in(self, grid_code: str) -> None:
        """The sites list filtered to one grid."""
        self.to_mode("sites")
        self.call_after_refresh(self._filter_grid, grid_code)

    def _filter_grid(self, grid_code: str) -> None:
        if _is_list(self.screen):
            self.screen.query_one("#f-grid").value = grid_code

    def to_mode(self, mode: str) -> None:
        """Show a mode's own screen: the list itself, not the record last opened from it."""
        self.search_pending = False  # a key for another place ends a "/" typed ahead
        if self.current_mode != mode:
            self.switch_mode(mode)
        self.call_after_refresh(self._pop_to_base, mode)

    def _pop_to_base(self, mode: str) -> None:
        if self.current_mode == mode:
            while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
                self.pop_screen()

    def action_home(self) -> None:
        self.to_mode("home")

    def action_sites(self) -> None:
        self.to_mode("sites")

    def action_facilities(self) -> None:
        self.to_mode("facilities")

    def action_new_site(self) -> None:
        self.open_form("site")

    def action_new_facility(self) -> None:
        self.open_form("facility")

    def action_search(self) -> None:
        if _is_list(self.screen):
            self.screen.action_focus_search()
            return
        # Someone typing "/养老" fast is ahead of the list screen: what they type before its
        # search box has the focus is kept (BaseScreen.on_key) and put into the box.
        self.to_mode("sites")
        self.search_typed = ""
        self.search_pending = True
        self.call_after_refresh(self.take_pending_search)

    def take_pending_search(self) -> None:
        """Called when a list screen is in front: focus its search box with what was typed."""
        if self.search_pending and _is_list(self.screen):
            self.search_pending = False
            self.screen.action_focus_search(self.search_typed)

    def action_help(self) -> None:
        from fieldapp.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.lang))

    def action_help_key(self) -> None:
        self.action_help()

    def action_coverage(self) -> None:
        try:
            from fieldapp.ui.screens.coverage import CoverageScreen
        except ImportError:
            self.notify(t("coverage_missing", self.lang), severity="warning")
            return
        self.push_screen(CoverageScreen(self.ctx.open_store(), self.lang))

    def action_progress(self) -> None:
        from fieldapp.ui.screens.progress import ProgressScreen

        if not isinstance(self.screen, ProgressScreen):
            self.push_screen(ProgressScreen())

    # -- team laptop: several enrolled users ----------------------------------------------
    def enrolled_users(self) -> list[str]:
        from sync import credentials

        try:
            return [entry["user"] for entry in credentials.users(self.ctx.config_dir)[1]]
        except Exception:  # noqa: BLE001 - an unreadable file shows no users; sync says why
            return []

    def action_switch_user(self, name: str) -> None:
        """Make `name` the current user: every later save is recorded under them, and the
        background sync restarts with their credential. Needs `name`'s PIN (unless used in
        the last 15 minutes): a worker cannot become the supervisor."""
        from sync import credentials

        config_dir = self.ctx.config_dir
        self.with_pin(name, lambda: self.write(
            lambda store: credentials.switch(config_dir, store, name), what="switch_user"),
            why="pin_why_switch")

    def with_pin(self, user: str | None, then, why: str = "pin_why_act") -> None:  # noqa: ANN001
        """Run `then` once `user`'s PIN is known here: at once when their credential is not
        sealed or the PIN was used in the last 15 minutes, else after the PIN dialog."""
        from sync import credentials

        try:
            needed = bool(user) and credentials.needs_pin(self.ctx.config_dir, user)
        except credentials.SyncError as exc:
            self.notify(exc.message(self.lang), severity="error")
            return
        if not needed:
            then()
            return
        from fieldapp.ui.screens.pin import PinModal

        self.push_screen(PinModal(self.lang, self.ctx.config_dir, user, why,
                                  self._demo_pin(user)),
                         lambda opened: then() if opened else None)

    def _demo_pin(self, user: str) -> str | None:
        from sync import credentials

        entry = credentials.load(self.ctx.config_dir)["users"].get(user) or {}
        return entry.get("demo_pin")

    def action_unlock_sync(self) -> None:
        """Palette: enter the current user's PIN later (Esc was pressed when the app opened)."""
        from sync import credentials

        user = self.store.user
        try:
            locked = bool(user) and not credentials.unlocked(self.ctx.config_dir, user)
        except credentials.SyncError:
            locked = False
        if locked:
            self.ask_pin_if_locked()
        else:
            self.notify(t("already_unlocked", self.lang))

    def ask_pin_if_locked(self) -> None:
        """Opening on a user whose credential is sealed and not unlocked in this process: ask
        for the PIN, so background sync can run (Esc works on locally, sync waits)."""
        if not (self.ctx.config_dir / "credentials.json").exists():
            return  # not enrolled: nothing to unlock (and no sync import at start-up)
        from sync import credentials

        user = self.store.user
        try:
            entry = credentials.load(self.ctx.config_dir)["users"].get(user or "")
        except credentials.SyncError:
            return
        if entry and not credentials.unlocked(self.ctx.config_dir, user):
            from fieldapp.ui.screens.pin import PinModal

            self.push_screen(PinModal(self.lang, self.ctx.config_dir, user, "pin_why_start",
                                      entry.get("demo_pin")),
                             lambda opened: self.poke_sync() if opened else None)

    def on_user_switched(self, entry: dict) -> None:
        for store in (self.store, *self._readers.values()):
            store.user, store.role = entry["user"], entry.get("role") or "worker"
        self._areas = None  # the filters follow the new user's areas
        self.restart_background_sync()
        self.notify(t("user_switched", self.lang, name=entry["user"]))
        self.refresh_pending()
        if isinstance(self.screen, HomeScreen):
            self.screen.reload()

    def poke_sync(self) -> None:
        """Ask background sync for a cycle now; safe from any thread."""
        background = getattr(self, "background", None)
        if background is not None:
            background.poke()

    @work(thread=True, exclusive=True, group="background-sync")
    def restart_background_sync(self) -> None:
        background = getattr(self, "background", None)
        if background is None:
            return
        from sync.background import BackgroundSync

        background.stop()
        self.background = BackgroundSync(self.ctx, self.set_sync_status)
        self.background.start()

    def action_review(self) -> None:
        from fieldapp.ui.screens.review import ReviewScreen

        if not isinstance(self.screen, ReviewScreen):
            self.push_screen(ReviewScreen())

    def action_sync_screen(self) -> None:
        from fieldapp.ui.screens.sync import SyncScreen

        if not isinstance(self.screen, SyncScreen):
            self.push_screen(SyncScreen())

    def action_switch_lang(self) -> None:
        self.lang = other_lang(self.lang)
        self.ctx.lang = self.lang
        lang = self.lang
        self.write(lambda store: store.set_setting("lang", lang), what="setting")
        self.notify(t("lang_switched", self.lang))
        relabel = getattr(self.screen, "relabel", None)
        if relabel:
            self.call_later(relabel)


if __name__ == "__main__":
    FieldApp(AppContext.create()).run()
