"""The ASGI app for uvicorn workers: `fieldapp serve` passes its options by environment.

uvicorn starts each worker by import string, so the URL cannot be an argument: every worker
reads sync/server/settings.py (FIELDAPP_DATABASE_URL, ...). The schema is already migrated by
`fieldapp serve` before the workers start; workers started by hand migrate it themselves,
one at a time (sync/server/migrations).
"""

from __future__ import annotations

import json
import logging
import sys

from sync.server.app import create_app
from sync.server.settings import settings


class JsonLines(logging.Formatter):
    """One JSON object a line (FIELDAPP_LOG_FORMAT=json), for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname.lower(), "pid": record.process,
                **(getattr(record, "http", None) or {"message": record.getMessage()})}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


# Each uvicorn worker is a fresh process: set up the request log line here, not in the parent.
_log = logging.getLogger("fieldapp.server")
if not _log.handlers:
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(JsonLines() if settings().log_format == "json"
                          else logging.Formatter("%(asctime)s %(process)d %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False

app = create_app(settings().url_or("sqlite:///registry.sqlite3"), migrate_schema=True)
