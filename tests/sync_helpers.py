"""Helpers for the sync tests: a real registry (uvicorn on a loopback port, in a thread) on a
SQLite file or an isolated PostgreSQL schema, and laptops with real SQLite files enrolled to it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from sync import credentials
from sync.client import RegistryClient
from sync.engine import SyncEngine

PG_ENV = "FIELDAPP_TEST_DATABASE_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """The real registry app under uvicorn in a background thread; stop() and start() again
    on the same port to simulate a restart."""

    def __init__(self, database_url: str, port: int | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.server = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        import uvicorn

        from sync.server.app import create_app

        app = create_app(self.database_url)
        # A request cut off mid-body must not hold a stop() (and the test) for ever.
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error",
                                lifespan="off", access_log=False, timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("registry did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(10)
            app = self.server.config.app
            engine = getattr(getattr(app, "state", None), "engine", None)
            if engine is not None:
                engine.dispose()
            self.server = None


def database_urls() -> list:
    """SQLite always; PostgreSQL too when FIELDAPP_TEST_DATABASE_URL is set."""
    params = ["sqlite"]
    if os.environ.get(PG_ENV):
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    return params


def make_database_url(kind: str, tmp_path: Path):
    """A fresh, empty registry database and a function that drops it afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}", lambda: None
    import psycopg
    from sqlalchemy.engine import make_url

    base = os.environ[PG_ENV]
    schema = f"fa_sync_{uuid.uuid4().hex[:12]}"
    plain = make_url(base).set(drivername="postgresql")
    dsn = plain.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        from sync.server import admin

        admin.dispose_all()
        with psycopg.connect(dsn, autocommit=True) as conn:
            # A connection still open in a stopping server thread would make DROP wait for
            # its locks with no end; give up after a while and leave the schema instead.
            conn.execute("SET lock_timeout = '20s'")
            try:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            except psycopg.errors.LockNotAvailable:
                import warnings

                warnings.warn(f"test schema {schema} left behind: still locked", stacklevel=1)

    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


@dataclass
class Laptop:
    """One laptop: its own data folder, SQLite file, credentials and sync engine."""

    name: str
    home: Path
    server_url: str
    store: RecordStore = field(init=False)
    engine: SyncEngine | None = None

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.store = RecordStore(connect(self.home / "fieldapp.sqlite3"))

    @property
    def config_dir(self) -> Path:
        return self.home / "config"

    def enroll(self, token: str, server_url: str | None = None) -> dict:
        entry = credentials.enroll(self.config_dir, self.store, server_url or self.server_url,
                                   token, self.name)
        self.connect_engine()
        return entry

    def connect_engine(self, server_url: str | None = None, **kwargs) -> SyncEngine:
        entry = credentials.current(self.config_dir)
        self.store.user, self.store.role = entry["user"], entry["role"]
        if self.engine is not None:
            self.engine.client.close()
        client = RegistryClient(server_url or entry["server"], entry["credential"],
                                timeout=kwargs.pop("timeout", 10))
        # As open_engine does: the credential's sequence goes with each cycle's status.
        kwargs.setdefault("sequence", lambda: credentials.next_sequence(
            self.config_dir, entry["credential"]))
        self.engine = SyncEngine(self.store, client, **kwargs)
        return self.engine

    def sync(self):
        return self.engine.run_cycle()

    def records(self) -> dict[str, dict]:
        """Every live record's content and version: what convergence compares."""
        rows = self.store.conn.execute(
            "SELECT id, kind, status, review_comment, data, server_version FROM record "
            "WHERE deleted = 0").fetchall()
        return {r["id"]: {"kind": r["kind"], "status": r["status"],
                          "review_comment": r["review_comment"],
                          "data": json.loads(r["data"]), "version": r["server_version"]}
                for r in rows}

    def close(self) -> None:
        if self.engine is not None:
            self.engine.client.close()
        self.store.conn.close()


