"""Helpers for the registry tests: database URLs (SQLite, isolated PostgreSQL schemas), a real
uvicorn server on a free loopback port, enrolled HTTP clients and complete records.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from sync.server import admin

PG_ENV = "FIELDAPP_TEST_DATABASE_URL"
GRID = "310104003001G01"        # 天平路街道 第一居委 1号网格
GRID_SAME_STREET = "310104003002G02"
GRID_OTHER_STREET = "310104004001G01"  # 湖南路街道
STREET = "310104003"
OTHER_STREET = "310104004"
DISTRICT = "310104"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@contextmanager
def database_url(backend: str, tmp_path) -> Iterator[str]:  # noqa: ANN001
    """A fresh, empty registry database: a SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite3'}"
        return
    base = pg_base_url()
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@"
                    f"127.0.0.1:5432/test); .ci/run sets it")
    import psycopg

    schema = f"fa_{uuid.uuid4().hex[:12]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        admin.dispose_all()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(url: str, **options) -> Iterator[str]:
    """The real app under uvicorn in a background thread; yields its base URL."""
    import uvicorn

    from sync.server.app import create_app

    app = create_app(url, **options)
    # Bound here and handed to uvicorn: a port probed free can be taken before uvicorn binds it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.engine.dispose()


def client(base: str, credential: str | None = None, protocol: str | None = "1") -> httpx.Client:
    headers = {}
    if protocol is not None:
        headers["X-Fieldapp-Protocol"] = protocol
    if credential:
        headers["Authorization"] = f"Bearer {credential}"
    return httpx.Client(base_url=base, headers=headers, timeout=30)


def enroll(base: str, url: str, name: str, role: str, scopes: str,
           device_id: str | None = None) -> httpx.Client:
    """Add a user, enroll one device, return a client holding its credential."""
    token = admin.add_user(url, name, role, scopes)
    with client(base) as c:
        r = c.post("/api/v1/enroll", json={"token": token, "device_id": device_id or
                                           f"dev-{name}", "device_name": f"{name}'s laptop"})
    assert r.status_code == 200, r.text
    return client(base, r.json()["credential"])


def site(**overrides) -> dict:
    fields = {
        "grid_code": GRID, "address": "天平路100号", "source_type": "storefront",
        "floor_from": 1, "usable_area": 120, "ownership_type": "state",
        "owner_name": "徐汇区房屋管理局", "owner_consent": "agreed",
        "structure_condition": "good", "fire_condition": "good",
        "candidate_functions": ["elderly", "meal"],
    }
    fields.update(overrides)
    return fields


def mutation(op: str = "create", fields: dict | None = None, record_id: str | None = None,
             base_version: int = 0, kind: str = "site") -> dict:
    return {"mutation_id": str(uuid.uuid4()), "record_id": record_id or str(uuid.uuid4()),
            "kind": kind, "op": op, "base_version": base_version,
            "fields": site() if fields is None and op == "create" else (fields or {}),
            "client_time": "2026-01-05T10:00:00+08:00"}


def push(c: httpx.Client, *mutations: dict, fill: bool = True) -> list[dict]:
    """The batch's Results. An `applied` answer with the version only (the registry stored it
    exactly as sent) gets the record as the registry now has it, when `fill`, for tests that
    read it on."""
    r = c.post("/api/v1/push", json={"mutations": list(mutations)})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    for m, result in zip(mutations, results, strict=True):
        if fill and "record" not in result and result.get("version"):
            got = c.get(f"/api/v1/records/{m['record_id']}")
            assert got.status_code == 200, got.text
            result["record"] = got.json()
    return results


def pull_all(c: httpx.Client, cursor: str | None = None, limit: int = 500) -> tuple[list, str]:
    """Every page until `more` is false: (changes, final cursor)."""
    changes = []
    while True:
        params = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = c.get("/api/v1/pull", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, cursor


class Registry:
    """A running registry (URL of its database, base URL of its HTTP API) for one test."""

    def __init__(self, url: str, base: str) -> None:
        self.url, self.base = url, base
        self._clients: list[httpx.Client] = []

    def user(self, name: str, role: str = "worker", scopes: str = STREET,
             device_id: str | None = None) -> httpx.Client:
        c = enroll(self.base, self.url, name, role, scopes, device_id)
        self._clients.append(c)
        return c

    def close(self) -> None:
        for c in self._clients:
            c.close()


@contextmanager
def registry_for(backend: str, tmp_path, **app_options) -> Iterator[Registry]:  # noqa: ANN001
    with database_url(backend, tmp_path) as url:
        admin.load_demo_areas(url)
        with running_server(url, **app_options) as base:
            reg = Registry(url, base)
            try:
                yield reg
            finally:
                reg.close()


@pytest.fixture(params=BACKENDS)
def registry(request, tmp_path) -> Iterator[Registry]:  # noqa: ANN001
    with registry_for(request.param, tmp_path) as reg:
        yield reg
