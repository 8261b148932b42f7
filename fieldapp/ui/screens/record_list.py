"""The list of sites or facilities: type-to-search, filters, sort, and paging from SQLite.

Only one page (100 rows) is ever fetched and shown; the count runs in its own worker and
stops at 10,000 ("10000+"), so the list stays instant at 100,000 records. Every request
carries a token; an answer to an older request (the user typed on) is dropped.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input, Static

from fieldapp.domain.catalog import FUNCTION_CHOICES
from fieldapp.domain.choices import SOURCE_TYPE, STATUS
from fieldapp.store.records import Query
from fieldapp.ui.i18n import t
from fieldapp.ui.messages import CountLoaded, PageLoaded
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.choice_field import ChoiceField
from fieldapp.ui.widgets.record_table import PAGE_SIZE, EdgeTable
from fieldapp.ui.widgets.status_bar import StatusBar

COUNT_CAP = 10_000
SORTS = ("updated_at", "created_at", "title", "grid_code", "status")


class SearchBox(Input):
    """The list's search box. Its width is the filter row's, so what is typed never changes
    its size; Input's own virtual size asks for a re-layout at every key, which laid out and
    repainted the whole screen while the page was being read."""

    virtual_size = Reactive(Size(0, 0), layout=False)


def in_scope(store, q: Query) -> Query:  # noqa: ANN001
    """The query kept to the user's areas (the one scope rule the CLI follows too)."""
    from fieldapp.store.scope import ScopeError, user_scope

    try:
        return replace(q, scope=user_scope(store).grids)
    except ScopeError:
        return q