def stale_scope(store) -> None:
    """The laptop's copy of its user's scope is wider than the registry's (an admin narrowed
    it since enrolment), so the laptop no longer refuses out-of-scope saves itself: what it
    pushes shows the registry's own refusal."""
    store.set_setting(f"scopes:{store.user}", "*")


def server_records(database_url: str) -> dict[str, dict]:
    """The registry's live records, read straight from its database."""
    from sqlalchemy import select

    from sync.server import admin
    from sync.server.db import reading
    from sync.server.push import RECORDS, load_record

    with reading(admin.engine_for(database_url)) as conn:
        rows = [load_record(r) for r in conn.execute(select(RECORDS))]
    return {r["id"]: {"kind": r["kind"], "status": r["status"],
                      "review_comment": r["review_comment"], "data": r["data"],
                      "version": r["version"], "deleted": bool(r["deleted"])} for r in rows}


def server_count(database_url: str, table: str) -> int:
    from sqlalchemy import text

    from sync.server import admin
    from sync.server.db import reading

    with reading(admin.engine_for(database_url)) as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def live(server: dict[str, dict]) -> dict[str, dict]:
    return {k: {f: v for f, v in r.items() if f != "deleted"}
            for k, r in server.items() if not r["deleted"]}


@dataclass
class Registry:
    database_url: str
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, user: str, role: str = "worker", scopes: str = "310104003") -> str:
        from sync.server import admin

        return admin.add_user(self.database_url, user, role, scopes)

    def records(self) -> dict[str, dict]:
        return server_records(self.database_url)


@pytest.fixture(params=database_urls())
def registry(request, tmp_path):
    from sync.server import admin

    url, drop = make_database_url(request.param, tmp_path)
    admin.load_demo_areas(url)
    server = ServerThread(url).start()
    yield Registry(url, server)
    server.stop()
    drop()


@pytest.fixture
def laptops(registry, tmp_path):
    """make(name, user, role, scopes) → an enrolled Laptop with its own SQLite file."""
    made: list[Laptop] = []

    def make(name: str, user: str = "wangfang", role: str = "worker",
             scopes: str = "310104003") -> Laptop:
        laptop = Laptop(name, tmp_path / name, registry.url)
        laptop.enroll(registry.token(user, role, scopes))
        made.append(laptop)
        return laptop

    yield make
    for laptop in made:
        laptop.close()


def bulk_sites(store: RecordStore, n: int, seed: int = 1) -> int:
    """n complete sites across the demo grids, drafts and submitted ones, in the outbox.

    (The demo generator also makes approved records, which a laptop may not create.)
    """
    import random

    from fieldapp.demo import demo_areas
    from fieldapp.store.records import Record
    from tests.conftest import complete_site

    rng = random.Random(seed)
    grids = [a.code for a in demo_areas() if a.level == "grid"]
    records = []
    for i in range(n):
        data = complete_site(grid_code=rng.choice(grids), address=f"测试路{i + 1}号",
                             usable_area=float(rng.randint(20, 900)))
        records.append(Record(id=str(uuid.uuid4()), kind="site",
                              status=rng.choice(("draft", "submitted")), data=data))
    return store.insert_many(records)


#: For tests of the laptop's own behaviour: one registry backend is enough (keeps CI short).
sqlite_only = pytest.mark.parametrize("registry", ["sqlite"], indirect=True)


def same_field_edited_on_both(a: Laptop, b: Laptop):
    """A site both laptops have, then its usable area changed on each; `a` has pushed its
    edit, so `b`'s next sync meets the conflict. Returns the site."""
    from tests.conftest import complete_site

    for laptop in (a, b):
        laptop.sync()
    site = a.store.save("site", complete_site())
    a.sync()
    b.sync()
    a.store.save("site", {"usable_area": 150}, record_id=site.id)
    b.store.save("site", {"usable_area": 180}, record_id=site.id)
    a.sync()
    return site
