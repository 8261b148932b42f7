"""Registry figures for a city deployment, on PostgreSQL, measured in one run:

- push throughput with two registry processes (`fieldapp serve` on two ports, one database)
  against one, four workers pushing 500-record batches at once;
- photo upload and download throughput through the PostgreSQL blob store against the folder
  store (20 files of 2 MB, one laptop after another).

Each configuration gets a fresh PostgreSQL schema; real processes over loopback HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from bench.common import Row

GRID = "310104003001G01"
SITE = {"grid_code": GRID, "address": "天平路100号", "source_type": "storefront",
        "floor_from": 1, "usable_area": 120, "ownership_type": "state",
        "owner_name": "徐汇区房屋管理局", "owner_consent": "agreed",
        "structure_condition": "good", "fire_condition": "good",
        "candidate_functions": ["elderly", "meal"]}
WORKERS, BATCHES, BATCH = 4, 6, 500
FILES, FILE_SIZE = 20, 2 * 1024 * 1024


def rows(_store, work: Path, args) -> list[Row]:  # noqa: ANN001
    base = args.postgres or os.environ.get("FIELDAPP_TEST_DATABASE_URL")
    if not base:
        return [Row("registry city figures", "skipped: no PostgreSQL (--postgres URL)", "", "",
                    None)]
    one = _push_rate(base, work, hosts=1)
    two = _push_rate(base, work, hosts=2)
    out = [Row(f"push, {WORKERS} workers at once: two registry processes (PostgreSQL)",
               f"{two:,.0f} records/s", f"one process {one:,.0f} records/s "
               f"(×{two / one:.2f})", "informational", None)]
    pg = _blob_rates(base, work, "postgres")
    folder = _blob_rates(base, work, "dir")
    for i, direction in enumerate(("upload", "download")):
        out.append(Row(f"photo {direction}, {FILES} × 2 MB: PostgreSQL blob store",
                       f"{pg[i]:,.1f} MB/s", f"folder store {folder[i]:,.1f} MB/s "
                       f"(×{pg[i] / folder[i]:.2f})", "informational", None))
    return out


# -- plumbing ----------------------------------------------------------------------------------
def _schema(base: str):  # noqa: ANN202
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"fa_bench_{uuid.uuid4().hex[:10]}"
    dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')

    def drop() -> None:
        from sync.server import admin

        admin.dispose_all()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False), drop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, home: Path, *options: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "serve", "--database-url", url,
                             "--port", str(port), *options],
                            env={**os.environ, "FIELDAPP_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health/ready", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("registry did not start")


def _client(base: str, url: str, user: str) -> httpx.Client:
    from sync.server import admin

    token = admin.add_user(url, user, "worker", "310104003")
    headers = {"X-Fieldapp-Protocol": "1"}
    cred = httpx.post(f"{base}/api/v1/enroll", headers=headers, timeout=30, json={
        "token": token, "device_id": f"bench-{user}", "device_name": user}).json()["credential"]
    return httpx.Client(base_url=base, timeout=120,
                        headers={**headers, "Authorization": f"Bearer {cred}"})


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def _push_rate(base_url: str, work: Path, hosts: int) -> float:
    from sync.server import admin

    url, drop = _schema(base_url)
    procs: list[subprocess.Popen] = []
    try:
        admin.load_demo_areas(url)
        for n in range(hosts):
            proc, _ = _start(url, work / f"city-host{n}", "--blob-store", "postgres")
            procs.append(proc)
        bases = [f"http://127.0.0.1:{_port_of(p)}" for p in procs]
        clients = [_client(bases[i % hosts], url, f"w{i}") for i in range(WORKERS)]
        bodies = [[{"mutations": [{"mutation_id": str(uuid.uuid4()),
                                   "record_id": str(uuid.uuid4()), "kind": "site",
                                   "op": "create", "base_version": 0,
                                   "fields": {**SITE, "address": f"天平路{i}-{b}-{k}号"}}
                                  for k in range(BATCH)]} for b in range(BATCHES)]
                  for i in range(WORKERS)]
        gate = threading.Barrier(WORKERS + 1)

        def run(i: int) -> None:
            gate.wait()
            for body in bodies[i]:
                clients[i].post("/api/v1/push", json=body).raise_for_status()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
        for t in threads:
            t.start()
        gate.wait()
        start = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        for c in clients:
            c.close()
        return WORKERS * BATCHES * BATCH / elapsed
    finally:
        _stop(procs)
        drop()


def _port_of(proc: subprocess.Popen) -> int:
    args = proc.args
    return int(args[args.index("--port") + 1])


def _blob_rates(base_url: str, work: Path, store: str) -> tuple[float, float]:
    import hashlib
    import random

    from sync.server import admin

    url, drop = _schema(base_url)
    procs: list[subprocess.Popen] = []
    try:
        admin.load_demo_areas(url)
        spec = "postgres" if store == "postgres" else f"dir:{tempfile.mkdtemp(dir=work)}"
        proc, base = _start(url, work / f"city-blobs-{store}", "--blob-store", spec)
        procs.append(proc)
        c = _client(base, url, "photographer")
        rng = random.Random(7 if store == "postgres" else 8)
        files = [b"\xff\xd8\xff\xe0\x00\x10" + rng.randbytes(FILE_SIZE - 6) for _ in range(FILES)]
        shas = [hashlib.sha256(f).hexdigest() for f in files]
        start = time.perf_counter()
        for sha, content in zip(shas, files, strict=True):
            c.put(f"/api/v1/blobs/{sha}", content=content).raise_for_status()
        up = FILES * FILE_SIZE / 1024 / 1024 / (time.perf_counter() - start)
        record = str(uuid.uuid4())
        c.post("/api/v1/push", json={"mutations": [{
            "mutation_id": str(uuid.uuid4()), "record_id": record, "kind": "site",
            "op": "create", "base_version": 0, "fields": SITE}]}).raise_for_status()
        c.post("/api/v1/attachments", json={"attachments": [{
            "id": str(uuid.uuid4()), "record_id": record, "sha256": sha, "name": f"{n}.jpg",
            "kind": "photo", "mime": "image/jpeg", "size": FILE_SIZE, "caption": "",
            "created_at": "2026-01-05T10:00:00+08:00"} for n, sha in enumerate(shas)]}
               ).raise_for_status()
        start = time.perf_counter()
        for sha in shas:
            with c.stream("GET", f"/api/v1/blobs/{sha}") as r:
                r.raise_for_status()
                got = sum(len(chunk) for chunk in r.iter_bytes())
            assert got == FILE_SIZE
        down = FILES * FILE_SIZE / 1024 / 1024 / (time.perf_counter() - start)
        c.close()
        return up, down
    finally:
        _stop(procs)
        drop()
