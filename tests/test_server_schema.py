"""Registry schema under Alembic: revisions make exactly the schema the models describe
(`alembic check`), run once, adopt a database made by the pre-Alembic runner without loss,
let several processes start at once and refuse a database newer than the program."""

from __future__ import annotations

import threading

import legacy_registry_schema as legacy
import pytest
from alembic import command
from server_support import BACKENDS, client, database_url, mutation, push, running_server, site
from sqlalchemy import column, func, inspect, select, table, text
from sqlmodel import SQLModel

import sync.server.models  # noqa: F401  (registers the tables)
from sync.server import admin
from sync.server.db import make_engine, normalise_url
from sync.server.migrations import SchemaTooNew, config, current, head, migrate

TABLES = ("fa_user", "device_credential", "area", "record", "history", "applied_mutation",
          "change_feed", "attachment", "seq_counter")


def enroll_with(base: str, token: str):  # noqa: ANN201
    with client(base) as c:
        r = c.post("/api/v1/enroll", json={"token": token, "device_id": "d", "device_name": "x"})
    return client(base, r.json()["credential"])


def legacy_device(url: str, base: str, name: str):  # noqa: ANN201
    """A device credential as the pre-Alembic registry wrote it at enrolment (today's
    enrolment writes columns the old schema lacks)."""
    from sync.server import auth

    credential = auth.new_secret()
    with admin.engine_for(url).begin() as conn:
        user_id = conn.execute(select(auth.USERS.c.id).where(auth.USERS.c.name == name)
                               ).scalar_one()
        conn.execute(text("INSERT INTO device_credential (credential_hash, user_id, device_id, "
                          "device_name, created_at) VALUES (:h, :u, 'd', 'x', :at)"),
                     {"h": auth.digest(credential), "u": user_id, "at": auth.utcnow()})
    return client(base, credential)


def alembic_check(engine) -> None:  # noqa: ANN001
    """`alembic check`: autogenerate finds nothing between the models and the database."""
    with engine.connect() as conn:
        command.check(config(conn))


def _count_revisions() -> int:
    from alembic.script import ScriptDirectory

    return len(list(ScriptDirectory.from_config(config()).walk_revisions()))


#: Every revision (a new one adds to the counts below without editing them).
REVISIONS = _count_revisions()

def snapshot(engine, like: dict | None = None) -> dict:  # noqa: ANN001
    """Every row of every table; with `like`, only the columns that snapshot had (a column a
    later revision adds is not a loss)."""
    with engine.connect() as conn:
        names = {name: like[name][0] if like else
                 tuple(c["name"] for c in inspect(conn).get_columns(name)) for name in TABLES}
        return {name: (names[name], sorted(tuple(r) for r in conn.execute(select(table(
            name, *[column(c) for c in names[name]]))))) for name in TABLES}


