"""Sync figures over loopback with a real `fieldapp serve` process, on SQLite and PostgreSQL.

- first sync of N records from a laptop to an empty registry (push), and onto an empty laptop
  (pull), in records/s, beside a bare HTTP round trip's cost per record;
- a cycle with nothing to do at 10,000 and at N records (it should stay flat);
- 50 laptops syncing 1,000 new records each at once (PostgreSQL): all converge, p95 cycle
  time, and the server's peak RSS during that load.

`python -m bench --only sync` runs it inside the whole table.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.common import Row, median, ms, percentile

LOAD_LAPTOPS, LOAD_RECORDS = 50, 1000


class Registry:
    def __init__(self, url: str) -> None:
        import httpx

        from sync.server import admin
        from sync.server.bench import free_port

        self.url = url
        admin.load_demo_areas(url)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fieldapp", "serve", "--port", str(self.port),
             "--database-url", url], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(400):
            try:
                httpx.get(f"{self.base}/api/v1/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the registry did not start")

    def token(self, scopes: str = "*", role: str = "worker") -> str:
        from sync.server import admin

        return admin.add_user(self.url, f"bench-{uuid.uuid4().hex[:8]}", role, scopes)

    def rss_mb(self) -> float:
        import psutil

        proc = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def laptop(home: Path, registry: Registry, token: str, source: Path | None = None):
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore
    from sync import credentials
    from sync.client import RegistryClient
    from sync.engine import SyncEngine

    home.mkdir(parents=True, exist_ok=True)
    if source is not None:
        shutil.copy(source, home / "fieldapp.sqlite3")
    store = RecordStore(connect(home / "fieldapp.sqlite3"))
    entry = credentials.enroll(home / "config", store, registry.base, token, home.name)
    store.user, store.role = entry["user"], entry["role"]
    return SyncEngine(store, RegistryClient(registry.base, entry["credential"], timeout=300))


def _report():
    from sync.engine import SyncReport

    return SyncReport()


def round_trip_per_record(registry: Registry, token_engine) -> float:
    """A no-op pull's HTTP round trip divided by a push batch's size: the floor per record."""
    times = []
    for _ in range(20):
        start = time.perf_counter()
        token_engine.client.pull(None, 1)
        times.append(time.perf_counter() - start)
    return median(times) / token_engine.push_limit


def bare_ingest_rate(url: str, source: Path) -> float:
    """Records/s of the bare FastAPI + executemany ingest (bench/bare_ingest.py) of the same
    mutations the laptop is about to push, on the same kind of database."""
    from bench.bare_ingest import BareIngest
    from fieldapp.store import sync_state
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    conn = connect(source)
    try:
        mutations = [e.mutation() for e in sync_state.entries(RecordStore(conn), "pending")]
    finally:
        conn.close()
    server = BareIngest(url)
    try:
        return len(mutations) / server.ingest(mutations)
    finally:
        server.stop()


def first_sync(registry: Registry, work: Path, source: Path, label: str, n: int,
               bare: float) -> list[Row]:
    a = laptop(work / f"{label}-a", registry, registry.token(), source)
    floor = round_trip_per_record(registry, a)
    start = time.perf_counter()
    report = _report()
    a.push(report)
    push_s = time.perf_counter() - start
    b = laptop(work / f"{label}-b", registry, registry.token())
    start = time.perf_counter()
    pulled = _report()
    b.pull(pulled)
    pull_s = time.perf_counter() - start
    push_rate, pull_rate = report.pushed / push_s, pulled.pulled / pull_s
    label = label.split("-")[0]  # SQLite or PostgreSQL
    baseline = (f"bare FastAPI + {label} executemany ingest {bare:,.0f} records/s; "
                f"HTTP round trip ≈ {floor * 1e6:.0f} µs/record")
    rows = [
        Row(f"first sync, {label}: push {n:,} records to an empty registry",
            f"{push_rate:,.0f} records/s ({push_s:.1f} s) = {push_rate / bare:.0%} of bare",
            baseline, "≥ 1/3 of bare", push_rate >= bare / 3),
        Row(f"first sync, {label}: pull {n:,} records onto an empty laptop",
            f"{pull_rate:,.0f} records/s ({pull_s:.1f} s) = {pull_rate / bare:.0%} of bare",
            f"the same bare ingest, {bare:,.0f} records/s", "≥ 1/3 of bare",
            pull_rate >= bare / 3),
    ]
    if report.rejected or report.pushed < n or pulled.pulled < n:
        raise RuntimeError(f"first sync incomplete: pushed {report.pushed}, rejected "
                           f"{len(report.rejected)}, pulled {pulled.pulled} of {n}")
    a.client.close()
    a.store.conn.close()
    return rows, b


def noop_cycle(engine, repeat: int = 15) -> tuple[float, float]:
    engine.run_cycle()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        engine.run_cycle()
        times.append(time.perf_counter() - start)
    return median(times), percentile(times, 95)


def noop_on(engine) -> tuple[float, float]:
    """On the laptop that pulled everything: nothing to send, nothing new to pull."""
    med, p95 = noop_cycle(engine)
    engine.client.close()
    engine.store.conn.close()
    return med, p95


def load_rows(registry: Registry, work: Path) -> list[Row]:
    from fieldapp.demo import DemoMaker, demo_areas

    grids = [a.code for a in demo_areas() if a.level == "grid"][:LOAD_LAPTOPS]
    engines = []
    for i, grid in enumerate(grids):
        engine = laptop(work / f"load-{i}", registry, registry.token(scopes=grid))
        engine.store.load_areas(demo_areas())
        maker = DemoMaker(seed=1000 + i)
        records = [r for r in maker.records(LOAD_RECORDS + LOAD_RECORDS // 3)
                   if r.kind != "inspection"][:LOAD_RECORDS]
        for r in records:
            r.data["grid_code"] = r.grid_code = grid
        engine.store.insert_many(records)
        engines.append(engine)
    times: list[float] = []
    peak = [0.0]
    done = threading.Event()

    def watch_rss():
        while not done.is_set():
            peak[0] = max(peak[0], registry.rss_mb())
            time.sleep(0.2)

    def run(engine):
        start = time.perf_counter()
        engine.run_cycle()
        times.append(time.perf_counter() - start)

    watcher = threading.Thread(target=watch_rss, daemon=True)
    watcher.start()
    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    done.set()
    for e in engines:  # a second cycle pulls what the first pushed; then compare
        e.run_cycle()
    converged = all(e.store.pending_count() == 0 and
                    e.store.conn.execute("SELECT count(*) FROM record WHERE deleted = 0"
                                         ).fetchone()[0] == LOAD_RECORDS for e in engines)
    for e in engines:
        e.client.close()
        e.store.conn.close()
    return [
        Row(f"{LOAD_LAPTOPS} laptops × {LOAD_RECORDS:,} new records, at once (PostgreSQL)",
            f"cycle p95 {percentile(times, 95):.1f} s, median {median(times):.1f} s; all done in "
            f"{wall:.1f} s; converged: {'yes' if converged else 'NO'}",
            f"{LOAD_LAPTOPS * LOAD_RECORDS / wall:,.0f} records/s overall", "all converge",
            converged),
        Row("registry RSS under that load (all uvicorn processes)", f"peak {peak[0]:.0f} MB", "",
            "≤ 300 MB", peak[0] <= 300),
    ]


def rows(store, work: Path, args) -> list[Row]:
    import os

    from fieldapp.demo import populate
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    n = store.count_all()
    source = Path(store.conn.execute("PRAGMA database_list").fetchone()[2])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    small = work / "small" / "fieldapp.sqlite3"
    if not small.exists():
        small.parent.mkdir(parents=True, exist_ok=True)
        populate(RecordStore(connect(small), user="bench"), 10_000,
                 statuses=("draft", "submitted"))
    backends = [("SQLite", lambda tag: f"sqlite:///{work / f'registry-{tag}.sqlite3'}")]
    pg = args.postgres or os.environ.get("FIELDAPP_TEST_DATABASE_URL")
    if pg:
        backends.append(("PostgreSQL", lambda tag: _pg_schema(pg, tag)))
    out: list[Row] = []
    for label, make_url in backends:
        flat = {}
        for size, src in (("10k", small), ("full", source)):
            tag = f"{label}-{size}-{uuid.uuid4().hex[:6]}"
            count = 10_000 if size == "10k" else n
            bare = bare_ingest_rate(make_url(f"bare-{tag}"), src) if size == "full" else 1.0
            registry = Registry(make_url(tag))
            try:
                figures, puller = first_sync(registry, work, src, tag, count, bare)
                if size == "full":
                    out += figures
                flat[size] = noop_on(puller)
            finally:
                registry.stop()
        (m10, p10), (mn, pn) = flat["10k"], flat["full"]
        out.append(Row(f"sync with nothing to do, {label}: 10,000 vs {n:,} records each side",
                       f"median {ms(m10)} vs {ms(mn)} (p95 {ms(p10)} vs {ms(pn)})", "",
                       "≤ 50 ms, flat", mn <= 0.050 and mn <= 2 * m10 + 0.005))
    if pg:
        registry = Registry(_pg_schema(pg, f"load-{uuid.uuid4().hex[:6]}"))
        try:
            out += load_rows(registry, work)
        finally:
            registry.stop()
    else:
        out.append(Row("50 laptops at once", "skipped: no PostgreSQL URL", "", "", None))
    return out


def _pg_schema(base: str, tag: str) -> str:
    """A fresh schema in the benchmark database, so runs never clash."""
    import psycopg
    from sqlalchemy.engine import make_url

    schema = "bench_" + "".join(c if c.isalnum() else "_" for c in tag.lower())
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)
