"""A map drawn in the terminal: braille dots for lines (grid boundaries, walking radii) and one
glyph per cell for points (facilities by scene, idle sites by status, grid centres), with the
cursor at the centre. No tiles, no network: only the records' own coordinates.

The view is a `fieldapp.domain.mapview.Frame` in cell units (a cell is about twice as tall as
it is wide). Points come in a `PointIndex` built off the UI thread: a redraw after a key looks
only at the buckets in view, one point per bucket when zoomed out, so it stays far under
100 ms with 100,000 records. Moving the view does not redraw; the screen calls `redraw()`
once per key after it has also updated what is highlighted.
"""

from __future__ import annotations

import math

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from fieldapp.domain.mapview import (
    SCENE_COLOURS,
    STATUS_COLOURS,
    Frame,
    MapLayers,
    MapPoint,
    PointIndex,
)

CELL_ASPECT = 2.0  # a terminal cell's height over its width
FACILITY, SITE, GRID, CURSOR = "●", "■", "+", "╋"
_BRAILLE = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][col] dot bits
BOUNDARY_STYLE = Style(color="grey50")
RADIUS_STYLE = Style(color="bright_yellow")
GAP_STYLE = Style(color="bright_red")


def rgb_style(rgb: tuple[int, int, int], bold: bool = False) -> Style:
    return Style(color=Color.from_rgb(*rgb), bold=bold)


SCENE_STYLES = {scene: rgb_style(rgb) for scene, rgb in SCENE_COLOURS.items()}
STATUS_STYLES = {status: rgb_style(rgb) for status, rgb in STATUS_COLOURS.items()}


