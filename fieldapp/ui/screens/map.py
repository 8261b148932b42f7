"""The map screen (`g` from the lists, a record, the coverage table): the user's area drawn
from the records' coordinates, with a legend in the current language, what lies near the
cursor, and the records that have no coordinates listed beside the map.

Arrows move the map under the cursor (the centre), `+`/`-` zoom, `0` shows everything, Enter
opens the record nearest the cursor. Opened on a record, the map centres on it; opened from a
gap in the coverage table, it draws the gap's walking radius around the grid centre and lists
the sites that could fill it. Data is read once in a worker; every key only redraws.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from fieldapp.domain.catalog import BY_CODE, scene_of
from fieldapp.domain.choices import RECORD_KIND, STATUS
from fieldapp.domain.mapview import (
    SCENE_COLOURS,
    MapLayers,
    MapPoint,
    PointIndex,
    layers_from,
    nearest,
)
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.map_canvas import (
    FACILITY,
    GAP_STYLE,
    GRID,
    RADIUS_STYLE,
    SCENE_STYLES,
    SITE,
    STATUS_STYLES,
    MapCanvas,
    build_index,
)
from fieldapp.ui.widgets.status_bar import StatusBar

UNPLACED_SHOWN = 12
CLOSE_CELLS = 2.5  # how near (in cells) a record must be to the cursor to be "near" it


@dataclass
class MapLoaded(Message):
    layers: MapLayers
    index: PointIndex
    area_name: str
    radius_m: dict[str, float]
    candidates: list[tuple[str, str, float | None]]  # (title, reason, metres) for a gap
    gap_centre: tuple[float, float] | None


class MapScreen(BaseScreen):
    DEFAULT_CSS = """
    MapScreen #map-body { height: 1fr; }
    MapScreen #map-side { width: 34; border-left: solid $primary; padding: 0 1; }
    MapScreen #map-info { height: 1; color: $text-muted; padding: 0 1; }
    """
    HINTS = [("←↑↓→", "map_pan"), ("+ -", "map_zoom"), ("0", "map_fit"), ("⏎", "open"),
             ("Esc", "back")]
    BINDINGS = [
        Binding("up", "pan(0, -0.125)", show=False),
        Binding("down", "pan(0, 0.125)", show=False),
        Binding("left", "pan(-0.125, 0)", show=False),
        Binding("right", "pan(0.125, 0)", show=False),
        Binding("plus,equals_sign", "zoom(2)", show=False),
        Binding("minus,underscore", "zoom(0.5)", show=False),
        Binding("0", "fit", show=False),
        Binding("enter", "open_nearest", show=False),
        Binding("escape", "back", show=False),
        Binding("slash", "search", show=False),
    ]

    def __init__(self, area: str | None = None, focus_id: str | None = None,
                 gap: tuple[str, str] | None = None) -> None:
        """`area`: a grid, street or district code (default: the user's areas);
        `focus_id`: a record to centre on; `gap`: (grid code, scene) from the coverage table."""
        super().__init__()
        self.area = area
        self.focus_id = focus_id
        self.gap = gap
        self.loaded: MapLoaded | None = None
        self.near: MapPoint | None = None
        self._near_shown = ""

    def compose(self) -> ComposeResult:
        yield Static(t("map", self.lang), id="map-title", classes="screen-title")
        with Horizontal(id="map-body"):
            yield MapCanvas(id="map-canvas")
            with VerticalScroll(id="map-side"):
                yield Static("", id="map-near")
                yield Static("", id="map-legend")
                yield Static("", id="map-unplaced")
        yield Static(t("loading", self.lang), id="map-info")
        yield StatusBar()

    def on_mount(self) -> None:
        side = self.query_one("#map-side")
        side.styles.width = 34 if self.app.size.width >= 100 else 26
        self.query_one(MapCanvas).focus()

    # -- data ------------------------------------------------------------------------------
    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="map")
    def load(self) -> None:
        from fieldapp.store.coverage_load import load_inputs, load_norms
        from fieldapp.store.scope import own_area, scope_grids

        with self.app.reading("map") as store:
            grids = scope_grids(store)
            area = self.area or own_area(store)
            if area is not None:
                below = set(store.area_codes_below(area))
                grids = below if grids is None else grids & below
            norms = load_norms(store)
            reach = max([norms.life_circle_m, *norms.radius_m.values()])
            try:
                inputs = load_inputs(store, area, reach)
            except LookupError:
                inputs = load_inputs(store, None, reach)
                area = None
            boundaries = _boundaries(store, grids)
            name = inputs.names.get(area or "", "") or t("map_all", self.lang)
        layers = layers_from(inputs.grids, inputs.facilities, inputs.sites, boundaries, grids)
        candidates, centre = [], None
        if self.gap is not None:
            candidates, centre = self._gap_candidates(inputs, norms, grids)
        radius = {scene: norms.radius(scene) for scene in SCENE_COLOURS}
        self.post_message(MapLoaded(layers, build_index(layers), name, radius, candidates,
                                    centre))

    def _gap_candidates(self, inputs, norms, grids) -> tuple[list, tuple[float, float] | None]:
        from fieldapp.domain.coverage import analyse

        grid_code, scene = self.gap
        analysis = analyse(inputs.grids, inputs.facilities, inputs.sites, norms, inputs.names)
        cov = analysis.by_code.get(grid_code)
        if cov is None or cov.grid.lat is None or cov.grid.lng is None:
            return [], None
        found = [(c.site.title or c.site.id[:8], c.reason(self.lang), c.distance_m)
                 for c in analysis.candidates(grid_code, scene)
                 if grids is None or c.site.grid in grids]
        return found[:8], (cov.grid.lat, cov.grid.lng)

    @on(MapLoaded)
    def show(self, message: MapLoaded) -> None:
        self.loaded = message
        canvas = self.query_one(MapCanvas)
        canvas.set_layers(message.layers, message.index)
        self.query_one("#map-title", Static).update(t("map_title", self.lang,
                                                      area=message.area_name))
        focus = None
        if self.focus_id:
            focus = next((p for p in message.layers.points() if p.id == self.focus_id), None)
        if focus is not None:
            canvas.centre_on(focus.lat, focus.lng, min(canvas.frame.metres_per_unit, 40.0))
        elif message.gap_centre is not None:
            radius = message.radius_m.get(scene_of(self.gap[1]), 1000.0)
            canvas.centre_on(*message.gap_centre, max(10.0, radius / 8))
        self.relabel_side()
        self.after_move()

    # -- side panel ------------------------------------------------------------------------
    def relabel_side(self) -> None:
        if self.loaded is None:
            return
        lang, layers = self.lang, self.loaded.layers
        legend = Text(t("map_legend", lang) + "\n", style="bold")
        for scene in SCENE_COLOURS:
            if any(scene in f.scenes for f in layers.facilities):
                legend.append(f"{FACILITY} ", style=SCENE_STYLES[scene])
                legend.append(f"{BY_CODE[scene].label(lang)}\n")
        for status in STATUS.codes():
            if any(s.status == status for s in layers.sites):
                legend.append(f"{SITE} ", style=STATUS_STYLES[status])
                legend.append(f"{t('map_site', lang)} · {STATUS.label(status, lang)}\n")
        legend.append(f"{GRID} ", style="grey62")
        legend.append(t("map_grid_centre", lang) + "\n")
        legend.append("╋ ", style="bold")
        legend.append(t("map_cursor", lang) + "\n")
        legend.append("◯ ", style=RADIUS_STYLE)
        legend.append(t("map_radius", lang) + "\n")
        if self.gap is not None:
            scene = scene_of(self.gap[1])
            legend.append("◯ ", style=GAP_STYLE)
            legend.append(t("map_gap_ring", lang, fn=BY_CODE[scene].label(lang),
                            radius=self.loaded.radius_m.get(scene, 0)) + "\n")
        self.query_one("#map-legend", Static).update(legend)
        unplaced = Text()
        if layers.unplaced:
            unplaced.append(t("map_unplaced", lang, n=len(layers.unplaced)) + "\n",
                            style="bold")
            for p in layers.unplaced[:UNPLACED_SHOWN]:
                unplaced.append(f"{RECORD_KIND.label(p.kind, lang)} {p.label}\n")
            if len(layers.unplaced) > UNPLACED_SHOWN:
                unplaced.append(f"… +{len(layers.unplaced) - UNPLACED_SHOWN}\n")
        self.query_one("#map-unplaced", Static).update(unplaced)

    def after_move(self) -> None:
        """What is near the cursor: highlight it, draw a facility's radius, say where we are."""
        canvas = self.query_one(MapCanvas)
        if self.loaded is None or canvas.frame is None:
            return
        lang, frame = self.lang, canvas.frame
        lat, lng = frame.lat, frame.lng
        layers = self.loaded.layers
        found = canvas.index.near(lat, lng, frame.metres(CLOSE_CELLS))
        self.near = found[0] if found else None
        canvas.highlight = self.near
        canvas.circles = []
        if self.gap is not None and self.loaded.gap_centre is not None:
            scene = scene_of(self.gap[1])
            canvas.circles.append((*self.loaded.gap_centre,
                                   self.loaded.radius_m.get(scene, 1000.0), GAP_STYLE))
        if self.near is not None and self.near.kind == "facility" and self.near.scene:
            canvas.circles.append((self.near.lat, self.near.lng,
                                   self.loaded.radius_m.get(self.near.scene, 1000.0),
                                   RADIUS_STYLE))
        canvas.redraw()
        metres = frame.metres_per_unit
        shown = f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"
        info = t("map_scale", lang, m=shown, lat=lat, lng=lng)
        if not layers.points():
            info = t("map_nothing", lang)
        self.query_one("#map-info", Static).update(info)
        near = self._near_text(found)
        if near.plain != self._near_shown:  # re-laying out the side panel costs more than
            self._near_shown = near.plain   # drawing the map: only when it changed
            self.query_one("#map-near", Static).update(near)

    def _near_text(self, found) -> Text:
        lang = self.lang
        text = Text(t("map_near", lang) + "\n", style="bold")
        if found:
            point, metres = found
            kind = t("map_grid_centre", lang) if point.kind == "grid" else \
                RECORD_KIND.label(point.kind, lang)
            text.append(f"{kind} · {point.label}\n")
            if point.status:
                text.append(f"{STATUS.label(point.status, lang)}  ")
            if point.scenes:
                text.append(t("list_sep", lang).join(BY_CODE[s].label(lang)
                                                     for s in point.scenes[:3]))
            text.append("\n" + t("map_distance", lang, d=f"{metres:.0f}") + "\n")
        else:
            text.append("—\n")
        if self.gap is not None and self.loaded is not None:
            text.append(t("map_candidates", lang) + "\n", style="bold")
            if not self.loaded.candidates:
                text.append(t("map_no_candidates", lang) + "\n")
            for n, (title, _reason, metres) in enumerate(self.loaded.candidates, 1):
                where = "" if metres is None else f" {metres:.0f} m"
                text.append(f"{n}. {title}{where}\n")
        text.append("\n")
        return text

    async def relabel(self) -> None:
        self.shown_lang = self.lang
        self._near_shown = ""
        self.query_one("#map-title", Static).update(t("map_title", self.lang, area=(
            self.loaded.area_name if self.loaded else "")))
        self.relabel_side()
        self.after_move()

    # -- keys ------------------------------------------------------------------------------
    def action_pan(self, dx: float, dy: float) -> None:
        self.query_one(MapCanvas).pan(dx, dy)
        self.after_move()

    def action_zoom(self, factor: float) -> None:
        self.query_one(MapCanvas).zoom(factor)
        self.after_move()

    def action_fit(self) -> None:
        self.query_one(MapCanvas).fit()
        self.after_move()

    def action_open_nearest(self) -> None:
        canvas = self.query_one(MapCanvas)
        if self.loaded is None or canvas.frame is None:
            return
        layers = self.loaded.layers
        found = nearest([*layers.facilities, *layers.sites], canvas.frame.lat, canvas.frame.lng)
        if found is not None:
            self.app.open_detail(found[0].id)

    def action_back(self) -> None:
        self.dismiss()

    def action_search(self) -> None:
        """`/` goes to the list's search box: the list this map was opened from, if any."""
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        self.dismiss()
        if type(below).__name__ == "RecordListScreen":
            self.app.call_after_refresh(below.action_focus_search)
        else:
            self.app.call_after_refresh(self.app.action_search)


def _boundaries(store, grids: set[str] | None) -> dict:
    columns = {r[1] for r in store.conn.execute("PRAGMA table_info(area)")}
    if "boundary" not in columns:
        return {}
    from fieldapp.domain.grid_shapes import rings_of

    rows = store.conn.execute("SELECT code, boundary FROM area WHERE boundary IS NOT NULL")
    return {code: rings_of(raw) for code, raw in rows if grids is None or code in grids}
