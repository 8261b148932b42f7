"""The `fieldapp` command line: one entry point, a subcommand per task.

Each command module registers its subcommands with `register(subparsers)` and keeps heavy
imports (Textual, httpx, the server) inside the functions that need them, so `fieldapp list`
starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fieldapp import __version__

#: Modules that add subcommands; each has `register(subparsers)`.
COMMAND_MODULES = [
    "fieldapp.cli.basic",
    "fieldapp.cli.io_cmds",
    "fieldapp.cli.sync_cmds",
    "fieldapp.cli.review_cmds",
    "fieldapp.cli.server_cmds",
    "fieldapp.cli.coverage_cmds",
    "fieldapp.cli.attach_cmds",
    "fieldapp.cli.settings_cmds",
    "fieldapp.cli.report_cmds",
    "fieldapp.cli.backup_cmds",
    "fieldapp.cli.doctor_cmds",
]


class CliError(Exception):
    """A failure with a one-line reason for the user; exit code 1 (or `code`)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldapp",
        description="社区嵌入式服务设施 现场采集工具 / field tool for community embedded "
                    "service facilities. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"fieldapp {__version__}")
    add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in _subparsers(parser):
        add_common_options(command, top=False)
    return parser


def add_common_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """Options taken before or after the command (`fieldapp list sites --data-dir D` as
    well as `fieldapp --data-dir D list sites`). After the command they default to
    "not given", so they never undo the same option given before it."""
    unset = None if top else argparse.SUPPRESS
    parser.add_argument("--data-dir", metavar="DIR", default=unset,
                        help="keep data in DIR instead of the user data folder "
                             "(also FIELDAPP_HOME)")
    parser.add_argument("--lang", choices=["zh", "en"], default=unset,
                        help="interface language (default zh)")
    parser.add_argument("--plain", action="store_true", default=False if top else unset,
                        help="ASCII borders for consoles that draw box characters wide "
                             "(also the setting `borders`)")


def _subparsers(parser: argparse.ArgumentParser):  # noqa: ANN202
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield command
                yield from _subparsers(command)


def main(argv: list[str] | None = None) -> int:
    from fieldapp.compat.console import make_safe

    make_safe()  # ✓ ✗ ² must never stop a command on a GBK console or file
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        from fieldapp.cli.basic import cmd_open

        func = cmd_open
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"fieldapp: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a one-line reason, never a traceback, for the field user
        from fieldapp.store.db import StoreError

        if isinstance(exc, StoreError):
            print(f"fieldapp: {exc}", file=sys.stderr)
            return 1
        if "--debug" in sys.argv or __import__("os").environ.get("FIELDAPP_DEBUG"):
            raise
        print(f"fieldapp: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
