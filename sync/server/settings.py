"""The registry's settings: one class, read from `FIELDAPP_*` environment variables.

`fieldapp serve` passes its command-line options to its uvicorn workers through these same
variables (workers are separate processes), so a worker, a test and `uvicorn
sync.server.asgi:app` started by hand all read one set of names:

- `FIELDAPP_DATABASE_URL`: `sqlite:///FILE` or `postgresql+psycopg://USER@HOST/DB`; default
  `registry.sqlite3` in the data folder (`fieldapp serve`) or the working folder (asgi);
- `FIELDAPP_BLOB_DIR`: where photos and documents are kept; default `blobs/` beside a SQLite
  file, else the user data folder;
- `FIELDAPP_MAX_ATTACHMENT_BYTES`: the largest photo or document accepted (20 MB);
- `FIELDAPP_POOL_SIZE`: database connections per process, as many again may overflow (5);
- `FIELDAPP_BLOB_STORE`: `dir:PATH` or `postgres` (sync/server/blobstore.py); default the
  database on PostgreSQL unless FIELDAPP_BLOB_DIR names a folder, else a folder;
- `FIELDAPP_USER_QUOTA_BYTES`: content one user may store (10 GiB; 0: no limit);
- `FIELDAPP_METRICS_TOKEN`: bearer token that opens `/metrics` on the main port (unset: 404);
- `FIELDAPP_LOG_FORMAT`: `text` (default) or `json`, one object a request.

`FIELDAPP_SERVER_DATABASE_URL`, which workers used to read, still works but is deprecated.
A value that is not valid (a size that is not a number) stops the server with the name of
the variable, instead of being ignored.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fieldapp.domain.attachment_types import MAX_SIZE

DEPRECATED_URL = "FIELDAPP_SERVER_DATABASE_URL"
log = logging.getLogger("fieldapp.server")


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDAPP_", extra="ignore",
                                      populate_by_name=True)

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("FIELDAPP_DATABASE_URL", DEPRECATED_URL))
    blob_dir: Path | None = None
    max_attachment_bytes: int = Field(default=MAX_SIZE, gt=0)
    pool_size: int = Field(default=5, ge=1, le=200)
    blob_store: str | None = None
    user_quota_bytes: int = Field(default=10 * 1024**3, ge=0)
    metrics_token: str | None = Field(default=None, repr=False)
    log_format: Literal["text", "json"] = "text"

    @model_validator(mode="after")
    def _warn_deprecated(self) -> RegistrySettings:
        if os.environ.get(DEPRECATED_URL) and not os.environ.get("FIELDAPP_DATABASE_URL"):
            log.warning("%s is deprecated: use FIELDAPP_DATABASE_URL", DEPRECATED_URL)
        return self

    def url_or(self, default: str) -> str:
        return self.database_url or default


def settings() -> RegistrySettings:
    """The settings as the environment says now (read afresh: tests change it)."""
    return RegistrySettings()
