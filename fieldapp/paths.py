"""Where fieldapp keeps its files: data dir (SQLite, attachments) and config dir (credentials).

Both come from platformdirs; `--data-dir` or FIELDAPP_HOME puts everything under one folder
instead (tests and the demo use that, so they never touch a user's real data).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "fieldapp"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    home = override or os.environ.get("FIELDAPP_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME, appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir(override: str | os.PathLike | None = None) -> Path:
    home = override or os.environ.get("FIELDAPP_HOME")
    if home:
        path = Path(home).expanduser() / "config"
    else:
        from platformdirs import user_config_path

        path = user_config_path(APP_NAME, appauthor=False)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def database_path(override: str | os.PathLike | None = None) -> Path:
    return data_dir(override) / "fieldapp.sqlite3"
