"""The registry's schema under Alembic: revisions in `versions/`, made from `models.py`.

`migrate(engine)` runs at every start (`fieldapp serve`, `fieldapp admin`, `create_app`) and
brings the database to the newest revision, all in one transaction, so a failure leaves the
schema as it was:
- one process at a time: several workers or hosts may start at once. PostgreSQL: an advisory
  lock held until commit; SQLite: the write lock of BEGIN IMMEDIATE;
- a database made before Alembic (its `schema_version` table says 1 or 2, no `alembic_version`)
  is adopted: stamped at the revision that made the same schema, then upgraded. Nothing is
  rebuilt or copied, so nothing can be lost;
- a database at a revision this program does not know (a newer fieldapp made it) is refused
  with "please upgrade", and left untouched.

A schema change: edit sync/server/models.py, then (configuration in pyproject.toml)
    alembic -x url=sqlite:///tmp/r.sqlite3 upgrade head
    alembic -x url=sqlite:///tmp/r.sqlite3 revision --autogenerate -m "what changed"
read the new file in versions/ (autogenerate does not see CHECK constraints or renames), and
test it on SQLite and PostgreSQL. CI runs `alembic check` (tests/test_server_schema.py):
models and revisions must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
LOCK_KEY = 72110401  # pg_advisory_xact_lock key: one migrator at a time
#: The pre-Alembic runner's versions and the revisions that make the same schema.
LEGACY_REVISIONS = {1: "0001_baseline", 2: "0002_attachments"}


class SchemaTooNew(RuntimeError):
    pass


def config(connection: Connection | None = None):  # noqa: ANN201
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> int:
    """Bring the schema to the newest revision; returns how many revisions were applied."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database: {dialect}")
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if dialect == "postgresql":
            # Released at commit. Workers that waited here find the work done.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        cfg = config(conn)
        script = ScriptDirectory.from_config(cfg)
        at = current(conn) or _adopt(conn, cfg)
        try:
            pending = [r for r in script.iterate_revisions("head", at)]
        except (CommandError, RevisionError):
            raise _too_new(at) from None
        if pending:
            command.upgrade(cfg, "head")
    return len(pending)


def _adopt(conn: Connection, cfg) -> str | None:  # noqa: ANN001
    """Stamp a database made by the pre-Alembic runner; None for an empty database."""
    from alembic import command

    if not inspect(conn).has_table("schema_version"):
        return None
    version = conn.execute(text("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                           ).scalar_one()
    if version == 0:
        return None
    if version not in LEGACY_REVISIONS:
        raise _too_new(f"schema_version {version}")
    command.stamp(cfg, LEGACY_REVISIONS[version])
    return LEGACY_REVISIONS[version]


def _too_new(found: str | None) -> SchemaTooNew:
    return SchemaTooNew(
        f"数据库架构 ({found}) 比本程序 ({head()}) 新,请升级 fieldapp / the database "
        f"schema ({found}) is newer than this program ({head()}): please upgrade")


def now() -> str:
    return datetime.now(UTC).isoformat()
