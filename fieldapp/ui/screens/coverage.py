"""The coverage screen: a grid × function table of the 15-minute life circle, drill-down to
the idle sites that could fill a gap (ranked, with reasons), and a chart per street.

Self-contained: `CoverageScreen(store, lang="zh")` needs only a RecordStore; it brings its
own CSS, key bindings and words, and Escape pops it. The analysis runs in a worker thread
whenever the screen comes to the front and on `r`.
"""

from __future__ import annotations

from collections import Counter

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from fieldapp.domain.catalog import BY_CODE, scene_of
from fieldapp.domain.choices import STATUS
from fieldapp.domain.coverage import SCENE_CODES, SCENE_SHORT, Analysis
from fieldapp.i18n import LANGS, as_msg, norm_lang
from fieldapp.ui.format import pad
from fieldapp.ui.i18n import t
from fieldapp.ui.widgets.status_bar import StatusBar


class CoverageScreen(Screen):
    DEFAULT_CSS = """
    CoverageScreen { layout: vertical; }
    CoverageScreen #cov-summary { height: auto; padding: 0 1; background: $boost; }
    CoverageScreen #cov-table { height: 1fr; min-height: 6; }
    CoverageScreen #cov-bottom { height: 45%; border-top: solid $primary; }
    CoverageScreen.charts #cov-bottom { height: 14; }
    CoverageScreen #cov-detail { height: 1fr; padding: 0 1; }
    CoverageScreen #cov-charts { height: 1fr; display: none; }
    CoverageScreen.charts #cov-charts { display: block; }
    CoverageScreen.charts #cov-detail { display: none; }
    CoverageScreen #cov-chart-functions { width: 3fr; padding: 0 1; }
    CoverageScreen #cov-chart-status { width: 2fr; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "back", show=False),
        Binding("m", "toggle_missing", show=False),
        Binding("c", "toggle_chart", show=False),
        Binding("r", "recompute", show=False),
        Binding("g", "map", show=False),
    ]
    HINTS = [("⏎", "cov_drill"), ("m", "cov_lacking"), ("c", "cov_chart"), ("g", "map"),
             ("r", "cov_recompute"), ("Esc", "back")]

    def __init__(self, store, lang: str = "zh", area: str | None = None,
                 function: str | None = None) -> None:
        """`area` limits the grids (a district/street/grid code); `function` (e.g. "elderly")
        opens on the grids lacking it."""
        super().__init__()
        self.store = store
        self.lang = norm_lang(lang)
        self.area = area
        self.result: Analysis | None = None
        # Scene whose lacking grids alone are listed.
        self.only_lacking: str | None = scene_of(function) if function in BY_CODE else None
        self.detail_text = ""
        self.chart_street = ""
        self.last_drill: tuple[str, str] | None = None

    def key_hints(self) -> list[tuple[str, str]]:
        return self.HINTS

    def t(self, key: str, **kw) -> str:
        return t("cov_" + key.replace("-", "_"), self.lang, **kw)

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self.t("title"), id="cov-summary")
        # The grid's name stays in view when the function columns scroll sideways (80×24).
        table = DataTable(id="cov-table", cursor_type="cell", zebra_stripes=True,
                          fixed_columns=1)
        yield table
        with Vertical(id="cov-bottom"):
            with VerticalScroll(id="cov-detail"):
                yield Static("", id="cov-detail-text")
            with Horizontal(id="cov-charts"):
                yield Static("", id="cov-chart-functions")
                yield Static("", id="cov-chart-status")
        yield StatusBar()

    def on_mount(self) -> None:
        self.query_one("#cov-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        # First shown, or back from another screen where records may have changed.
        self.recompute()

    # -- data ------------------------------------------------------------------------------
    def recompute(self) -> None:
        """Analyse in a worker thread with its own read connection: a whole city of demo
        data takes a couple of seconds to load and the table must stay responsive."""
        self.query_one("#cov-summary", Static).update(f"{self.t('title')} — {self.t('computing')}")
        self.run_worker(self._analyse, thread=True, exclusive=True, group="coverage")

    def _analyse(self) -> None:
        from fieldapp.domain.norms import NormsError
        from fieldapp.store.coverage_load import analyse_store, database_file
        from fieldapp.store.db import StoreError, connect

        conn = None
        try:
            path = database_file(self.store)
            conn = connect(path, migrate_schema=False) if path else None
            result, error = analyse_store(conn or self.store, self.area), None
        except (NormsError, LookupError, StoreError) as exc:
            result, error = None, exc
        finally:
            if conn is not None:
                conn.close()
        try:
            self.app.call_from_thread(self.show_result, result, error)
        except RuntimeError:  # the app closed while we were working
            pass

    def show_result(self, result: Analysis | None, error: Exception | None) -> None:
        if not self.is_mounted:
            return
        self.result = result
        if result is None:
            self.query_one("#cov-summary", Static).update(self.t("error", e=error))
            self.fill_table()
            return
        norms = result.norms.source
        self.query_one("#cov-summary", Static).update(
            f"{self.t('title')} — " + self.t(
                "summary", grids=len(result.grids), bad=len(result.complexes),
                norms=self.t("built-in") if norms == "built-in" else norms))
        self.fill_table()
        table = self.query_one("#cov-table", DataTable)
        if self.only_lacking:
            table.move_cursor(column=4 + SCENE_CODES.index(self.only_lacking))
        if self.last_drill and self.last_drill[0] in result.by_code:
            self.drill(*self.last_drill)  # the same cell, recomputed (or relabelled)
        elif self.only_lacking:
            fn = BY_CODE[self.only_lacking].label(self.lang)
            self.show_detail(self.t("filter_on", fn=fn, n=table.row_count))

    def relabel(self) -> None:
        """Show everything in the app's language after the user switched it."""
        lang = getattr(self.app, "lang", self.lang)
        if lang not in LANGS or lang == self.lang:
            return
        self.lang = lang
        if self.result is None:
            self.recompute()
            return
        cursor = self.query_one("#cov-table", DataTable).cursor_coordinate
        self.show_result(self.result, None)
        self.query_one("#cov-table", DataTable).move_cursor(row=cursor.row, column=cursor.column)
        if self.chart_street:
            self.draw_charts(self.chart_street)

    def visible_grids(self):
        grids = self.result.grids if self.result else []
        if self.only_lacking:
            grids = [g for g in grids if self.only_lacking in g.missing]
        return grids

    def fill_table(self) -> None:
        table = self.query_one("#cov-table", DataTable)
        table.clear(columns=True)
        table.add_column(self.t("grid"), key="grid")
        table.add_column(self.t("street"), key="street")
        table.add_column(self.t("hh"), key="hh")
        table.add_column(self.t("per100"), key="per100")
        for scene in SCENE_CODES:
            table.add_column(as_msg(SCENE_SHORT[scene])(self.lang), key=scene)
        if self.result is None:
            return
        names, minimum = self.result.names, self.result.norms.area_min_per_100
        for g in self.visible_grids():
            per100 = g.area_per_100
            area_cell = Text("-") if per100 is None else Text(
                f"{per100:.1f}", style="red" if per100 < minimum else "green")
            marks = [Text("✓", style="bold green") if s in g.covered
                     else Text("✗", style="bold red") for s in SCENE_CODES]
            table.add_row(g.grid.name or g.grid.code, names.get(g.grid.street, g.grid.street),
                          str(g.grid.households or "-"), area_cell, *marks, key=g.grid.code)
        if not self.visible_grids():
            self.show_detail(self.t("no_grids"))

    # -- drill-down ------------------------------------------------------------------------
    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if event.data_table.id != "cov-table":
            return
        event.stop()
        self.drill(str(event.cell_key.row_key.value), str(event.cell_key.column_key.value))

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        if event.data_table.id != "cov-table" or self.result is None:
            return
        row = event.cell_key.row_key.value
        cov = self.result.by_code.get(str(row))
        if cov is not None and cov.grid.street != self.chart_street:
            self.draw_charts(cov.grid.street)

    def drill(self, grid_code: str, column: str) -> None:
        """Show what lies behind one cell: candidates for a gap, facilities for a ✓."""
        if self.result is None or grid_code not in self.result.by_code:
            return
        self.last_drill = (grid_code, column)
        cov = self.result.by_code[grid_code]
        name = cov.grid.name or grid_code
        if column not in SCENE_CODES:
            missing = "、".join(BY_CODE[s].label(self.lang) for s in cov.missing)
            self.show_detail(self.t("grid_title", grid=name,
                                    missing=missing or self.t("nothing_missing")))
            return
        fn = BY_CODE[column].label(self.lang)
        radius = self.result.norms.radius(column)
        lines: list[str] = []
        if column in cov.covered:
            lines.append(self.t("covered_title", grid=name, fn=fn, radius=radius))
            near = self.result.nearest(grid_code, column)
            if near:
                lines += [f"  ✓ {f.name or f.id[:8]}  {d:.0f} m" for f, d in near[:10]]
            else:
                fid, _ = cov.covered[column]
                lines.append(f"  ✓ {fid[:8]} {self.t('no_coords')}")
        else:
            lines.append(self.t("lacking_title", grid=name, fn=fn, radius=radius))
            ranked = self.result.candidates(grid_code, column, include_excluded=True)
            eligible = [c for c in ranked if c.eligible]
            if not eligible:
                lines.append("  " + self.t("none_near"))
            for n, c in enumerate(eligible, 1):
                where = "-" if c.distance_m is None else f"{c.distance_m:.0f} m"
                lines.append(f" {n}. [{c.score:+d}] {c.site.title or c.site.id[:8]}  {where}")
                lines.append(f"    {c.reason(self.lang)}")
            excluded = [c for c in ranked if not c.eligible]
            if excluded:
                lines.append(self.t("excluded", n=len(excluded)))
                lines += [f"  ✗ {c.site.title or c.site.id[:8]}: {c.reason(self.lang)}"
                          for c in excluded]
        self.show_detail("\n".join(lines))

    def show_detail(self, text: str) -> None:
        self.detail_text = text
        self.query_one("#cov-detail-text", Static).update(Text(text))
        self.remove_class("charts")

    # -- charts ----------------------------------------------------------------------------
    def draw_charts(self, street: str) -> None:
        """Bars drawn as text, each labelled in full beside it: a terminal chart library
        measured Chinese labels as half their width, so bars merged and labels dropped."""
        if self.result is None:
            return
        self.chart_street = street
        rollup = next((r for r in self.result.streets if r.code == street), None)
        if rollup is None:
            return
        name = self.result.names.get(street, street)
        functions = self.query_one("#cov-chart-functions", Static)
        labels = [as_msg(SCENE_SHORT[s])(self.lang) for s in SCENE_CODES]
        rows = [(label, rollup.covered[s], rollup.grids) for label, s in zip(
            labels, SCENE_CODES, strict=True)]
        functions.update(text_bars(f"{name} · {self.t('chart_functions', n=rollup.grids)}",
                                   rows, functions.content_region.width or 46))
        grids = {g.grid.code for g in self.result.grids if g.grid.street == street}
        counts = Counter(s.status for s in self.result.sites if s.grid in grids)
        codes = STATUS.codes()
        total = sum(counts.values()) or 1
        status = self.query_one("#cov-chart-status", Static)
        status.update(text_bars(self.t("chart_status"),
                                [(STATUS.label(c, self.lang), counts.get(c, 0), total)
                                 for c in codes], status.content_region.width or 30))
        self.chart_counts = {"functions": dict(rollup.covered), "status": dict(counts)}

    # -- actions ---------------------------------------------------------------------------
    def current_cell(self) -> tuple[str, str] | None:
        table = self.query_one("#cov-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(key.row_key.value), str(key.column_key.value)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_map(self) -> None:
        """The map around the grid under the cursor; on a gap, its radius and candidates."""
        cell = self.current_cell()
        if cell is None or self.result is None or cell[0] not in self.result.by_code:
            self.app.open_map(self.area)
            return
        grid, column = cell
        missing = column in SCENE_CODES and column in self.result.by_code[grid].missing
        self.app.open_map(self.area, grid, (grid, column) if missing else None)

    def action_recompute(self) -> None:
        self.recompute()

    def action_toggle_chart(self) -> None:
        self.toggle_class("charts")
        # Drawn once the panel has its size: the bars are as long as the room they get.
        self.call_after_refresh(self._draw_current_street)

    def _draw_current_street(self) -> None:
        cell = self.current_cell()
        if cell and self.result and cell[0] in self.result.by_code:
            self.draw_charts(self.result.by_code[cell[0]].grid.street)

    def on_resize(self) -> None:
        if self.has_class("charts"):
            self.call_after_refresh(self._draw_current_street)

    def action_toggle_missing(self) -> None:
        if self.result is None:
            return
        cell = self.current_cell()
        column = cell[1] if cell else ""
        if self.only_lacking or column not in SCENE_CODES:
            self.only_lacking = None
        else:
            self.only_lacking = column
        self.fill_table()
        table = self.query_one("#cov-table", DataTable)
        if column in SCENE_CODES:
            table.move_cursor(column=4 + SCENE_CODES.index(column))
        if self.only_lacking:
            fn = BY_CODE[self.only_lacking].label(self.lang)
            self.show_detail(self.t("filter_on", fn=fn, n=table.row_count))


def text_bars(title: str, rows: list[tuple[str, int, int]], width: int) -> Text:
    """A bar per row: `label ███████ n/of`, labels padded by their width on screen."""
    out = Text(title + "\n", style="bold")
    label_width = max((cell_len(label) for label, _, _ in rows), default=0)
    numbers = max((len(f"{n}/{of}") for _, n, of in rows), default=3)
    room = max(width - label_width - numbers - 4, 4)
    for label, n, of in rows:
        bar = round(room * n / of) if of else 0
        out.append(pad(label, label_width) + " ")
        out.append("█" * bar, style="green" if n else "")
        out.append(" " * (room - bar) + f" {n}/{of}\n")
    return out
