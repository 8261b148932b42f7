"""What the commands share in reading their arguments: the user's scope (`--all-local`), area
codes and names, choices by code or label, and argparse types that refuse bad input with one
line saying what is expected.

Every command raises `CliError` (one bilingual line, non-zero exit) for anything the user can
fix; nothing here prints.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.domain.choices import ChoiceSet
from fieldapp.domain.normalize import halfwidth


# -- scope ----------------------------------------------------------------------------------
def add_all_local(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all-local", action="store_true",
                        help=tr("也显示本机上不在您负责范围内的记录(默认只显示您的区域)",
                                "also show records on this laptop outside your areas "
                                "(by default only your areas)"))


def scope_of(store, args: argparse.Namespace):  # noqa: ANN001, ANN201
    """The user's scope (fieldapp/store/scope.py), widened by `--all-local`."""
    from fieldapp.store.scope import ScopeError, user_scope

    try:
        return user_scope(store, all_local=bool(getattr(args, "all_local", False)))
    except ScopeError as exc:
        raise CliError(str(exc)) from exc


def hidden_note(shown_scope, hidden: int) -> str | None:  # noqa: ANN001
    """The stderr line saying how many records the scope left out, or None."""
    if not hidden or not shown_scope.limited:
        return None
    return (f"另有 {hidden:,} 条不在您的负责范围 ({','.join(shown_scope.areas)}),"
            f"--all-local 查看 / {hidden:,} more outside your areas: --all-local shows them")


# -- areas ----------------------------------------------------------------------------------
def area_code(store, text: str, what: str = "grid") -> str:  # noqa: ANN001
    """The area code for what the user typed: a code (any case, full-width digits) or a
    unique area name (天平路街道). Raises CliError saying what is expected."""
    given = halfwidth(str(text))
    code = given.upper()
    conn = store.conn
    if conn.execute("SELECT 1 FROM area WHERE code = ?", (code,)).fetchone():
        return code
    if conn.execute("SELECT 1 FROM area WHERE code = ?", (given,)).fetchone():
        return given
    rows = conn.execute("SELECT code FROM area WHERE name = ? LIMIT 2", (given,)).fetchall()
    if len(rows) == 1:
        return rows[0][0]
    example = conn.execute("SELECT code, name FROM area WHERE level = 'grid' ORDER BY code "
                           "LIMIT 1").fetchone()
    sample = f"{example[0]}({example[1]})" if example else "310104003001G01"
    if len(rows) > 1:
        raise CliError(f"有多个地区叫「{given}」,请用编码 / several areas are called {given!r}: "
                       f"give the code")
    if example is None:
        raise CliError(f"本机没有地区数据,无法识别 {given!r}:请先登记并同步 (fieldapp enroll),"
                       f"或用 fieldapp demo / no areas on this laptop to look {given!r} up in: "
                       f"enroll and sync first, or try fieldapp demo")
    label = {"grid": ("网格、街镇或区", "a grid, street or district"),
             "area": ("区、街镇、居委或网格", "a district, street, community or grid")}[what]
    raise CliError(f"没有编码或名称为 {given!r} 的地区:应为{label[0]}的编码或名称,如 {sample} / "
                   f"no area has the code or name {given!r}: expected {label[1]} code or name, "
                   f"e.g. {sample}")


# -- choices --------------------------------------------------------------------------------
def choice_type(choices: ChoiceSet, what: tuple[str, str]) -> Callable[[str], str]:
    """An argparse `type=` taking a code, the Chinese label or the English label."""

    def parse(text: str) -> str:
        code = choices.parse(halfwidth(text))
        if code is None:
            raise argparse.ArgumentTypeError(expected_choice(choices, text, what))
        return code

    parse.__name__ = choices.name
    return parse


def expected_choice(choices: ChoiceSet, text: str, what: tuple[str, str]) -> str:
    options_zh = "、".join(c.zh for c in choices)
    options_en = ", ".join(c.code for c in choices)
    return (f"{what[0]}不是可选值: {text!r};可选 {options_zh} / {what[1]} {text!r} is not one "
            f"of: {options_en} (codes, Chinese or English labels)")


