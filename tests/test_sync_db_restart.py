"""The registry's PostgreSQL connections are cut again and again while laptops sync (what a
database restart or failover does to the server): clients see a retriable error, nothing is
applied twice or lost, and everything converges once the database is steady."""

from __future__ import annotations

import os
import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from sync.server import admin
from tests.sync_helpers import PG_ENV, Laptop, ServerThread, bulk_sites

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV),
                                reason=f"needs PostgreSQL: set {PG_ENV} (.ci/run does)")


def test_registry_database_connections_cut_mid_sync(tmp_path):
    base = os.environ[PG_ENV]
    dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"fa_restart_{uuid.uuid4().hex[:10]}"
    tag = f"fieldapp-test-{schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": tag}
    ).render_as_string(hide_password=False)
    server = None
    laptops: list[Laptop] = []
    stop = threading.Event()
    cuts = [0]

    def cut_connections() -> None:
        with psycopg.connect(dsn, autocommit=True) as killer:
            while not stop.wait(0.15):
                cuts[0] += killer.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                    "FROM pg_stat_activity WHERE application_name = %s", (tag,)).fetchone()[0]

    try:
        admin.load_demo_areas(url)
        server = ServerThread(url).start()
        for name in ("a", "b"):
            laptop = Laptop(name, tmp_path / name, server.url)
            laptop.enroll(admin.add_user(url, f"user-{name}", "worker", "*"))
            laptop.connect_engine(push_limit=50)
            laptops.append(laptop)
        a, b = laptops
        bulk_sites(a.store, 300, seed=1)
        bulk_sites(b.store, 300, seed=2)
        killer = threading.Thread(target=cut_connections, daemon=True)
        killer.start()
        failures = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (a.store.pending_count() or b.store.pending_count()):
            for laptop in laptops:
                report = laptop.sync()
                failures += bool(report.errors)
        stop.set()
        killer.join(5)
        assert cuts[0] > 0, "no connection was ever cut: the test proved nothing"
        for _ in range(2):
            for laptop in laptops:
                assert not laptop.sync().errors
        assert a.store.pending_count() == b.store.pending_count() == 0
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            records = conn.execute("SELECT count(*) FROM record").fetchone()[0]
            applied = conn.execute("SELECT count(*) FROM applied_mutation").fetchone()[0]
            versions = conn.execute("SELECT max(version) FROM record").fetchone()[0]
        assert records == 600 and applied == 600 and versions == 1  # each once, none twice
        assert a.records() == b.records() and len(a.records()) == 600
    finally:
        stop.set()
        for laptop in laptops:
            laptop.close()
        if server is not None:
            server.stop()
        admin.dispose_all()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
