"""The `plain` border style: ASCII borders and no block glyphs, for consoles that draw box
characters two cells wide (conhost with code page 936; see `fieldapp.compat.terminal`).

Such a console gives two cells to every character its code page stores in two bytes, while
Textual lays the screen out with one cell for symbols like ─ │ ● × · ↓. Plain mode (1) swaps
Textual's glyph tables (borders, scrollbars, check boxes, tab underlines, rules) for ASCII
before the first frame and (2) turns every remaining one-cell symbol into a one-character
ASCII look-alike on its way to the terminal, after layout, so every column keeps its width
and tables line up again. Chinese text (two cells everywhere) and colours are unchanged.
Chosen by `--plain`, the `borders` setting (`fieldapp settings borders plain|box|auto`) or,
on `auto`, by the terminal.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

BORDER_STYLES = ("auto", "plain", "box")
_ASCII_BOX = (("+", "-", "+"), ("|", " ", "|"), ("+", "-", "+"))
_KEEP = {"", "ascii", "none", "hidden", "blank"}


def wants_plain(flag: bool, setting: str | None) -> bool:
    """`--plain` wins; then the setting; `auto` (the default) asks the terminal."""
    if flag or setting == "plain":
        return True
    if setting == "box":
        return False
    from fieldapp.compat.terminal import draws_box_chars_wide

    return draws_box_chars_wide()


def _glyph_tables() -> list[tuple[object, str]]:
    """Every (owner, attribute) plain mode changes; owners are dicts or classes."""
    from textual import _border
    from textual.renderables.bar import Bar
    from textual.scrollbar import ScrollBarRender
    from textual.widgets import _rule
    from textual.widgets._toggle_button import ToggleButton

    return [(_border.BORDER_CHARS, name) for name in _border.BORDER_CHARS
            if name not in _KEEP] + \
        [(_border.BORDER_LOCATIONS, name) for name in _border.BORDER_LOCATIONS
         if name not in _KEEP] + \
        [(_rule._HORIZONTAL_LINE_CHARS, style) for style in _rule._HORIZONTAL_LINE_CHARS] + \
        [(_rule._VERTICAL_LINE_CHARS, style) for style in _rule._VERTICAL_LINE_CHARS] + \
        [(ScrollBarRender, "VERTICAL_BARS"), (ScrollBarRender, "HORIZONTAL_BARS"),
         (ToggleButton, "BUTTON_LEFT"), (ToggleButton, "BUTTON_RIGHT"),
         (Bar, "HALF_BAR_LEFT"), (Bar, "BAR"), (Bar, "HALF_BAR_RIGHT")]


def _get(owner: object, key: str) -> object:
    return owner[key] if isinstance(owner, dict) else getattr(owner, key)


def _set(owner: object, key: str, value: object) -> None:
    if isinstance(owner, dict):
        owner[key] = value
    else:
        setattr(owner, key, value)


def apply_plain_glyphs():  # noqa: ANN201
    """Swap Textual's glyph tables for ASCII, before the app runs; returns an undo."""
    from textual import _border
    from textual.widgets import _rule

    saved = [(owner, key, _get(owner, key)) for owner, key in _glyph_tables()]
    ascii_locations = _border.BORDER_LOCATIONS["ascii"]
    for owner, key, value in saved:
        if owner is _border.BORDER_CHARS:
            _set(owner, key, _ASCII_BOX)
        elif owner is _border.BORDER_LOCATIONS:
            _set(owner, key, ascii_locations)
        elif owner is _rule._HORIZONTAL_LINE_CHARS:
            _set(owner, key, "-" if value.strip() else value)
        elif owner is _rule._VERTICAL_LINE_CHARS:
            _set(owner, key, "|" if value.strip() else value)
        elif key.endswith("_BARS"):  # scrollbar thumbs drawn by their colour alone
            _set(owner, key, [" "] * len(value))
        else:
            _set(owner, key, {"BUTTON_LEFT": "[", "BUTTON_RIGHT": "]"}.get(key, "-"))
    _border.get_box.cache_clear()

    def undo() -> None:
        for owner, key, value in saved:
            _set(owner, key, value)
        _border.get_box.cache_clear()

    return undo

def apply_plain(app) -> None:  # noqa: ANN001
    """Plain mode for `app`: ASCII glyph tables and a driver that writes ASCII symbols."""
    apply_plain_glyphs()
    app.driver_class = plain_driver(app.driver_class)


def plain_driver(base: type) -> type:
    table = narrow_symbols()

    class PlainDriver(base):  # type: ignore[misc,valid-type]
        def write(self, data: str) -> None:
            super().write(data.translate(table))

    PlainDriver.__name__ = f"Plain{base.__name__}"
    return PlainDriver


#: Look-alikes for symbols whose name says less than their shape.
_SYMBOLS = {
    "·": ".", "•": "*", "…": ".", "‥": ".", "×": "x", "÷": "/", "√": "v", "✓": "v",
    "✔": "v", "✗": "x", "✘": "x", "°": "o", "±": "+", "§": "S", "¤": "$", "※": "*",
    "“": '"', "”": '"', "‘": "'", "’": "'", "‖": "|", "′": "'", "″": '"', "⏎": "<",
    "␣": "_", "↳": ">", "■": "#", "□": "#", "▪": "#", "▫": "#", "★": "*", "☆": "*",
    "◆": "*", "◇": "*", "⭘": "o",
}


def _ascii_for(char: str) -> str | None:
    if char in _SYMBOLS:
        return _SYMBOLS[char]
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) == 1 and folded.isascii() and folded.isprintable():
        return folded
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        across, down = "HORIZONTAL" in name or "LEFT" in name or "RIGHT" in name, \
            "VERTICAL" in name or "UP" in name or "DOWN" in name
        if "HORIZONTAL" in name and not down:
            return "-"
        if "VERTICAL" in name and not across:
            return "|"
        return "+"
    if "BLOCK" in name or "SHADE" in name or name.startswith("QUADRANT"):
        return "#" if name == "FULL BLOCK" else " "
    for word, ascii_char in (("DOWN", "v"), ("UP", "^"), ("LEFT", "<"), ("RIGHT", ">")):
        if ("ARROW" in name or "TRIANGLE" in name or "POINTER" in name) and word in name:
            return ascii_char
    if "CIRCLE" in name or "BULLET" in name:
        return "*" if "BLACK" in name or "BULLET" in name else "o"
    if "DASH" in name or "HYPHEN" in name or "LINE" in name and "HORIZONTAL" in name:
        return "-"
    if "CHECK MARK" in name:
        return "v"
    if "QUOTATION" in name:
        return '"'
    return None


@lru_cache(maxsize=1)
def narrow_symbols() -> dict[int, str]:
    """str.translate table: every one-cell, non-ASCII symbol → one ASCII character."""
    from rich.cells import cell_len

    table: dict[int, str] = {}
    for code in range(0xA0, 0x2C00):
        char = chr(code)
        if unicodedata.category(char)[0] not in "PSN" or cell_len(char) != 1:
            continue
        if unicodedata.category(char) == "Nd":
            continue
        replacement = _ascii_for(char)
        if replacement is not None:
            table[code] = replacement
    return table