@pytest.mark.parametrize("backend", BACKENDS)
def test_revisions_make_the_model_schema_once(backend, tmp_path):
    with database_url(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            assert migrate(engine) == REVISIONS
            assert migrate(engine) == 0
            with engine.connect() as conn:
                assert current(conn) == head()
            alembic_check(engine)
            found = inspect(engine)
            for name, model_table in SQLModel.metadata.tables.items():
                columns = {c["name"] for c in found.get_columns(name)}
                assert columns == {c.name for c in model_table.columns}, name
            with engine.begin() as conn:
                assert conn.execute(text("SELECT value FROM seq_counter")).scalar_one() == 0
        finally:
            engine.dispose()


#: Record columns added after the pre-Alembic schema (0010: revisions of approved records).
LATER_RECORD_COLUMNS = (("approved_data", "TEXT"), ("queued_at", "VARCHAR(40)"))


def _lend_record_columns(url: str, add: bool) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for name, kind in LATER_RECORD_COLUMNS:
                conn.execute(text(f"ALTER TABLE record ADD COLUMN {name} {kind}" if add
                                  else f"ALTER TABLE record DROP COLUMN {name}"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_made_before_alembic_is_adopted_without_loss(backend, tmp_path):
    with database_url(backend, tmp_path) as url:
        old = make_engine(url)
        assert legacy.migrate(old) == 2  # what fieldapp did before Alembic
        old.dispose()
        # Fill it through the server code of today, on the old schema (no migration):
        # users, a device, areas, records, history, the change feed, applied mutations.
        admin._engines[url] = make_engine(url, pool_size=2)
        admin.load_demo_areas(url)
        admin.add_user(url, "wangfang", "worker", "310104003")
        # Today's push writes record columns a later revision adds: lend them for the fill.
        _lend_record_columns(url, add=True)
        with running_server(url, migrate_schema=False) as base:
            worker = legacy_device(url, base, "wangfang")
            results = push(worker, mutation(fields=site()), mutation(fields=site()))
            assert [r["outcome"] for r in results] == ["applied", "applied"]
            worker.close()
        admin.dispose_all()
        _lend_record_columns(url, add=False)

        engine = make_engine(url)
        try:
            before = snapshot(engine)
            assert sum(len(rows) for _, rows in before.values()) > 10
            assert migrate(engine) == REVISIONS - 2  # stamped at 0002, then the rest
            assert snapshot(engine, like=before) == before
            alembic_check(engine)
            with pytest.raises(legacy.SchemaTooNew):  # the old program now refuses it
                legacy.migrate(engine)
        finally:
            engine.dispose()


def test_a_first_schema_database_gets_the_attachment_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'v1.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            for statement in legacy._statements(legacy.MIGRATION_1, "sqlite"):
                conn.execute(text(statement))
            legacy.current_version(conn)
            conn.execute(text("INSERT INTO schema_version VALUES (1, 'then')"))
            conn.execute(text("INSERT INTO area (code, name, level) VALUES "
                              "('310104', '徐汇区', 'district')"))
        assert migrate(engine) == REVISIONS - 1  # all but the baseline
        assert inspect(engine).has_table("attachment")
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table("area"))
                                ).scalar_one() == 1
        alembic_check(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_workers_starting_at_once_migrate_once(backend, tmp_path):
    with database_url(backend, tmp_path) as url:
        engines = [make_engine(url) for _ in range(4)]
        applied, errors = [], []
        gate = threading.Barrier(len(engines))

        def start(engine) -> None:  # noqa: ANN001
            try:
                gate.wait()
                applied.append(migrate(engine))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        try:
            assert not errors, errors
            assert sorted(applied) == [0, 0, 0, REVISIONS]
            alembic_check(engines[0])
        finally:
            for e in engines:
                e.dispose()


def test_a_newer_database_is_refused_and_left_alone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
        with pytest.raises(SchemaTooNew, match="please upgrade"):
            migrate(engine)
        with engine.connect() as conn:
            assert current(conn) == "from_the_future"
    finally:
        engine.dispose()


def test_database_urls_are_normalised(tmp_path):
    assert normalise_url(str(tmp_path / "r.db")).startswith("sqlite:////")
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError, match="unsupported database"):
        make_engine("mysql://u@h/db")


def test_feed_page_is_an_index_range_scan(tmp_path):
    """A pull reads the (code, seq) key from the cursor on, so its cost follows the page,
    not the size of the feed (checked on SQLite's plan over a 30,000-row feed)."""
    from sync.server.pull import feed_page

    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO change_feed (code, seq, record_id) VALUES (?,?,?)",
                                 [(f"G{n % 50}", n, f"r{n}") for n in range(1, 30001)])
            conn.exec_driver_sql("ANALYZE")
            stmt = feed_page(["G7", "G8"], 29000, 30000, 500).compile(
                engine, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {stmt}"))
    finally:
        engine.dispose()
    assert "SEARCH change_feed USING INDEX" in plan and "(code=? AND seq>? AND seq<?)" in plan
    assert "SCAN change_feed" not in plan, plan
