"""The demo's own registry: a SQLite registry in the demo folder, seeded with the demo laptop's
records and two enrolled users, served on loopback beside the app while it runs.

So a newcomer sees sync work with no setup: the worker `wangfang` (street 310104003) and the
supervisor `lisupervisor` (district 310104) are enrolled on the demo laptop, and the records
the laptop starts with are already on the registry (nothing waits to sync).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from fieldapp.store.db import transaction
from fieldapp.store.records import Record, RecordStore
from sync import credentials, vault

DEMO_USERS = (("wangfang", "worker", "310104003"), ("lisupervisor", "supervisor", "310104"))
SEED_USER = "demo-seed"
PREFERRED_PORT = 8766
# The demo laptop's records reach the registry by the same push code a laptop uses, with the
# status steps a real record would take (a laptop may not create an approved record).
STEPS = {"draft": [], "submitted": ["submitted"], "approved": ["submitted", "approved"],
         "returned": ["submitted", "returned"]}


def database_url(folder: Path) -> str:
    return f"sqlite:///{Path(folder).resolve() / 'registry.sqlite3'}"


def seed(folder: Path, store: RecordStore, server_url: str | None = None) -> int:
    """Make the demo registry: areas, users, the laptop's records; enroll the users here.

    Returns how many records the registry took. The laptop's outbox is emptied only for
    records the registry applied, each marked with the version it has there.
    """
    from sync.server import admin, auth
    from sync.server.db import writing

    url = database_url(folder)
    admin.load_demo_areas(url)
    _flag_pilots(url)
    engine = admin.engine_for(url)
    seeder_token = admin.add_user(url, SEED_USER, "admin", "*")
    with writing(engine) as conn:
        seed_device = auth.enroll(conn, seeder_token, "demo seed").device_id
        row = conn.execute(auth.USERS.select().where(auth.USERS.c.name == SEED_USER)).first()
    who = auth.Principal(row.id, SEED_USER, "admin", ("*",), seed_device)
    taken = _push_records(engine, who, store)
    config_dir = Path(folder) / "config"
    for name, role, scope in DEMO_USERS:
        token = admin.add_user(url, name, role, scope)
        with writing(engine) as conn:
            done = auth.enroll(conn, token, socket.gethostname())
        # Sealed under the demo PIN like any user's, which the PIN dialog shows on screen:
        # switching to the supervisor asks for it as on a real team laptop.
        _save_credential(config_dir, store, {
            "server": server_url or f"http://127.0.0.1:{PREFERRED_PORT}",
            "sealed": vault.seal(done.credential, vault.DEMO_PIN, done.user["name"]),
            "demo_pin": vault.DEMO_PIN, "user": done.user["name"],
            "role": done.user["role"], "scopes": list(done.user["scopes"]),
            "device_id": done.device_id})
    credentials.switch(config_dir, store, DEMO_USERS[0][0], vault.DEMO_PIN)
    return taken


def _flag_pilots(url: str) -> None:
    """The demo's pilot communities and annual targets, as the laptop's demo has them: the
    registry's area data is what laptops keep after a sync."""
    from fieldapp.domain.demo_areas import DISTRICT_TARGETS, pilot_communities
    from sync.server import admin

    pilots = pilot_communities()
    admin.set_pilot(url, list(pilots))
    by_target: dict[int, list[str]] = {}
    for code, target in {**pilots, **DISTRICT_TARGETS}.items():
        by_target.setdefault(target, []).append(code)
    for target, codes in by_target.items():
        admin.set_target(url, codes, target)


def _save_credential(config_dir: Path, store: RecordStore, entry: dict) -> None:
    credentials.remember_device(store, entry)
    data = credentials.load(config_dir)
    data["users"][entry["user"]] = entry
    data["current"] = data.get("current") or entry["user"]
    credentials.save(config_dir, data)


def _push_records(engine, who, store: RecordStore) -> int:  # noqa: ANN001
    """Push the laptop's records in batches of 500, streaming (a 100,000-record demo must not
    sit in memory), and after each batch make the laptop hold what the registry now holds."""
    from fieldapp.store import sync_state
    from sync.protocol import Mutation
    from sync.server.push import push

    taken: set[str] = set()
    pending: list[dict] = []

    def send(n: int) -> None:
        batch = [Mutation(**m) for m in pending[:n]]
        del pending[:n]
        latest: dict[str, sync_state.RemoteRecord] = {}
        for m, result in zip(batch, push(engine, who, batch), strict=True):
            if result["outcome"] not in ("applied", "already_applied"):
                continue
            if result.get("record"):
                latest[m.record_id] = sync_state.RemoteRecord.of(result["record"])
            elif m.op == "create":  # stored exactly as sent (PROTOCOL.md): the sent content
                fields = dict(m.fields)
                latest[m.record_id] = sync_state.RemoteRecord(
                    id=m.record_id, kind=m.kind, status=fields.pop("status", "draft"),
                    review_comment=fields.pop("review_comment", None), data=fields,
                    version=result["version"], device_id=who.device_id)
        latest.update(_opened_facilities(engine, batch))
        sync_state.replace_with_remote(store, list(latest.values()))
        taken.update(latest)

    last_rid = 0
    while True:
        records = store.live_after(last_rid, 200)
        if not records:
            break
        last_rid = records[-1].rid
        for record in records:
            pending.extend(_mutations_for(record))
        while len(pending) >= 500:
            send(500)
    if pending:
        send(len(pending))
    return len(taken)


