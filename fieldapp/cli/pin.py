"""Asking a user's PIN on the command line: hidden at a terminal (getpass), else one line of
standard input (scripts: `printf '%s\\n' "$PIN" | fieldapp sync`). A command that needs a
sealed credential, a switch to another user or a supervisor's decision asks here first."""

from __future__ import annotations

import getpass
import sys

from fieldapp.cli import CliError


def read_pin(user: str, confirm: bool = False, demo_pin: str | None = None) -> str:
    hint = f" (演示 demo PIN: {demo_pin})" if demo_pin else ""
    stdin = sys.stdin
    try:
        if stdin is not None and stdin.isatty():
            pin = getpass.getpass(f"{user} 的 PIN / {user}'s PIN{hint}: ")
            if confirm and getpass.getpass("再输一次 / again: ") != pin:
                raise CliError("两次输入的 PIN 不一致 / the two PINs differ")
            return pin
        pin = (stdin.readline() if stdin is not None else "").rstrip("\r\n")
    except (OSError, ValueError, EOFError):
        pin = ""
    if not pin:
        raise CliError(f"需要 {user} 的 PIN:在终端输入,或从标准输入给出一行 / {user}'s PIN "
                       f"is needed: type it at a terminal, or give it as one line on standard "
                       f"input")
    return pin


def _entry(config_dir, user: str | None) -> dict | None:  # noqa: ANN001
    from sync import credentials

    data = credentials.load(config_dir)
    return data["users"].get(user or data.get("current") or "")


def unlock(config_dir, user: str | None = None) -> None:  # noqa: ANN001
    """Before using `user`'s credential (default: the current user's): ask the PIN if it is
    sealed and not unlocked in this process."""
    from sync import credentials

    entry = _entry(config_dir, user)
    if entry and not credentials.unlocked(config_dir, entry["user"]):
        _open(config_dir, entry, read_pin(entry["user"], demo_pin=entry.get("demo_pin")))


def for_decision(config_dir, user: str | None) -> None:  # noqa: ANN001
    """Before a supervisor's decision or switching to `user`: their PIN unless it was used in
    the last 15 minutes in this process (a command line process is new: always asked)."""
    from sync import credentials

    entry = _entry(config_dir, user) if user else None
    if entry and credentials.needs_pin(config_dir, entry["user"]):
        _open(config_dir, entry, read_pin(entry["user"], demo_pin=entry.get("demo_pin")))


def _open(config_dir, entry: dict, pin: str) -> None:  # noqa: ANN001
    from sync import credentials

    try:
        credentials.unlock(config_dir, entry["user"], pin)
    except credentials.SyncError as exc:
        raise CliError(exc.message("zh")) from exc
