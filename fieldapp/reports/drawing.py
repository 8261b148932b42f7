"""Pictures on the printed page, drawn as PDF vectors (sharp at any zoom, no image files):
the map of an area (grid boundaries and centres, facilities with their walking radii, idle
sites by status, a scale bar and a legend) and horizontal bar charts."""

from __future__ import annotations

from collections.abc import Sequence

from fieldapp.domain.catalog import BY_CODE
from fieldapp.domain.choices import STATUS
from fieldapp.domain.mapview import SCENE_COLOURS, STATUS_COLOURS, Frame, MapLayers
from fieldapp.reports.document import MUTED, ReportPDF

GRID_COLOUR = (120, 120, 120)


def draw_map(pdf: ReportPDF, layers: MapLayers, height: float, radius_of, lang: str = "zh",
             only_scene: str | None = None) -> None:
    """The map across the page at the cursor, `height` mm tall, with its legend below.

    `radius_of(scene)` gives the walking radius in metres; with `only_scene`, only the
    facilities offering that scene are drawn with a radius (the others as dots).
    """
    bounds = layers.bounds()
    x0, y0, width = pdf.l_margin, pdf.get_y(), pdf.content_width
    if bounds is None:
        pdf.note("没有带坐标的记录,无法绘制地图" if lang == "zh" else
                 "nothing here has coordinates: no map")
        return
    frame = Frame.fit(bounds, width, height)

    def at(lat: float, lng: float) -> tuple[float, float]:
        x, y = frame.to_box(lat, lng)
        return x0 + x, y0 + y

    with pdf.local_context(draw_color=(170, 170, 170), line_width=0.3):
        pdf.rect(x0, y0, width, height)
    with pdf.rect_clip(x0, y0, width, height):
        with pdf.local_context(draw_color=GRID_COLOUR, line_width=0.25, dash_pattern={
                "dash": 1.2, "gap": 0.8}):
            for rings in layers.boundaries.values():
                for ring in rings:
                    if len(ring) >= 3:
                        pdf.polygon([at(lat, lng) for lat, lng in ring], style="D")
        # Grouped by colour: one graphics state per group, not one per mark (a district
        # has thousands of marks and each state change costs as much as the mark).
        by_scene: dict[str, list[tuple[float, float]]] = {}
        for f in layers.facilities:
            scene = only_scene if only_scene in f.scenes else (None if only_scene else f.scene)
            if scene:
                by_scene.setdefault(scene, []).append(at(f.lat, f.lng))
        for scene, points in by_scene.items():
            colour = SCENE_COLOURS.get(scene, (80, 80, 80))
            r = frame.units(radius_of(scene))
            with pdf.local_context(fill_color=colour, fill_opacity=0.07, draw_color=colour,
                                   stroke_opacity=0.35, line_width=0.15):
                for x, y in points:
                    pdf.circle(x, y, r, style="DF")
        with pdf.local_context(draw_color=GRID_COLOUR, line_width=0.2):
            for g in layers.grids:
                x, y = at(g.lat, g.lng)
                pdf.line(x - 0.9, y, x + 0.9, y)
                pdf.line(x, y - 0.9, x, y + 0.9)
        by_status: dict[str, list[tuple[float, float]]] = {}
        for s in layers.sites:
            by_status.setdefault(s.status, []).append(at(s.lat, s.lng))
        for status, points in by_status.items():
            with pdf.local_context(fill_color=STATUS_COLOURS.get(status, (90, 90, 90))):
                for x, y in points:
                    pdf.rect(x - 0.6, y - 0.6, 1.2, 1.2, style="F")
        dots: dict[str, list[tuple[float, float]]] = {}
        for f in layers.facilities:
            dots.setdefault(f.scene, []).append(at(f.lat, f.lng))
        for scene, points in dots.items():
            with pdf.local_context(fill_color=SCENE_COLOURS.get(scene, (80, 80, 80)),
                                   draw_color=(255, 255, 255), line_width=0.15):
                for x, y in points:
                    pdf.circle(x, y, 0.85, style="DF")
    _scale_bar(pdf, frame, x0 + 4, y0 + height - 5)
    pdf.set_xy(x0, y0 + height + 1.5)
    _legend(pdf, layers, lang, only_scene)


