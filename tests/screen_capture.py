"""The terminal as a person sees it, as plain text: for the screen matrix and for looking."""

from __future__ import annotations

import io

from rich.console import Console


def screen_text(app) -> str:  # noqa: ANN001
    """Every line of the current screen (modal dialogs over what they cover), right-trimmed."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    lines = console.export_text().splitlines()[:height]
    return "\n".join(line.rstrip() for line in lines) + "\n"