PLURAL = {"site": "sites", "facility": "facilities", "inspection": "inspections"}


def kinds_type(text: str) -> str:
    """sites, facilities or inspections (as `list`/`export` name them), also singular, or a
    label: 存量资源, 设施, 巡查, Site …"""
    from fieldapp.domain.choices import RECORD_KIND

    word = halfwidth(text).lower()
    if word in PLURAL.values():
        return word
    code = RECORD_KIND.parse(word)
    if code is None:
        raise argparse.ArgumentTypeError(
            f"记录类型应为 存量资源、设施 或 巡查: {text!r} / record kind must be sites, "
            f"facilities or inspections: {text!r}")
    return PLURAL[code]


def non_negative_int(text: str) -> int:
    try:
        value = int(halfwidth(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数,得到 {text!r} / expected a whole number, "
                                         f"got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"不能为负数: {value} / must not be negative: {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("应大于 0 / must be greater than 0")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(halfwidth(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为秒数,得到 {text!r} / expected a number of "
                                         f"seconds, got {text!r}") from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"应在 1 到 86400 秒之间: {text} / must be 1 to 86400 "
                                         f"seconds: {text}")
    return value


def port_number(text: str) -> int:
    value = non_negative_int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"端口应在 1–65535 之间,得到 {value} / a port is "
                                         f"1–65535, got {value}")
    return value


def function_type(text: str) -> str:
    """An argparse `type=` for one service function: a code, a label or the plan's own words
    (宝宝屋, 助餐); a word naming several functions is refused with the choices."""
    from fieldapp.domain.catalog import FunctionNameError, one_function

    try:
        return one_function(halfwidth(text))
    except FunctionNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- records --------------------------------------------------------------------------------
def record_ids(store, given: list[str]) -> list[str]:  # noqa: ANN001
    """Full record ids for what the user typed: whole ids or unique prefixes (list shows 8)."""
    from fieldapp.store.review import resolve_id

    try:
        return [resolve_id(store, text) for text in given]
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from exc


def record_id(store, given: str) -> str:  # noqa: ANN001
    return record_ids(store, [given])[0]


# -- output files ---------------------------------------------------------------------------
def output_file(text: str, allowed: tuple[str, ...], make_folder: bool = False) -> Path:
    """The file to write, refused before anything is written when its name or folder is
    wrong: a suffix other than `allowed`, a folder that does not exist (unless the command
    makes it: `make_folder`) or cannot be written, or a directory in its place."""
    path = Path(text).expanduser()
    if path.suffix.lower() not in allowed:
        raise CliError(f"输出文件应以 {'、'.join(allowed)} 结尾: {text} / the output file must end "
                       f"in {', '.join(allowed)}: {text}")
    if path.is_dir():
        raise CliError(f"这是一个文件夹,不是文件: {text} / that is a folder, not a file: {text}")
    folder = path.parent if str(path.parent) else Path(".")
    if make_folder:
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent
    if not folder.is_dir():
        raise CliError(f"文件夹不存在: {folder} / no such folder: {folder}")
    if not os.access(folder, os.W_OK):
        raise CliError(f"没有权限写入文件夹: {folder} / no permission to write in: {folder}")
    return path


class AtomicOutput:
    """A temporary file beside the target (same suffix), moved over it only when the whole
    export succeeded: a failed export leaves no half-written file and keeps an older one."""

    def __init__(self, target: Path | None) -> None:
        self.target = target

    def __enter__(self) -> Path:
        import tempfile

        folder = self.target.parent if self.target else None
        suffix = self.target.suffix if self.target else ".tmp"
        handle, name = tempfile.mkstemp(prefix=".fieldapp-", suffix=suffix, dir=folder)
        os.close(handle)
        self.temp = Path(name)
        return self.temp

    def __exit__(self, kind, exc, tb) -> None:  # noqa: ANN001
        if exc is None and self.target is not None:
            os.replace(self.temp, self.target)
        else:
            self.temp.unlink(missing_ok=True)