class MapCanvas(Widget, can_focus=True):
    DEFAULT_CSS = """
    MapCanvas { width: 1fr; height: 1fr; background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.map_layers = MapLayers()
        self.frame: Frame | None = None
        self.highlight: MapPoint | None = None
        #: (lat, lng, radius m, style): walking radii to draw (highlighted facility, a gap).
        self.circles: list[tuple[float, float, float, Style]] = []
        self.index = PointIndex([], (31.2, 121.45))
        self._rings: list[list[tuple[float, float]]] = []
        self._lines: list[Strip] = []
        self._drawn_for: tuple | None = None

    # -- data and view ---------------------------------------------------------------------
    def set_layers(self, layers: MapLayers, index: PointIndex | None = None) -> None:
        self.map_layers = layers
        self.index = index or build_index(layers)
        self._rings = [[self._metres(lat, lng) for lat, lng in ring]
                       for rings in layers.boundaries.values() for ring in rings]
        self.fit()

    def _metres(self, lat: float, lng: float) -> tuple[float, float]:
        return self.index.metres(lat, lng)

    def fit(self) -> None:
        bounds = self.map_layers.bounds()
        width, height = max(self.size.width, 10), max(self.size.height, 5)
        if bounds is None:
            bounds = (31.2, 31.21, 121.45, 121.46)
        self.frame = Frame.fit(bounds, width, height, CELL_ASPECT, margin=0.04)

    def centre_on(self, lat: float, lng: float, metres_per_cell: float | None = None) -> None:
        if self.frame is None:
            self.fit()
        frame = self.frame
        self.frame = Frame(lat, lng, metres_per_cell or frame.metres_per_unit, frame.width,
                           frame.height, CELL_ASPECT)

    def zoom(self, factor: float) -> None:
        if self.frame is not None:
            self.frame = self.frame.zoomed(factor)

    def pan(self, dx: float, dy: float) -> None:
        if self.frame is not None:
            self.frame = self.frame.panned(dx, dy)

    def cursor_geo(self) -> tuple[float, float] | None:
        return None if self.frame is None else (self.frame.lat, self.frame.lng)

    def on_resize(self) -> None:
        if self.frame is None:
            self.fit()
        else:
            self.frame = self.frame.resized(self.size.width, self.size.height)
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        self._lines = self.draw()
        self.refresh()

    def draw(self) -> list[Strip]:
        """Rasterise the layers for the current frame into one Strip per row."""
        frame = self.frame
        width, height = max(self.size.width, 1), max(self.size.height, 1)
        if frame is None:
            return [Strip.blank(width) for _ in range(height)]
        if (frame.width, frame.height) != (width, height):
            frame = self.frame = frame.resized(width, height)
        dots = [[0] * width for _ in range(height)]
        dot_style: list[list[Style | None]] = [[None] * width for _ in range(height)]
        glyphs: dict[tuple[int, int], tuple[str, Style]] = {}
        scale = frame.metres_per_unit
        ce, cn = self._metres(frame.lat, frame.lng)
        half_w, half_h = width / 2, height / 2
        y_scale = scale * CELL_ASPECT

        def plot(xd: float, yd: float, style: Style) -> None:
            # (xd, yd) in dots: two across and four down per cell.
            ix, iy = int(xd), int(yd)
            cx, cy = ix >> 1, iy >> 2
            if 0 <= cx < width and 0 <= cy < height and xd >= 0 and yd >= 0:
                dots[cy][cx] |= _BRAILLE[iy & 3][ix & 1]
                dot_style[cy][cx] = style

        def to_dots(e: float, n: float) -> tuple[float, float]:
            return ((half_w + (e - ce) / scale) * 2, (half_h - (n - cn) / y_scale) * 4)

        for ring in self._rings:
            previous = None
            for e, n in ring:
                point = to_dots(e, n)
                if previous is not None:
                    _line(previous, point, plot, BOUNDARY_STYLE, width * 2, height * 4)
                previous = point
        for lat, lng, radius, style in self.circles:
            e, n = self._metres(lat, lng)
            x0, y0 = to_dots(e, n)
            rx, ry = radius / scale * 2, radius / y_scale * 4
            steps = int(min(720, max(24, (rx + ry) * 3)))
            for k in range(steps):
                a = 2 * math.pi * k / steps
                plot(x0 + rx * math.cos(a), y0 + ry * math.sin(a), style)
        grid_style = Style(color="grey62")
        visible = self.index.visible(ce - half_w * scale, ce + half_w * scale,
                                     cn - half_h * y_scale, cn + half_h * y_scale, scale)
        for e, n, p in visible:
            x = int(half_w + (e - ce) / scale)
            y = int(half_h - (n - cn) / y_scale)
            if 0 <= x < width and 0 <= y < height:
                if p.kind == "facility":
                    glyphs[(x, y)] = (FACILITY, SCENE_STYLES.get(p.scene, grid_style))
                elif p.kind == "site":
                    glyphs[(x, y)] = (SITE, STATUS_STYLES.get(p.status, grid_style))
                else:
                    glyphs[(x, y)] = (GRID, grid_style)
        if self.highlight is not None:
            e, n = self._metres(self.highlight.lat, self.highlight.lng)
            x, y = int(half_w + (e - ce) / scale), int(half_h - (n - cn) / y_scale)
            if (x, y) in glyphs:
                char, style = glyphs[(x, y)]
                glyphs[(x, y)] = (char, style + Style(reverse=True, bold=True))
        cursor = (int(half_w), int(half_h))
        under = glyphs.get(cursor)
        glyphs[cursor] = (under[0] if under else CURSOR,
                          (under[1] if under else Style(color="bright_white"))
                          + Style(bgcolor="grey30", bold=True))
        lines = []
        for y in range(height):
            segments, run, run_style = [], [], None
            row_dots, row_styles = dots[y], dot_style[y]
            for x in range(width):
                glyph = glyphs.get((x, y))
                if glyph is not None:
                    char, style = glyph
                elif row_dots[x]:
                    char, style = chr(0x2800 + row_dots[x]), row_styles[x]
                else:
                    char, style = " ", None
                if style is not run_style and run:
                    segments.append(Segment("".join(run), run_style))
                    run = []
                run_style = style
                run.append(char)
            if run:
                segments.append(Segment("".join(run), run_style))
            lines.append(Strip(segments, width))
        return lines

    def render_line(self, y: int) -> Strip:
        if not self._lines or len(self._lines) != self.size.height or (
                self._lines and self._lines[0].cell_length != self.size.width):
            self._lines = self.draw()
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)


def build_index(layers: MapLayers) -> PointIndex:
    """The point index for the layers, about the middle of what they hold (off the UI
    thread: 100,000 points take a few hundred milliseconds)."""
    bounds = layers.bounds()
    origin = ((bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2) if bounds else \
        (31.2, 121.45)
    return PointIndex(layers.points(), origin)


def _line(a: tuple[float, float], b: tuple[float, float], plot, style: Style,
          max_x: int, max_y: int) -> None:
    (x0, y0), (x1, y1) = a, b
    if (x0 < 0 and x1 < 0) or (y0 < 0 and y1 < 0) or (x0 > max_x and x1 > max_x) or (
            y0 > max_y and y1 > max_y):
        return
    steps = int(min(4000, max(abs(x1 - x0), abs(y1 - y0)))) + 1
    for k in range(steps + 1):
        t = k / steps
        plot(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, style)
