"""The ASGI app for uvicorn workers: `fieldapp serve` passes the database URL by environment.

uvicorn starts each worker by import string, so the URL cannot be an argument; the schema is
already migrated by `fieldapp serve` before the workers start.
"""

from __future__ import annotations

import logging
import os
import sys

from sync.server.app import create_app

# Each uvicorn worker is a fresh process: set up the request log line here, not in the parent.
_log = logging.getLogger("fieldapp.server")
if not _log.handlers:
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False

app = create_app(os.environ.get("FIELDAPP_SERVER_DATABASE_URL", "sqlite:///registry.sqlite3"),
                 migrate_schema=True)
