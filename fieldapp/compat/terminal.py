"""Whether the terminal draws box and block characters two cells wide.

The legacy Windows console (conhost) with a Chinese, Japanese or Korean code page renders
the "ambiguous width" characters Textual uses for borders, scrollbars and check boxes as
two cells, so every border and table column slides. Windows Terminal, VS Code, ConEmu and
the Linux desktops' terminals (GNOME, UOS, Kylin) draw them one cell wide.
"""

from __future__ import annotations

import os

from fieldapp.compat import IS_WINDOWS

#: Code pages whose console fonts draw ambiguous-width characters wide.
CJK_CODE_PAGES = {932, 936, 949, 950, 54936}
#: Set by terminals that draw them one cell wide even on a CJK code page.
MODERN_TERMINAL_VARS = ("WT_SESSION", "TERM_PROGRAM", "ConEmuANSI", "ALACRITTY_LOG",
                        "WEZTERM_PANE")


def console_code_page() -> int | None:
    """The Windows console's output code page, or None elsewhere / without a console."""
    if not IS_WINDOWS:
        return None
    import ctypes

    try:
        return int(ctypes.windll.kernel32.GetConsoleOutputCP()) or None  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None


def draws_box_chars_wide(environ: dict[str, str] | None = None,
                         code_page: int | None = None, windows: bool = IS_WINDOWS) -> bool:
    """True for conhost with a CJK code page (the case `--plain` exists for)."""
    if not windows:
        return False
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in MODERN_TERMINAL_VARS):
        return False
    page = code_page if code_page is not None else console_code_page()
    return page in CJK_CODE_PAGES
