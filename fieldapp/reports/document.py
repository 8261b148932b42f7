"""The printed page: an A4 PDF with Chinese text that reads anywhere, and the few building
blocks reports are made of (headings, label/value rows, tables, notes).

The font ships with fieldapp (WenQuanYi Micro Hei, Apache-2.0, `fonts/`) and is embedded as
a subset of the glyphs used, so the file prints correctly on a machine with no Chinese fonts
and stays small. fpdf2 (pure Python) writes the PDF; nothing here touches a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

FONT_FILE = Path(__file__).with_name("fonts") / "wqy-microhei.ttc"
FAMILY = "cjk"
MARGIN = 14.0
INK = (30, 30, 30)
MUTED = (110, 110, 110)
ACCENT = (20, 80, 150)
RULE = (190, 190, 190)

#: Report progress: (fraction done 0..1, what is being done).
Progress = Callable[[float, str], None]


def local_time(iso: str | None, with_zone: bool = False) -> str:
    """A stored UTC time in the laptop's display zone (fieldapp.localtime), e.g.
    `2025-03-04 17:15 UTC+8` with the zone."""
    from fieldapp import localtime

    return localtime.show(iso, zone=with_zone)


def save_pdf(pdf: FPDF, path: str | os.PathLike) -> None:
    """Write to a temporary name first: a failed run never leaves half a PDF behind."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        pdf.output(str(partial))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