class RecordListScreen(BaseScreen):
    CSS_PATH = Path(__file__).with_name("record_list.tcss")  # its own rules, read on first open
    AUTO_FOCUS = "#records"
    HINTS = [("⏎", "open"), ("/", "search"), ("n", "new"), ("[ ]", "page_keys"),
             ("o", "sort_dir"), ("x", "clear_filters"), ("g", "map"), ("Esc", "home"),
             ("?", "help")]
    BINDINGS = [
        Binding("slash", "focus_search", show=False),
        Binding("right_square_bracket,ctrl+pagedown", "page(1)", show=False),
        Binding("left_square_bracket,ctrl+pageup", "page(-1)", show=False),
        Binding("o", "toggle_order", show=False),
        Binding("x", "clear_filters", show=False),
        Binding("n", "new", show=False),
        Binding("g", "map", show=False),
        Binding("escape", "leave_search", show=False),
    ]

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.q = Query(kind=kind)
        self.page = 0
        self.token = 0
        self.cursor_after_load = 0
        # Typing: at most one page query in flight; what is typed meanwhile waits for its
        # answer and is then asked for once (the latest text wins).
        self.typed: str | None = None
        self.typed_waiting = False
        self.loaded_token = 0
        self.count_text = ""
        self.count_token = 0
        self.count_wanted = False
        self.has_more = False

    def compose(self) -> ComposeResult:
        lang, q = self.lang, self.q
        yield Static(t("sites" if self.kind == "site" else "facilities", lang),
                     classes="screen-title")
        with Horizontal(id="filters"):
            yield SearchBox(q.search or "", placeholder=t("search_placeholder", lang), id="search",
                        compact=True, select_on_focus=False)
            yield ChoiceField(self.app.area_options(), q.grid_code, prompt=t("all_grids", lang),
                              id="f-grid")
            yield ChoiceField([(c.label(lang), c.code) for c in STATUS], q.status,
                              prompt=t("all_status", lang), id="f-status")
            if self.kind == "site":
                yield ChoiceField([(c.label(lang), c.code) for c in SOURCE_TYPE], q.source_type,
                                  prompt=t("all_source", lang), id="f-source")
            yield ChoiceField([(c.label(lang), c.code) for c in FUNCTION_CHOICES], q.function,
                              prompt=t("all_functions", lang), id="f-function",
                              resolve=FUNCTION_CHOICES.resolve)
            yield ChoiceField([(t(f"sort_{s}", lang), s) for s in SORTS], q.sort,
                              prompt=t("sort_by", lang), id="f-sort")
        yield Static("", id="list-info")
        yield EdgeTable(self.kind, lang, id="records")
        yield StatusBar()

    def action_map(self) -> None:
        """The map of the grid filtered on (or the user's areas), at the highlighted record."""
        self.app.open_map(self.q.grid_code or None, self.query_one(EdgeTable).selected_id())

    def on_key(self, event: events.Key) -> None:
        """Typing on the list searches: Chinese characters (an IME commits them as keys) and
        digits go to the search box; ASCII letters stay the list's shortcuts."""
        super().on_key(event)
        char = event.character
        if event._stop_propagation or not event.is_printable or not char:
            return
        search = self.query_one("#search", Input)
        if self.focused is search or (char.isascii() and not char.isdigit()):
            return
        event.stop()
        event.prevent_default()
        self.action_focus_search(char)

    async def on_screen_resume(self, event) -> None:
        await super().on_screen_resume(event)
        self.app.take_pending_search()

    # -- loading ----------------------------------------------------------------------------
    def reload(self) -> None:
        # Coming back from a record keeps the cursor where the user left it.
        table = self.query_one(EdgeTable)
        self.cursor_after_load = table.cursor_row if table.row_count else 0
        self.refetch(count=True)

    def refetch(self, count: bool = False) -> None:
        self.token += 1
        self.load_page(self.q, self.page, self.token)
        if count:  # asked for when the page is in: the page alone has the CPU meanwhile
            self.count_text = ""
            self.count_wanted = True
        self._show_info()

    @work(thread=True, exclusive=True, group="list-page")
    def load_page(self, q: Query, page: int, token: int) -> None:
        with self.app.reading() as store:
            records = store.query(in_scope(store, q), limit=PAGE_SIZE + 1,
                                  offset=page * PAGE_SIZE)
        self.post_message(PageLoaded(token, records[:PAGE_SIZE], page, len(records) > PAGE_SIZE))

    @work(thread=True, exclusive=True, group="list-count")
    def load_count(self, q: Query, token: int) -> None:
        with self.app.reading("count") as store:
            n = store.count(in_scope(store, q), cap=COUNT_CAP)
        self.post_message(CountLoaded(token, n, n >= COUNT_CAP))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        self.loaded_token = max(self.loaded_token, message.token)
        if message.token == self.token:
            if self.count_wanted:
                self.count_wanted = False
                self.count_token = message.token
                self.load_count(self.q, message.token)
            self.has_more = message.has_more
            table = self.query_one(EdgeTable)
            table.show(message.records, self.cursor_after_load)
            self.cursor_after_load = 0
            self._show_info(empty=not message.records)
        self._search_typed()  # what was typed while this page was on its way

    @on(CountLoaded)
    def _count_loaded(self, message: CountLoaded) -> None:
        if message.token != self.count_token:
            return
        n = f"{message.count}+" if message.capped else str(message.count)
        self.count_text = t("records_n", self.lang, n=n)
        self._show_info()

    def _show_info(self, empty: bool = False) -> None:
        parts = [self.count_text or t("loading", self.lang),
                 t("page", self.lang, page=self.page + 1)]
        if empty:
            parts.append(t("empty_list", self.lang))
        arrow = "↓" if self.q.descending else "↑"
        parts.append(f"{t('sort_by', self.lang)} {t('sort_' + self.q.sort, self.lang)} {arrow}")
        # One line of fixed height: no re-layout (it repainted the whole screen, three times
        # per keystroke).
        self.query_one("#list-info", Static).update("  ·  ".join(parts), layout=False)

    def _set_query(self, **changes) -> None:
        new = replace(self.q, **changes)
        if new != self.q:
            self.q = new
            self.page = 0
            self.refetch(count=True)

    # -- user input -------------------------------------------------------------------------
    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        """Search as the user types, without a fixed debounce: a query takes 5-35 ms at
        100,000 records, so the first key is asked for at once (after the keys already
        queued, which folds an IME commit or a paste), and keys typed while a page is on its
        way are folded into one query when it lands."""
        self.typed = event.value.strip() or None
        if not self.typed_waiting:
            self.typed_waiting = True
            self.call_later(self._search_typed)

    def _search_typed(self) -> None:
        if not self.typed_waiting or self.loaded_token < self.token:
            return  # nothing new, or a page is on its way: _page_loaded calls again
        self.typed_waiting = False
        self._set_query(search=self.typed)

    @on(Input.Submitted, "#search")
    def _search_done(self, event: Input.Submitted) -> None:
        self.typed_waiting = False
        self._set_query(search=event.value.strip() or None)
        self.query_one(EdgeTable).focus()

    @on(ChoiceField.Changed)
    def _filter(self, event: ChoiceField.Changed) -> None:
        value = event.value
        field = {"f-grid": "grid_code", "f-status": "status", "f-source": "source_type",
                 "f-function": "function", "f-sort": "sort"}.get(event.choice.id or "")
        if field == "sort":
            self._set_query(sort=value or "updated_at")
        elif field:
            self._set_query(**{field: value})

    @on(EdgeTable.RowSelected)
    def _open(self, event: EdgeTable.RowSelected) -> None:
        self.app.open_detail(event.record_id)

    @on(EdgeTable.PageEdge)
    def _edge(self, event: EdgeTable.PageEdge) -> None:
        self.action_page(event.step, from_edge=True)

    def action_page(self, step: int, from_edge: bool = False) -> None:
        if step > 0 and not self.has_more:
            return
        if step < 0 and self.page == 0:
            return
        self.page += step
        self.cursor_after_load = PAGE_SIZE - 1 if (from_edge and step < 0) else 0
        self.refetch()

    def action_toggle_order(self) -> None:
        self._set_query(descending=not self.q.descending)

    def action_clear_filters(self) -> None:
        self.q = Query(kind=self.kind, sort=self.q.sort, descending=self.q.descending)
        self.page = 0
        self.run_worker(self.relabel(), exclusive=False)

    def action_focus_search(self, typed: str = "") -> None:
        search = self.query_one("#search", Input)
        search.focus()
        if typed:
            search.value += typed
            search.cursor_position = len(search.value)

    def action_leave_search(self) -> None:
        if self.focused is self.query_one("#search", Input):
            self.query_one(EdgeTable).focus()
        else:
            self.app.action_home()

    def action_new(self) -> None:
        self.app.open_form(self.kind)

    def focus_table(self) -> None:
        self.query_one(EdgeTable).focus()