def _scale_bar(pdf: ReportPDF, frame: Frame, x: float, y: float) -> None:
    target = frame.metres(30)  # about 3 cm of paper
    nice = max(n for n in (50, 100, 200, 300, 500, 1000, 2000, 5000, 10000, 20000)
               if n <= max(target, 50))
    length = frame.units(nice)
    with pdf.local_context(fill_color=(255, 255, 255), fill_opacity=0.8):
        pdf.rect(x - 1, y - 3.5, length + 16, 5.5, style="F")
    with pdf.local_context(draw_color=(40, 40, 40), line_width=0.4):
        pdf.line(x, y, x + length, y)
        pdf.line(x, y - 1, x, y)
        pdf.line(x + length, y - 1, x + length, y)
    with pdf.local_context(font_size_pt=7):
        pdf.set_xy(x + length + 1, y - 2.5)
        pdf.cell(14, 3, f"{nice} m" if nice < 1000 else f"{nice // 1000} km")


def _legend(pdf: ReportPDF, layers: MapLayers, lang: str, only_scene: str | None) -> None:
    scenes = [s for s in SCENE_COLOURS if any(s in f.scenes for f in layers.facilities)]
    if only_scene:
        scenes = [only_scene]
    items: list[tuple[str, tuple[int, int, int], str]] = []
    facility_word = "设施" if lang == "zh" else "facility"
    for scene in scenes:
        items.append(("dot", SCENE_COLOURS[scene], f"{BY_CODE[scene].label(lang)}{facility_word}"
                      if lang == "zh" else f"{BY_CODE[scene].label(lang)}"))
    for status in STATUS.codes():
        if any(s.status == status for s in layers.sites):
            word = "存量资源" if lang == "zh" else "site"
            items.append(("square", STATUS_COLOURS.get(status, (90, 90, 90)),
                          f"{word}·{STATUS.label(status, lang)}"))
    items.append(("cross", GRID_COLOUR, "网格中心" if lang == "zh" else "grid centre"))
    items.append(("ring", (120, 120, 120), "圆圈:步行服务半径" if lang == "zh" else
                  "circles: walking radius"))
    x, y = pdf.l_margin, pdf.get_y()
    step = pdf.content_width / 4
    with pdf.local_context(font_size_pt=7.5):
        for n, (shape, colour, label) in enumerate(items):
            col, row = n % 4, n // 4
            cx, cy = x + col * step + 1.5, y + row * 4.6 + 2
            with pdf.local_context(fill_color=colour, draw_color=colour, line_width=0.25):
                if shape == "dot":
                    pdf.circle(cx, cy, 0.9, style="F")
                elif shape == "square":
                    pdf.rect(cx - 0.7, cy - 0.7, 1.4, 1.4, style="F")
                elif shape == "ring":
                    pdf.circle(cx, cy, 1.3, style="D")
                else:
                    pdf.line(cx - 1, cy, cx + 1, cy)
                    pdf.line(cx, cy - 1, cx, cy + 1)
            pdf.set_xy(cx + 2.5, cy - 2)
            pdf.cell(step - 4, 4, label)
    rows = (len(items) + 3) // 4
    pdf.set_xy(pdf.l_margin, y + rows * 4.6 + 2)


def bar_chart(pdf: ReportPDF, title: str, bars: Sequence[tuple[str, float, tuple[int, int, int]]],
              width: float, x: float | None = None, maximum: float | None = None,
              unit: str = "") -> float:
    """Horizontal bars with labels on the left (Chinese labels read best so); returns the
    height used. Draws at (x, cursor y)."""
    x = pdf.l_margin if x is None else x
    y = pdf.get_y()
    bar_height, gap = 4.2, 1.6
    with pdf.local_context(font_size_pt=7.5):
        label_width = min(width * 0.45, max([12.0, *(pdf.get_string_width(label) + 3
                                                     for label, _, _ in bars)]))
    top = max([maximum or 0.0, *(v for _, v, _ in bars)]) or 1.0
    with pdf.local_context(font_size_pt=9):
        pdf.set_xy(x, y)
        pdf.cell(width, 5, title)
    y += 6.5
    span = width - label_width - 14
    with pdf.local_context(font_size_pt=7.5):
        for n, (label, value, colour) in enumerate(bars):
            by = y + n * (bar_height + gap)
            pdf.set_xy(x, by)
            pdf.cell(label_width - 1, bar_height, label, align="R")
            with pdf.local_context(fill_color=(236, 238, 242)):
                pdf.rect(x + label_width, by, span, bar_height, style="F")
            with pdf.local_context(fill_color=colour):
                if value > 0:
                    pdf.rect(x + label_width, by, max(0.4, span * value / top), bar_height,
                             style="F")
            pdf.set_xy(x + label_width + span + 1, by)
            with pdf.local_context(text_color=MUTED):
                shown = f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"
                pdf.cell(13, bar_height, shown)
    return 6.5 + len(bars) * (bar_height + gap)
