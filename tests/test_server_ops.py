"""Operating the registry: liveness and readiness for a load balancer, Prometheus metrics kept
off the public API, what laptops report at each sync, and structured logs from `fieldapp
serve` with several workers whose counters add up on the metrics port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from server_support import (
    BACKENDS,
    client,
    database_url,
    free_port,
    mutation,
    pg_base_url,
    push,
    registry_for,
    running_server,
)
from sqlalchemy import text

from sync.server import admin
from sync.server.db import reading


def test_liveness_stays_up_while_readiness_follows_the_database(tmp_path):
    # A registry whose PostgreSQL is not there (nothing listens on port 1).
    with running_server("postgresql+psycopg://fieldapp@127.0.0.1:1/gone",
                        migrate_schema=False, blob_store="dir:" + str(tmp_path)) as base, \
            client(base) as c:
        assert c.get("/api/v1/health").json() == {"ok": True, "protocol": 1}
        r = c.get("/api/v1/health/ready")
        assert r.status_code == 503 and r.json()["error"] == "not_ready"
        assert "OperationalError" in r.json()["message"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_ready_checks_schema_and_store(backend, tmp_path):
    with registry_for(backend, tmp_path) as reg, client(reg.base, protocol=None) as c:
        r = c.get("/api/v1/health/ready")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] and body["schema_version"].startswith("00")
        assert body["blob_store"] == ("db" if backend == "postgresql" else "dir")
        with admin.engine_for(reg.url).begin() as conn:  # the schema is lost under it
            conn.execute(text("DELETE FROM alembic_version"))
        assert c.get("/api/v1/health/ready").status_code == 503
        assert c.get("/api/v1/health").status_code == 200


def test_metrics_need_the_token_and_count_requests_pushes_and_devices(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDAPP_METRICS_TOKEN", "scrape-secret")
    with registry_for("sqlite", tmp_path) as reg:
        worker = reg.user("wangfang")
        with client(reg.base) as anon:
            assert anon.get("/metrics").status_code == 404
            assert anon.get("/metrics", headers={"Authorization": "Bearer wrong"}
                            ).status_code == 404
            assert "/metrics" not in anon.get("/openapi.json").text
        r = worker.post("/api/v1/status", json={"app_version": "0.1.0", "queued": 7,
                                                "parked": 2, "client_time": "2026-01-05T10:00:"
                                                "00+08:00", "later_field": "ignored"})
        assert r.status_code == 200, r.text
        gen = r.json()["generation"]
        assert len(gen) == 32 and r.json()["server_time"].endswith("+00:00")
        assert worker.post("/api/v1/status", json={}).json()["generation"] == gen
        results = push(worker, mutation(), mutation(), mutation(fields={"grid_code": "bad"}))
        assert [x["outcome"] for x in results] == ["applied", "applied", "rejected"]
        worker.get("/api/v1/pull")
        with client(reg.base) as scraper:
            r = scraper.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        m = r.text
        assert 'fieldapp_http_requests_total{method="POST",route="/api/v1/push",status="200"}' \
            ' 1.0' in m
        assert 'fieldapp_http_request_duration_seconds_bucket{le="0.005",route="/api/v1/pull"' in m
        assert 'fieldapp_push_mutations_total{outcome="applied"} 2.0' in m
        assert 'fieldapp_push_mutations_total{outcome="rejected"} 1.0' in m
        assert "fieldapp_pull_changes_total 2.0" in m
        assert 'fieldapp_active_devices{window="1d"} 1.0' in m
        assert "fieldapp_reported_outbox_depth 0.0" in m  # the last report said 0 waiting
        assert "fieldapp_records 2.0" in m
        with reading(admin.engine_for(reg.url)) as conn:
            row = conn.execute(text("SELECT * FROM device_status")).one()
            actions = conn.execute(text("SELECT action, count, detail FROM activity "
                                        "ORDER BY id")).all()
        assert row.user_name == "wangfang" and row.app_version == "" and row.last_push_at
        assert [a.action for a in actions] == ["enroll", "push"]
        assert actions[1].count == 3 and actions[1].detail == "applied 2, rejected 1"


@pytest.mark.skipif(sys.platform == "win32", reason="uvicorn workers fork")
def test_serve_with_two_workers_adds_up_metrics_and_logs_json(tmp_path):
    """The real `fieldapp serve` with 2 worker processes: each request is counted once on
    the private metrics port whichever worker served it, and every log line is JSON."""
    backend = "postgresql" if pg_base_url() else "sqlite"
    with database_url(backend, tmp_path) as url:
        admin.load_demo_areas(url)
        token = admin.add_user(url, "wangfang", "worker", "310104003")
        port, mport = free_port(), free_port()
        env = {**os.environ, "FIELDAPP_HOME": str(tmp_path / "home"),
               "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
        log = open(tmp_path / "serve.log", "w+", encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "fieldapp", "serve", "--database-url", url, "--port",
             str(port), "--workers", "2", "--metrics-port", str(mport), "--log-format", "json",
             "--blob-store", f"dir:{tmp_path / 'blobs'}"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, proc)
            with client(base) as c:
                cred = c.post("/api/v1/enroll", json={"token": token, "device_id": "d1",
                                                      "device_name": "x"}).json()["credential"]
            n = 40
            for _ in range(n):  # new connections, so both workers get some
                with client(base, cred) as c:
                    assert c.get("/api/v1/me").status_code == 200
            m = httpx.get(f"http://127.0.0.1:{mport}/metrics", timeout=10).text
            line = [x for x in m.splitlines() if x.startswith(
                'fieldapp_http_requests_total{method="GET",route="/api/v1/me",status="200"')]
            assert line and float(line[0].rsplit(" ", 1)[1]) == n, line
            assert "fieldapp_active_devices" in m
        finally:
            proc.terminate()
            proc.wait(20)
            admin.dispose_all()
        log.seek(0)
        lines = [x for x in log.read().splitlines() if x.startswith("{")]
        requests = [json.loads(x) for x in lines if '"path"' in x]
        assert len(requests) >= n + 1
        assert {r["path"] for r in requests} >= {"/api/v1/me", "/api/v1/enroll"}
        assert len({r["pid"] for r in requests if r["path"] == "/api/v1/me"}) == 2
        assert all(set(r) >= {"time", "level", "method", "status", "ms", "user"}
                   for r in requests)


def _wait_ready(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "fieldapp serve exited"
        try:
            if httpx.get(f"{base}/api/v1/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("registry did not become ready")
