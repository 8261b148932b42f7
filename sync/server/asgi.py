"""The ASGI app for uvicorn workers: `fieldapp serve` passes the database URL by environment.

uvicorn starts each worker by import string, so the URL cannot be an argument; the schema is
already migrated by `fieldapp serve` before the workers start.
"""

from __future__ import annotations

import os

from sync.server.app import create_app

app = create_app(os.environ.get("FIELDAPP_SERVER_DATABASE_URL", "sqlite:///registry.sqlite3"),
                 migrate_schema=True)