class ReportPDF(FPDF):
    """A4 portrait, the CJK font loaded, a running header and page numbers."""

    def __init__(self, title: str, lang: str = "zh", subtitle: str = "") -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_lang = lang
        self.report_title = title
        self.subtitle = subtitle
        self.made_at = local_time(datetime.now(UTC).isoformat(), with_zone=True)
        self.set_margins(MARGIN, MARGIN + 4, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 2)
        self.add_font(FAMILY, fname=str(FONT_FILE), collection_font_number=0)
        self.set_font(FAMILY, size=10)
        self.set_text_color(*INK)
        self.set_title(title)
        self.set_creator("fieldapp")
        self.set_lang("zh-CN" if lang == "zh" else "en")
        self._widths: dict[float, dict[str, float]] = {}

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    # -- page furniture --------------------------------------------------------------------
    def header(self) -> None:
        with self.local_context(text_color=MUTED, font_size_pt=8):
            self.set_xy(self.l_margin, 8)
            self.cell(self.content_width / 2, 5, self.report_title)
            self.cell(self.content_width / 2, 5, self.subtitle, align="R")
        with self.local_context(draw_color=RULE, line_width=0.2):
            self.line(self.l_margin, 13.5, self.w - self.r_margin, 13.5)
        self.set_xy(self.l_margin, MARGIN + 4)

    def footer(self) -> None:
        self.set_y(-11)
        with self.local_context(text_color=MUTED, font_size_pt=8):
            made = "制表时间" if self.report_lang == "zh" else "Made"
            self.cell(self.content_width / 2, 5, f"{made} {self.made_at} · fieldapp")
            page = (f"第 {self.page_no()} / {{nb}} 页" if self.report_lang == "zh"
                    else f"page {self.page_no()} of {{nb}}")
            self.cell(self.content_width / 2, 5, page, align="R")

    # -- blocks ----------------------------------------------------------------------------
    def bold_text(self) -> object:
        """Headings in a face with no bold: fill and stroke the glyphs (a thin outline)."""
        return self.local_context(text_mode="FILL_STROKE", line_width=0.18,
                                  draw_color=self.text_color.colors255
                                  if hasattr(self.text_color, "colors255") else INK)

    def h1(self, text: str, sub: str = "") -> None:
        self.ensure_space(24)
        with self.local_context(font_size_pt=17, text_color=ACCENT):
            with self.bold_text():
                self.multi_cell(0, 9, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                                new_y=YPos.NEXT)
        if sub:
            with self.local_context(font_size_pt=9, text_color=MUTED):
                self.multi_cell(0, 5, sub, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                                new_y=YPos.NEXT)
        self.ln(2)

    def h2(self, text: str) -> None:
        self.ensure_space(20)
        self.ln(2)
        y = self.get_y()
        with self.local_context(fill_color=ACCENT):
            self.rect(self.l_margin, y + 1, 1.4, 5, style="F")
        self.set_x(self.l_margin + 3)
        with self.local_context(font_size_pt=12, text_color=ACCENT):
            with self.bold_text():
                self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def h3(self, text: str) -> None:
        self.ensure_space(14)
        with self.local_context(font_size_pt=10.5, text_color=INK):
            with self.bold_text():
                self.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def note(self, text: str) -> None:
        with self.local_context(font_size_pt=8.5, text_color=MUTED):
            self.multi_cell(0, 4.6, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)

    def paragraph(self, text: str, size: float = 10) -> None:
        with self.local_context(font_size_pt=size):
            self.multi_cell(0, size * 0.52, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)

    def ensure_space(self, height: float) -> None:
        """Start a new page unless `height` mm fit below the cursor (keeps a heading with
        what follows it)."""
        if self.get_y() + height > self.h - self.b_margin:
            self.add_page()

    def fields(self, rows: Sequence[tuple[str, str]], label_width: float = 42,
               columns: int = 2) -> None:
        """Label/value pairs, `columns` pairs to a row, values wrapping by character."""
        if not rows:
            return
        widths: list[float] = []
        value_width = self.content_width / columns - label_width
        for _ in range(columns):
            widths += [label_width, value_width]
        label_face = FontFace(color=MUTED, fill_color=(245, 246, 248))
        with self.local_context(font_size_pt=9):
            with self.table(col_widths=widths, width=self.content_width, line_height=5,
                            first_row_as_headings=False, wrapmode=WrapMode.CHAR,
                            text_align="LEFT", borders_layout="HORIZONTAL_LINES",
                            padding=(0.8, 1.2)) as table:
                # Long values (notes, conditions) get a whole row; short ones sit in pairs.
                pending: list[tuple[str, str]] = []

                def flush() -> None:
                    if pending:
                        row = table.row()
                        for label, value in pending + [("", "")] * (columns - len(pending)):
                            row.cell(label, style=label_face)
                            row.cell(value or ("—" if label else ""))
                        pending.clear()

                for label, value in rows:
                    if len(value or "") > 24 and columns > 1:
                        flush()
                        row = table.row()
                        row.cell(label, style=label_face)
                        row.cell(value, colspan=2 * columns - 1)
                        continue
                    pending.append((label, value))
                    if len(pending) == columns:
                        flush()
                flush()

    def text_width(self, text: str) -> float:
        """Width in mm at the current size, from a per-character cache (fpdf2's own measure
        costs tens of µs a call; a district's tables have tens of thousands of cells)."""
        cache = self._widths.setdefault(self.font_size_pt, {})
        total = 0.0
        for ch in text:
            w = cache.get(ch)
            if w is None:
                w = cache[ch] = self.get_string_width(ch)
            total += w
        return total

    def wrap(self, text: str, width: float, max_lines: int) -> list[str]:
        """`text` broken by character into lines of at most `width` mm; the last of
        `max_lines` ends with an ellipsis when text is left over."""
        lines, line, used = [], [], 0.0
        cache = self._widths.setdefault(self.font_size_pt, {})
        for ch in " ".join(str(text).split()):
            w = cache.get(ch)
            if w is None:
                w = cache[ch] = self.get_string_width(ch)
            if used + w > width and line:
                lines.append("".join(line))
                if len(lines) == max_lines:
                    last = lines[-1]
                    while last and self.text_width(last + "…") > width:
                        last = last[:-1]
                    lines[-1] = last + "…"
                    return lines
                line, used = [], 0.0
            line.append(ch)
            used += w
        if line:
            lines.append("".join(line))
        return lines or [""]

    def grid_table(self, headers: Sequence[str], rows: Sequence[Sequence[object]],
                   widths: Sequence[float], size: float = 8.5,
                   align: Sequence[str] | None = None, max_lines: int = 3) -> None:
        """A table with its heading row repeated on every page; cells wrap by character up
        to `max_lines` lines. Drawn with plain text and rectangles (fpdf2's table() takes
        milliseconds a cell, far too slow for a district's lists)."""
        widths = [w * self.content_width / sum(widths) for w in widths]
        align = list(align or ["LEFT"] * len(widths))
        pad, line_h = 1.0, size * 0.42
        with self.local_context(font_size_pt=size):
            def draw_row(cells: Sequence[object], heading: bool, shade: bool) -> None:
                wrapped = [self.wrap("" if c is None else str(c), w - 2 * pad, max_lines)
                           for c, w in zip(cells, widths, strict=False)]
                height = max(len(lines) for lines in wrapped) * line_h + 1.2
                if self.get_y() + height > self.h - self.b_margin:
                    self.add_page(orientation=self.cur_orientation)
                    if not heading:
                        draw_row(headers, True, False)
                y = self.get_y()
                if heading or shade:
                    with self.local_context(fill_color=ACCENT if heading else (246, 248, 251)):
                        self.rect(self.l_margin, y, sum(widths), height, style="F")
                x = self.l_margin
                colour = (255, 255, 255) if heading else INK
                with self.local_context(text_color=colour):
                    for lines, width, how in zip(wrapped, widths, align, strict=False):
                        for n, line in enumerate(lines):
                            if how == "RIGHT":
                                tx = x + width - pad - self.text_width(line)
                            elif how == "CENTER":
                                tx = x + (width - self.text_width(line)) / 2
                            else:
                                tx = x + pad
                            self.text(tx, y + 0.6 + (n + 0.78) * line_h, line)
                        x += width
                self.set_y(y + height)

            draw_row(headers, True, False)
            for index, cells in enumerate(rows):
                draw_row(cells, False, index % 2 == 1)
            with self.local_context(draw_color=RULE, line_width=0.2):
                self.line(self.l_margin, self.get_y(), self.l_margin + sum(widths),
                          self.get_y())
        self.set_x(self.l_margin)
