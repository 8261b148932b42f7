"""Where Windows and POSIX differ: console encoding, file locks, removing and opening files,
and how the terminal draws box characters. Everything else in fieldapp calls these instead
of an OS-specific function, and `tests/test_portability.py` keeps it that way."""

from __future__ import annotations

import sys

IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform == "darwin"
