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
    "fieldapp.cli.record_cmds",
    "fieldapp.cli.io_cmds",
    "fieldapp.cli.sync_cmds",
    "fieldapp.cli.review_cmds",
    "fieldapp.cli.project_cmds",
    "fieldapp.cli.progress_cmds",
    "fieldapp.cli.server_cmds",
    "fieldapp.cli.coverage_cmds",
    "fieldapp.cli.attach_cmds",
    "fieldapp.cli.settings_cmds",
    "fieldapp.cli.report_cmds",
    "fieldapp.cli.backup_cmds",
    "fieldapp.cli.doctor_cmds",
    "fieldapp.cli.bundle_cmds",
]


class CliError(Exception):
    """A failure with a one-line reason for the user; exit code 1 (or `code`).

    The convention for every command: raise CliError("中文 / English") for anything the
    user can fix; `main` prints it as one `fieldapp:` line on stderr and exits non-zero.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(" ".join(str(message).split()))  # one line, whatever the source
        self.code = code


USAGE_ERROR = 2  # exit code for arguments the parser refused


class Parser(argparse.ArgumentParser):
    """argparse, but a refused argument is one `fieldapp:` line naming the help to read
    (argparse prints the whole usage first); subcommand parsers inherit the class."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from fieldapp.cli.lang import tr

        hint = tr(f"(帮助: {self.prog} --help)", f"(see {self.prog} --help)")
        self.exit(USAGE_ERROR, f"fieldapp: {' '.join(message.split())} {hint}\n")


def build_parser() -> argparse.ArgumentParser:
    from fieldapp.cli.lang import tr

    parser = Parser(
        prog="fieldapp",
        description=tr("社区嵌入式服务设施 现场采集工具。不带命令时打开程序;"
                       "每个命令都有 --help(如 fieldapp list --help)。",
                       "field tool for community embedded service facilities. Without a "
                       "command, opens the app; every command has --help."),
    )
    parser.add_argument("--version", action="version", version=f"fieldapp {__version__}",
                        help=tr("显示版本号并退出", "show the version and exit"))
    add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in _subparsers(parser):
        add_common_options(command, top=False)
    _describe_commands(parser)
    return parser


def _describe_commands(parser: argparse.ArgumentParser) -> None:
    """A command's own --help opens with the line the command list shows for it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for shown in action._choices_actions:
                command = action.choices[shown.dest]
                if command.description is None and shown.help:
                    command.description = shown.help
                _describe_commands(command)


def add_common_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """Options taken before or after the command (`fieldapp list sites --data-dir D` as
    well as `fieldapp --data-dir D list sites`). After the command they default to
    "not given", so they never undo the same option given before it."""
    from fieldapp.cli.lang import tr

    unset = None if top else argparse.SUPPRESS
    parser.add_argument("--data-dir", metavar="DIR", default=unset,
                        help=tr("数据放在 DIR 而不是用户数据文件夹(也可设 FIELDAPP_HOME)",
                                "keep data in DIR instead of the user data folder "
                                "(also FIELDAPP_HOME)"))
    parser.add_argument("--lang", choices=["zh", "en"], default=unset,
                        help=tr("界面语言(默认中文;英文系统默认 en)",
                                "interface language (default zh; en on an English system)"))
    parser.add_argument("--plain", action="store_true", default=False if top else unset,
                        help=tr("用 ASCII 边框(控制台把方框字符画得过宽时;也可设 borders)",
                                "ASCII borders for consoles that draw box characters wide "
                                "(also the setting `borders`)"))


def _subparsers(parser: argparse.ArgumentParser):  # noqa: ANN202
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield command
                yield from _subparsers(command)


def main(argv: list[str] | None = None) -> int:
    from fieldapp.cli import lang
    from fieldapp.compat.console import make_safe

    make_safe()  # ✓ ✗ ² must never stop a command on a GBK console or file
    argv = list(sys.argv[1:] if argv is None else argv)
    lang.use(lang.detect(argv))
    lang.localise_argparse()
    bad = _undecodable(argv)
    if bad is not None:
        print(f"fieldapp: 参数不是有效的文字(编码不是 UTF-8): {bad!r} / an argument is not "
              f"valid text (not UTF-8): {bad!r}", file=sys.stderr)
        return USAGE_ERROR
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            # FIELD=VALUE pairs after options (`project advance ID --stage S a=b`): argparse
            # takes positionals only before them; a command that reads pairs gets them.
            if getattr(args, "values", None) is None or not all(
                    "=" in e and not e.startswith("-") for e in extra):
                parser.error(argparse._("unrecognized arguments: %s") % " ".join(extra))
            args.values = [*args.values, *extra]
    except SystemExit as exc:  # --help, --version, or a refused argument (one line printed)
        return exc.code if isinstance(exc.code, int) else 0
    func = getattr(args, "func", None)
    if func is None:
        from fieldapp.cli.basic import cmd_open

        func = cmd_open
    try:
        code = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not as a warning at exit
        return code
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except BrokenPipeError:
        # `fieldapp list … | head`: the reader has what it wanted; nothing went wrong.
        _stdout_to_devnull()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a one-line reason, never a traceback, for the field user
        import os

        from fieldapp.i18n import BilingualError

        if os.environ.get("FIELDAPP_DEBUG"):
            raise
        if isinstance(exc, BilingualError):  # store, workflow, folders: a reason both ways
            return _fail(str(exc))
        if isinstance(exc, OSError):
            where = f": {exc.filename}" if exc.filename else ""
            return _fail(f"文件或系统错误 / file or system error{where}: "
                         f"{exc.strerror or exc}")
        return _fail(f"意外错误 / unexpected error: {type(exc).__name__}: {exc} "
                     f"(FIELDAPP_DEBUG=1 显示详情 / shows the details)")


def _fail(message: str, code: int = 1) -> int:
    print(f"fieldapp: {' '.join(message.split())}", file=sys.stderr)
    return code


def _undecodable(argv: list[str]) -> str | None:
    """The first argument that is not valid text (bytes Python could not decode), unless it
    names an existing file: Linux file names may be in any encoding."""
    import os

    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if not os.path.exists(arg):
                return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return None


def _stdout_to_devnull() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
