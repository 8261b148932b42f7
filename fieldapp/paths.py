"""Where fieldapp keeps its files: data dir (SQLite, attachments) and config dir (credentials).

Both come from platformdirs; `--data-dir` or FIELDAPP_HOME puts everything under one folder
instead (tests and the demo use that, so they never touch a user's real data).
"""

from __future__ import annotations

import os
from pathlib import Path

from fieldapp.i18n import BilingualError, Msg

APP_NAME = "fieldapp"


class FolderError(BilingualError):
    """The data or config folder cannot be used (a file in its place, no permission)."""


def _make_folder(path: Path, what: Msg, mode: int = 0o777) -> Path:
    if path.exists() and not path.is_dir():
        raise FolderError(Msg(f"{what.zh} {path} 是一个文件,不是文件夹",
                              f"the {what.en} {path} is a file, not a folder"))
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
    except OSError as exc:
        raise FolderError(Msg(f"无法创建{what.zh} {path}", f"cannot create the {what.en} {path}"),
                          detail=exc.strerror or str(exc)) from exc
    return path


def data_dir(override: str | os.PathLike | None = None) -> Path:
    home = override or os.environ.get("FIELDAPP_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME, appauthor=False)
    return _make_folder(path, Msg("数据文件夹", "data folder"))


def config_dir(override: str | os.PathLike | None = None) -> Path:
    home = override or os.environ.get("FIELDAPP_HOME")
    if home:
        path = Path(home).expanduser() / "config"
    else:
        from platformdirs import user_config_path

        path = user_config_path(APP_NAME, appauthor=False)
    return _make_folder(path, Msg("配置文件夹", "config folder"), mode=0o700)


def database_path(override: str | os.PathLike | None = None) -> Path:
    return data_dir(override) / "fieldapp.sqlite3"
