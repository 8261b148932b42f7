"""Lines a test wants printed at the end of the pytest run (tests/conftest.py's
`pytest_terminal_summary` prints them), e.g. how much the sync state machine exercised."""

from __future__ import annotations

LINES: list[str] = []


def report(line: str) -> None:
    LINES.append(line)
