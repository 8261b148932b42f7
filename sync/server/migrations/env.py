"""Alembic's entry point for the registry schema (see sync/server/migrations/__init__.py).

`migrate(engine)` hands its connection in `config.attributes["connection"]`, inside the
transaction that holds the migration lock. The `alembic` command (configured in
pyproject.toml) opens its own: the URL is `-x url=...`, else FIELDAPP_DATABASE_URL.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import sync.server.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config


def _configure(**kwargs) -> None:  # noqa: ANN003
    context.configure(target_metadata=SQLModel.metadata, compare_type=True,
                      compare_server_default=False,
                      process_revision_directives=_drop_sqlite_artefacts, **kwargs)


def _drop_sqlite_artefacts(ctx, _revision, directives) -> None:  # noqa: ANN001
    """Leave out two differences that come from reading a SQLite file made by the pre-Alembic
    DDL, not from its schema: a text primary key declared without NOT NULL (SQLite reads it as
    nullable; no row ever had a null key) and an inline UNIQUE (SQLite enforces it through an
    automatic index that reflection does not report as a constraint)."""
    from alembic.operations import ops

    conn = ctx.connection
    if conn is None or conn.dialect.name != "sqlite":
        return

    def artefact(op) -> bool:  # noqa: ANN001
        if isinstance(op, ops.AlterColumnOp):
            column = SQLModel.metadata.tables[op.table_name].c[op.column_name]
            only_nullable = op.modify_type is None and op.modify_server_default is False \
                and op.modify_name is None
            return column.primary_key and op.modify_nullable is False and only_nullable
        if isinstance(op, ops.CreateUniqueConstraintOp):
            return _unique_index(conn, op.table_name, list(op.columns))
        return False

    for upgrade in directives[0].upgrade_ops_list:
        kept = []
        for op in upgrade.ops:
            if isinstance(op, ops.ModifyTableOps):
                op.ops = [o for o in op.ops if not artefact(o)]
                if not op.ops:
                    continue
            elif artefact(op):
                continue
            kept.append(op)
        upgrade.ops = kept


def _unique_index(conn, table: str, columns: list[str]) -> bool:  # noqa: ANN001
    for _seq, name, unique, *_rest in conn.exec_driver_sql(f"PRAGMA index_list('{table}')"):
        if unique and [r[2] for r in conn.exec_driver_sql(
                f"PRAGMA index_info('{name}')")] == columns:
            return True
    return False


def _url() -> str:
    from sync.server.db import normalise_url
    from sync.server.settings import settings

    url = context.get_x_argument(as_dictionary=True).get("url") or settings().database_url
    if not url:
        raise SystemExit("alembic: give the registry database as -x url=... "
                         "or FIELDAPP_DATABASE_URL")
    return normalise_url(url)


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from sync.server.db import make_engine

    engine = make_engine(_url())
    try:
        with engine.connect().execution_options(write=True) as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    # SQLite alters a table by rebuilding it: autogenerate writes batch operations for it.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
