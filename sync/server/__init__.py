"""The central registry server: FastAPI app, SQLModel tables, migrations, push/pull, admin.

`create_app(database_url)` builds the app; `sync.server.admin` manages users and areas.
Modules stay importable without starting anything, so the CLI loads them only when asked.
"""

from __future__ import annotations


def create_app(database_url: str, **kwargs):  # noqa: ANN201
    from sync.server.app import create_app as _create

    return _create(database_url, **kwargs)
