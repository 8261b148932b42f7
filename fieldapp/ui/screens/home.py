"""Home: the worker's grids, counts by status, what waits to sync, the last sync, and the
records a supervisor returned (first, because they need attention)."""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from fieldapp.domain.choices import RECORD_KIND, STATUS
from fieldapp.domain.records import KINDS
from fieldapp.localtime import latest
from fieldapp.store import lookups
from fieldapp.ui.format import fit, pad, short_time
from fieldapp.ui.i18n import t
from fieldapp.ui.messages import HomeLoaded
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.status_bar import StatusBar


def _scope(store):  # noqa: ANN001
    """The user's scope (fieldapp.store.scope, the one rule CLI and TUI share); an unreadable
    setting shows everything local rather than nothing."""
    from fieldapp.store.scope import Scope, ScopeError, user_scope

    try:
        return user_scope(store)
    except ScopeError:
        return Scope(store.user)


RETURNED_SHOWN = 50


def read_home(store) -> tuple:  # noqa: ANN001
    """What the home screen shows, read on a read connection: the fields of `HomeLoaded`."""
    scope = _scope(store)
    counts, mine = lookups.home_counts(store.conn, scope.grids)
    pending = store.pending_count()
    names = lookups.grid_names(store.conn, [code for code, _ in mine])
    # A worker fixes her own returned records; a supervisor follows all in scope.
    back = lookups.returned(store.conn, RETURNED_SHOWN, scope=scope.grids,
                            author=store.user if store.role == "worker" else None)
    has_areas = lookups.has_grids(store.conn)
    last = store.setting("last_sync_at") or ""
    grids = [(code, names.get(code, ""), n) for code, n in mine]
    return counts, pending, grids, back, has_areas, last


class HomeScreen(BaseScreen):
    AUTO_FOCUS = "#home-returned"
    HINTS = [("s", "sites"), ("f", "facilities"), ("n", "new_site"), ("/", "search"),
             ("v", "review"), ("c", "coverage"), ("F5", "sync_screen"), ("?", "help"),
             ("^p", "palette"), ("^l", "lang_short")]

    def __init__(self) -> None:
        super().__init__()
        self.loading_early = False
        self.layout_waits = 0

    def compose(self) -> ComposeResult:
        if not self.shown_lang and not self.loading_early:
            # The first read starts now, not when the screen is first shown: it runs while
            # Textual composes and styles the screen, so the counts are in by its first frame.
            self.loading_early = True
            self.load()
        lang = self.lang
        yield Static(t("app_title", lang), classes="screen-title")
        with Horizontal(id="home-body"):
            with Vertical(id="home-left"):
                yield Static(t("by_status", lang), classes="section-title")
                yield Static(t("loading", lang), id="home-counts")
                yield Static("", id="home-sync")
                yield Static(t("my_grids", lang), classes="section-title")
                yield OptionList(id="home-grids")
            with Vertical(id="home-right"):
                yield Static(t("needs_attention", lang), classes="section-title",
                             id="home-returned-title")
                yield OptionList(id="home-returned")
        yield StatusBar()

    def reload(self) -> None:
        if self.loading_early:  # the first time in front: that read is on its way
            self.loading_early = False
            return
        self.load()

    @work(thread=True, exclusive=True, group="home")
    def load(self) -> None:
        with self.app.reading() as store:
            data = read_home(store)
        self.post_message(HomeLoaded(*data))

    @on(HomeLoaded)
    def show(self, message: HomeLoaded) -> None:
        lists = self.query("#home-grids")
        if (not lists or not lists.first().size.width) and self.layout_waits < 5:
            # In before the first layout: the lists' labels need their width. Shown (and
            # passed on to the app) once the screen has been laid out — waiting a few frames
            # at most: behind another screen (the language switched while the map was open)
            # the lists get no width, and reposting for ever spun the event loop.
            message.stop()
            self.layout_waits += 1
            self.call_after_refresh(self.post_message, replace(message))
            return
        self.layout_waits = 0
        lang = self.lang
        self.app.pending = message.pending
        if not self.app.warmed:
            # After the counts are painted: the imports would hold the GIL against the paint.
            self.app.warmed = True
            self.call_after_refresh(self.app.warm_up)
            self.call_after_refresh(self.app.refresh_pending)  # conflicts, last sync
        # Statuses down, kinds across: the narrower way round, so no label is cut at 80×24.
        table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1),
                      collapse_padding=True)
        table.add_column("", no_wrap=True)
        for kind in KINDS:
            table.add_column(RECORD_KIND.label(kind, lang), justify="right", no_wrap=True)
        table.add_column(t("total", lang), justify="right", no_wrap=True)
        counts = message.counts
        for code in STATUS.codes():
            row = [counts.get(kind, {}).get(code, 0) for kind in KINDS]
            table.add_row(STATUS.label(code, lang), *map(str, row), str(sum(row)),
                          style="bold red" if code == "returned" and sum(row) else None)
        totals = [sum(counts.get(kind, {}).values()) for kind in KINDS]
        table.add_row(t("total", lang), *map(str, totals), str(sum(totals)), style="bold")
        self.query_one("#home-counts", Static).update(table)
        last = latest(self.app.last_sync_at, message.last_sync_at)
        self.query_one("#home-sync", Static).update(
            f"{t('waiting_sync', lang)}: {message.pending}    "
            f"{t('last_sync', lang)}: {short_time(last) if last else t('never_synced', lang)}")
        grid_list = self.query_one("#home-grids", OptionList)
        grid_list.clear_options()
        room = (grid_list.size.width or 40) - 4  # the list's border and scrollbar
        for code, name, n in message.grids:
            count = t("records_n", lang, n=n)
            label = f"{pad(name or code, 20)} {count:>10}"
            if cell_len(label) + 17 <= room:  # the code too, where it fits
                label = f"{pad(name or code, 20)} {code}  {count:>10}"
            grid_list.add_option(Option(label, id=code))
        if not message.grids:
            grid_list.add_option(Option(t("no_grids" if message.has_areas else "no_areas", lang),
                                        disabled=True))
        shown = len(message.returned)
        self.query_one("#home-returned-title", Static).update(
            f"{t('needs_attention', lang)} "
            f"({shown}{'+' if shown >= RETURNED_SHOWN else ''})")
        options = self.query_one("#home-returned", OptionList)
        options.clear_options()
        for record in message.returned:
            options.add_option(Option(
                f"{RECORD_KIND.label(record.kind, lang)}  {fit(record.title, 28)}\n"
                f"  ↳ {fit(record.review_comment or '', 40)}", id=record.id))
        if message.returned:
            options.highlighted = 0
        else:
            options.add_option(Option(t("nothing_returned", lang), disabled=True))

    @on(OptionList.OptionSelected, "#home-grids")
    def open_grid(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.show_sites_in(event.option.id)

    @on(OptionList.OptionSelected, "#home-returned")
    def open_returned(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_detail(event.option.id)
