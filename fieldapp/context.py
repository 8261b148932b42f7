"""What every command and screen needs to reach the local data: paths, language, the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fieldapp import paths
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore


@dataclass
class AppContext:
    data_dir: Path
    lang: str = "zh"
    explicit_dir: bool = False  # a data dir given by flag or FIELDAPP_HOME keeps config inside

    @classmethod
    def create(cls, data_dir: str | None = None, lang: str | None = None) -> AppContext:
        import os

        explicit = bool(data_dir or os.environ.get("FIELDAPP_HOME"))
        return cls(paths.data_dir(data_dir), lang or "zh", explicit)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "fieldapp.sqlite3"

    @property
    def config_dir(self) -> Path:
        return paths.config_dir(self.data_dir if self.explicit_dir else None)

    def open_store(self) -> RecordStore:
        conn = connect(self.database_path)
        store = RecordStore(conn)
        store.user = store.setting("current_user", "") or ""
        store.role = store.setting(f"role:{store.user}", "worker") or "worker"
        if store.setting("lang") and self.lang == "zh":
            self.lang = store.setting("lang") or self.lang
        return store
