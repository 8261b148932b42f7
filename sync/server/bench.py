"""Measure the registry over loopback: push throughput and no-op pull latency as data grows.

    python -m sync.server.bench [--database-url URL] [--batches 10] [--grow 50000]

Starts `fieldapp serve` in its own process (real uvicorn, like production), enrolls a worker
and pushes batches of 500 new sites; prints records/s per batch and the median, then the
time of a pull at the head of the feed at the start and after `--grow` more records.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx

from sync.server import admin

GRID = "310104003001G01"
SITE = {"grid_code": GRID, "address": "天平路100号", "source_type": "storefront",
        "floor_from": 1, "usable_area": 120, "ownership_type": "state",
        "owner_name": "徐汇区房屋管理局", "owner_consent": "agreed",
        "structure_condition": "good", "fire_condition": "good",
        "candidate_functions": ["elderly", "meal"]}


def batch(n: int = 500) -> dict:
    return {"mutations": [{"mutation_id": str(uuid.uuid4()), "record_id": str(uuid.uuid4()),
                           "kind": "site", "op": "create", "base_version": 0,
                           "fields": {**SITE, "address": f"天平路{i}号"}} for i in range(n)]}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def noop_pull_ms(c: httpx.Client, cursor: str, n: int = 30) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        c.get("/api/v1/pull", params={"cursor": cursor}).raise_for_status()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def head_cursor(c: httpx.Client) -> str:
    cursor = None
    while True:
        page = c.get("/api/v1/pull", params={"limit": 2000, **(
            {"cursor": cursor} if cursor else {})}).json()
        cursor = page["cursor"]
        if not page["more"]:
            return cursor


def _cpu_seconds(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url")
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--grow", type=int, default=20000, help="records added before re-measuring")
    args = ap.parse_args(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/registry.sqlite3"
    admin.load_demo_areas(url)
    token = admin.add_user(url, f"bench-{uuid.uuid4().hex[:6]}", "worker", "310104003")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "fieldapp", "serve", "--port", str(port),
                               "--database-url", url], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        headers = {"X-Fieldapp-Protocol": "1"}
        cred = httpx.post(f"{base}/api/v1/enroll", headers=headers, json={
            "token": token, "device_id": "bench", "device_name": "bench"}).json()["credential"]
        c = httpx.Client(base_url=base, timeout=120,
                         headers={**headers, "Authorization": f"Bearer {cred}"})
        rates, cpu_rates = [], []
        for i in range(args.batches):
            body = batch()
            cpu = _cpu_seconds(server.pid)
            t = time.perf_counter()
            r = c.post("/api/v1/push", json=body)
            elapsed = time.perf_counter() - t
            cpu = _cpu_seconds(server.pid) - cpu
            r.raise_for_status()
            rates.append(500 / elapsed)
            cpu_rates.append(500 / cpu if cpu else float("inf"))
            print(f"push batch {i + 1}: {elapsed * 1000:.0f} ms wall, {cpu * 1000:.0f} ms server "
                  f"CPU, {500 / elapsed:.0f} records/s")
        # Server CPU time is what a loaded, shared machine cannot inflate much: it says what
        # the server would do with a core to itself.
        print(f"push median: {statistics.median(rates):.0f} records/s wall (best "
              f"{max(rates):.0f}); {statistics.median(cpu_rates):.0f} records per server "
              f"CPU-second; {args.batches} batches of 500")
        small = noop_pull_ms(c, head_cursor(c))
        for _ in range(args.grow // 500):
            c.post("/api/v1/push", json=batch()).raise_for_status()
        grown = noop_pull_ms(c, head_cursor(c))
        total = 500 * (args.batches + args.grow // 500)
        print(f"no-op pull at head: {small:.1f} ms with {500 * args.batches} records, "
              f"{grown:.1f} ms with {total}")
    finally:
        server.terminate()
        server.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