def _opened_facilities(engine, batch) -> dict:  # noqa: ANN001
    """The facilities the registry made for the sites this batch opened, as it holds them."""
    from sqlalchemy import select

    from fieldapp.domain.project import facility_id_for
    from fieldapp.store import sync_state
    from sync.server.db import reading
    from sync.server.push import RECORDS, load_record, record_dict

    ids = [facility_id_for(m.record_id) for m in batch
           if m.kind == "site" and m.fields.get("project_stage") == "opened"]
    if not ids:
        return {}
    with reading(engine) as conn:
        rows = conn.execute(select(RECORDS).where(RECORDS.c.id.in_(ids))).all()
    return {row.id: sync_state.RemoteRecord.of(record_dict(load_record(row))) for row in rows}


def _mutations_for(record: Record) -> list[dict]:
    """The steps that bring the record to the registry as the laptop has it: created as a
    draft, then submitted, approved or returned; a site's project after its approval (only an
    approved site enters the pipeline). A facility an opening made is the registry's to make:
    it comes with its site's opening, never from the laptop."""
    from fieldapp.domain.project import PROJECT_FIELDS

    if record.kind == "facility" and record.data.get("site_id"):
        return []
    project = {k: v for k, v in record.data.items() if k in PROJECT_FIELDS}
    content = {k: v for k, v in record.data.items() if k not in project}
    out = [_mutation(record, "create", 0, {**content, "status": "draft"})]
    steps = STEPS.get(record.status, [])
    for n, step in enumerate(steps, start=1):
        fields = {"status": step}
        if step == "returned":
            fields["review_comment"] = record.review_comment or "请补充材料"
        out.append(_mutation(record, "update", n, fields))
    if project:
        out.append(_mutation(record, "update", len(steps) + 1, project))
    return out


def _mutation(record: Record, op: str, step: int, fields: dict) -> dict:
    # Ids derived from the record make a seeding cut short by the app's exit safe to repeat:
    # the registry answers "already applied" for what it has. base_version 0 never conflicts
    # with the seeding device's own history.
    mutation_id = uuid.uuid5(uuid.NAMESPACE_URL, f"fieldapp-demo:{record.id}:{step}")
    return {"mutation_id": str(mutation_id), "record_id": record.id, "kind": record.kind,
            "op": op, "base_version": 0, "fields": fields}


class DemoRegistry:
    """The demo registry served by uvicorn in a daemon thread of the app's process."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        # Bound now and handed to uvicorn, so no other process can take the port in between.
        self.socket = _bind_loopback(PREFERRED_PORT)
        self.port = self.socket.getsockname()[1]
        self.server = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        import uvicorn

        from sync.server.app import create_app

        app = create_app(database_url(self.folder), pool_size=2)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="demo-registry",
                                       kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the demo registry did not start on port {self.port}")
            time.sleep(0.02)
        self.point_credentials()
        self.unlock_current()
        return self.url

    def unlock_current(self) -> None:
        """The demo opens as its first user, unlocked with the demo PIN (one command starts
        it); other demo users still ask for theirs (shown in the dialog)."""
        config_dir = self.folder / "config"
        data = credentials.load(config_dir)
        entry = data["users"].get(data.get("current") or "")
        if entry and entry.get("demo_pin") and credentials.sealed(entry) \
                and not credentials.unlocked(config_dir, entry["user"]):
            credentials.unlock(config_dir, entry["user"], entry["demo_pin"])

    def point_credentials(self) -> None:
        """The port may differ from the last run: point the demo users' credentials here.

        Done before the app starts as well as after the server is up, so the background sync
        never opens its client on last run's address and stays offline."""
        config_dir = self.folder / "config"
        data = credentials.load(config_dir)
        if not data["users"] or all(e.get("server") == self.url for e in data["users"].values()):
            return
        for entry in data["users"].values():
            entry["server"] = self.url
        credentials.save(config_dir, data)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            if self.thread is not None:
                self.thread.join(5)
            self.server = None


def _bind_loopback(preferred: int) -> socket.socket:
    for port in (preferred, 0):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError("no free port on loopback")


class _Starting:
    """The demo registry being seeded and started in a daemon thread; stop() at app exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.registry = DemoRegistry(folder)
        self.error: str | None = None
        #: Called (from this thread) once the registry answers, e.g. to wake background sync
        #: out of its offline backoff.
        self.on_ready: Callable[[], None] | None = None
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-registry-start",
                                       daemon=True)

    def _run(self) -> None:
        from fieldapp.context import AppContext

        try:
            ctx = AppContext.create(str(self.folder))
            store = ctx.open_store()
            try:
                if not store.setting("demo_registry_seeded"):
                    seed(self.folder, store, self.registry.url)
                    with transaction(store.conn):
                        store.set_setting("demo_registry_seeded", "1")
            finally:
                store.conn.close()
            if not self._stopped.is_set():
                self.registry.start()
                if self.on_ready is not None:
                    self.on_ready()
        except Exception as exc:  # noqa: BLE001  (the demo must open even without a registry)
            self.error = f"{type(exc).__name__}: {exc}"
            log_path = self.folder / "demo-registry.log"
            log_path.write_text(f"演示同步服务器未启动 / the demo registry did not start: "
                                f"{self.error}\n", encoding="utf-8")

    def stop(self) -> None:
        # Seeding may still run when the user quits at once; it is a daemon thread and safe
        # to repeat next time, so do not hold the exit for it.
        self._stopped.set()
        self.thread.join(1)
        self.registry.stop()


def start_in_background(folder: Path) -> _Starting:
    """Seed (first time) and serve the demo registry without delaying the app."""
    starting = _Starting(folder)
    try:
        starting.registry.point_credentials()
        starting.registry.unlock_current()  # before the app asks: it opens unlocked
    except Exception:  # noqa: BLE001 - unreadable credentials: the seeding thread says why
        pass
    starting.thread.start()
    return starting
