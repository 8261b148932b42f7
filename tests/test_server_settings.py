"""The registry's one settings class (sync/server/settings.py): FIELDAPP_* names, the old
database variable still honoured, bad values refused with the variable named."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from sync.server.settings import RegistrySettings, settings


def test_names_and_defaults(monkeypatch, tmp_path):
    for name in ("FIELDAPP_DATABASE_URL", "FIELDAPP_SERVER_DATABASE_URL", "FIELDAPP_BLOB_DIR",
                 "FIELDAPP_MAX_ATTACHMENT_BYTES", "FIELDAPP_POOL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    plain = settings()
    assert plain.database_url is None and plain.url_or("sqlite:///x") == "sqlite:///x"
    assert plain.max_attachment_bytes == 20 * 1024 * 1024 and plain.pool_size == 5
    monkeypatch.setenv("FIELDAPP_DATABASE_URL", "sqlite:///a.db")
    monkeypatch.setenv("FIELDAPP_BLOB_DIR", str(tmp_path))
    monkeypatch.setenv("FIELDAPP_MAX_ATTACHMENT_BYTES", "1000")
    monkeypatch.setenv("FIELDAPP_POOL_SIZE", "7")
    s = settings()
    assert (s.database_url, s.blob_dir, s.max_attachment_bytes, s.pool_size) == (
        "sqlite:///a.db", tmp_path, 1000, 7)


def test_the_old_database_variable_still_works_but_the_new_one_wins(monkeypatch, caplog):
    monkeypatch.delenv("FIELDAPP_DATABASE_URL", raising=False)
    monkeypatch.setenv("FIELDAPP_SERVER_DATABASE_URL", "sqlite:///old.db")
    with caplog.at_level("WARNING", logger="fieldapp.server"):
        assert settings().database_url == "sqlite:///old.db"
    assert "deprecated" in caplog.text
    monkeypatch.setenv("FIELDAPP_DATABASE_URL", "sqlite:///new.db")
    assert settings().database_url == "sqlite:///new.db"


def test_a_bad_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("FIELDAPP_MAX_ATTACHMENT_BYTES", "twenty megabytes")
    with pytest.raises(ValidationError, match="max_attachment_bytes"):
        RegistrySettings()


def test_a_worker_started_by_hand_reads_the_documented_variable(tmp_path):
    """`uvicorn sync.server.asgi:app` with FIELDAPP_DATABASE_URL (the name the README gives)
    serves that database, migrated."""
    db = tmp_path / "by-hand.sqlite3"
    code = ("import sync.server.asgi as a; from sqlalchemy import inspect; e = a.app.state.engine;"
            " print(e.url.database, inspect(e).has_table('record'))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDAPP_")}
    env["FIELDAPP_DATABASE_URL"] = f"sqlite:///{db}"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         encoding="utf-8", timeout=120, check=True).stdout.split()
    assert out == [str(db), "True"]
