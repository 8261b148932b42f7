"""The pilot progress screen: per pilot community, street and district, the sites found,
consented, passed the joint review, under conversion and open; scenes covered before → after
the opened facilities; this year's openings against the plan. Below the table, the charts of
the street under the cursor (text bars, as on the coverage screen).

Thin: `fieldapp/store/progress_load.py` loads and `fieldapp/domain/progress.py` computes, in a
worker thread on its own read connection; the screen only lays the answer out.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from fieldapp.domain import progress as P
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.screens.coverage import text_bars
from fieldapp.ui.widgets.status_bar import StatusBar


class ProgressScreen(BaseScreen):
    DEFAULT_CSS = """
    ProgressScreen { layout: vertical; }
    ProgressScreen #prog-summary { height: auto; padding: 0 1; background: $boost; }
    ProgressScreen #prog-table { height: 1fr; min-height: 5; }
    ProgressScreen #prog-charts { height: 40%; border-top: solid $primary; }
    ProgressScreen #prog-funnel { width: 1fr; padding: 0 1; }
    ProgressScreen #prog-plan { width: 1fr; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "back", show=False), Binding("r", "reload_now", show=False)]
    HINTS = [("↑↓", "prog_pick"), ("r", "cov_recompute"), ("Esc", "back")]

    def __init__(self, area: str | None = None) -> None:
        super().__init__()
        self.area = area
        self.result: P.Progress | None = None
        self.street_of: dict[str, P.Row] = {}

    def key_hints(self) -> list[tuple[str, str]]:
        return self.HINTS

    def compose(self) -> ComposeResult:
        yield Static(f"{t('prog_title', self.lang)} — {t('prog_loading', self.lang)}",
                     id="prog-summary")
        yield DataTable(id="prog-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="prog-charts"):
            yield Static("", id="prog-funnel")
            yield Static("", id="prog-plan")
        yield StatusBar()

    def on_mount(self) -> None:
        self.query_one("#prog-table", DataTable).focus()

    def reload(self) -> None:
        self.run_worker(self._load, thread=True, exclusive=True, group="progress")

    def action_reload_now(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def _load(self) -> None:
        from fieldapp.store.progress_load import load_progress

        with self.app.reading("progress") as store:
            result = load_progress(store, self.area)
        try:
            self.app.call_from_thread(self.show, result)
        except RuntimeError:  # the app closed while we were counting
            pass

    def show(self, result: P.Progress) -> None:
        if not self.is_mounted:
            return
        self.result = result
        lang = self.lang
        opened = sum(r.opened for r in result.communities)
        this_year = sum(r.opened_this_year for r in result.communities)
        plans = [r.target for r in result.districts if r.target is not None]
        summary = t("prog_summary", lang, year=result.year, n=len(result.communities),
                    opened=opened, year_opened=this_year, plan=sum(plans) if plans else "-")
        self.query_one("#prog-summary", Static).update(
            f"{t('prog_title', lang)}\n{summary}" if result.communities else
            f"{t('prog_title', lang)}\n"
            f"{P.word('outside_here' if result.hidden else 'none', lang, n=result.hidden)}")
        table = self.query_one("#prog-table", DataTable)
        table.clear(columns=True)
        for label in P.headers(result.year, lang):
            table.add_column(label)
        self.street_of = {}
        for district in result.districts:
            table.add_row(*self._cells(district, 0), key=district.code)
            for street in district.children:
                table.add_row(*self._cells(street, 1), key=street.code)
                self.street_of[street.code] = street
                for community in street.children:
                    table.add_row(*self._cells(community, 2), key=community.code)
                    self.street_of[community.code] = street
        self._charts(result.streets[0] if result.streets else None)

    def _cells(self, row: P.Row, depth: int) -> list[Text | str]:
        cells: list[Text | str] = list(P.cells(row, self.result.year, self.lang))
        style = ("bold", "", "dim")[depth]
        cells[0] = Text("  " * depth + row.name, style=style)
        return cells

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        code = str(event.row_key.value) if event.row_key is not None else ""
        if code in self.street_of:
            self._charts(self.street_of[code])

    def _charts(self, street: P.Row | None) -> None:
        funnel, plan = self.query_one("#prog-funnel", Static), self.query_one("#prog-plan",
                                                                                Static)
        if street is None or self.result is None:
            funnel.update("")
            plan.update("")
            return
        lang = self.lang
        width = max((self.size.width // 2) - 2, 24)
        funnel.update(text_bars(P.word("funnel", lang, name=street.name),
                                P.funnel(street, lang), width))
        plan.update(text_bars(P.word("chart", lang, name=street.name, year=self.result.year),
                              [(name, n, of) for _, name, n, of in P.bars(street)], width))
