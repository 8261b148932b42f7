"""A Hypothesis state machine over several laptops and the real registry: random edits,
deletes, submits, reviews, syncs through dropped or cut connections, and replayed batches.

Invariants: each mutation is applied at most once; every mutation the registry acknowledged
is in its history; once the network heals and every laptop has synced, all laptops hold
exactly what the registry holds. Derandomized, so a failure replays the same way.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fieldapp.domain.workflow import TransitionError
from fieldapp.store import sync_state as outbox
from fieldapp.store.records import ValidationFailed
from sync import conflicts
from sync.engine import effective_outcome
from tests.conftest import complete_site
from tests.faultproxy import FaultProxy
from tests.sync_helpers import Laptop, live, registry, sqlite_only  # noqa: F401  (fixture)

GRIDS = ["310104003001G01", "310104003002G02", "310104003003G03"]
FAULTS = ["drop_before", "drop_after", "truncate", "reset"]
_names = itertools.count()


def _applied_ids(database_url: str) -> tuple[set[str], int]:
    from sqlalchemy import text

    from sync.server import admin
    from sync.server.db import reading

    with reading(admin.engine_for(database_url)) as conn:
        # The registry's idempotency table: every mutation it applied, no-ops included (a
        # delete of a deleted record, an edit to the value it already has: no history).
        ids = {r[0] for r in conn.execute(text("SELECT mutation_id FROM applied_mutation"))}
        dupes = conn.execute(text(
            "SELECT count(*) FROM (SELECT mutation_id FROM history GROUP BY mutation_id "
            "HAVING count(*) > 1) d")).scalar_one()
    return ids, dupes


class SyncMachine(RuleBasedStateMachine):
    registry = None  # set by the test
    root: Path = Path(".")

    @initialize()
    def laptops_enrolled(self) -> None:
        n = next(_names)
        home = Path(tempfile.mkdtemp(dir=self.root))
        self.laptops: list[Laptop] = []
        self.proxies: list[FaultProxy] = []
        for i, (role, scope) in enumerate((("worker", "310104003"), ("worker", "310104003"),
                                           ("supervisor", "310104"))):
            laptop = Laptop(f"l{i}", home / f"l{i}", self.registry.url)
            laptop.enroll(self.registry.token(f"u{n}_{i}", role, scope))
            assert laptop.sync().ok
            proxy = FaultProxy(self.registry.server.port, seed=n * 10 + i).__enter__()
            laptop.connect_engine(proxy.url, timeout=3)
            self._track(laptop)
            self.laptops.append(laptop)
            self.proxies.append(proxy)
        self.acknowledged: set[str] = set()
        self.last_batch: list[dict] | None = None

    def _track(self, laptop: Laptop) -> None:
        """Note every mutation the registry acknowledged, and keep the last batch sent."""
        engine = laptop.engine
        original = engine._apply_results

        def apply_results(batch, results, report):
            self.last_batch = [e.mutation() for e in batch]
            for entry, result in zip(batch, results, strict=True):
                if effective_outcome(result) == "applied":
                    self.acknowledged.add(entry.mutation_id)
            return original(batch, results, report)

        engine._apply_results = apply_results

    def _pick(self, laptop: Laptop, index: int) -> str | None:
        ids = sorted(laptop.records())
        return ids[index % len(ids)] if ids else None

    @rule(who=st.integers(0, 1), grid=st.sampled_from(GRIDS), area=st.integers(10, 900))
    def create(self, who: int, grid: str, area: int) -> None:
        self.laptops[who].store.save("site", complete_site(grid_code=grid, usable_area=area))

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50),
          field=st.sampled_from(["usable_area", "notes", "owner_contact"]),
          value=st.integers(10, 900))
    def edit(self, who: int, pick: int, field: str, value: int) -> None:
        laptop = self.laptops[who]
        record_id = self._pick(laptop, pick)
        if record_id is None:
            return
        raw = {field: value if field == "usable_area" else f"值{value}"}
        try:
            laptop.store.save("site", raw, record_id=record_id)
        except (TransitionError, ValidationFailed):
            pass  # e.g. a worker may not edit a submitted record: the app refuses it too

    @rule(who=st.integers(0, 1), pick=st.integers(0, 50))
    def submit(self, who: int, pick: int) -> None:
        laptop = self.laptops[who]
        record_id = self._pick(laptop, pick)
        if record_id:
            try:
                laptop.store.save("site", {}, record_id=record_id, status="submitted")
            except (TransitionError, ValidationFailed):
                pass

    @rule(pick=st.integers(0, 50), approve=st.booleans())
    def review(self, pick: int, approve: bool) -> None:
        boss = self.laptops[2]
        record_id = self._pick(boss, pick)
        if record_id:
            try:
                boss.store.save("site", {}, record_id=record_id,
                                status="approved" if approve else "returned",
                                comment=None if approve else "请补充")
            except (TransitionError, ValidationFailed):
                pass

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
    def delete(self, who: int, pick: int) -> None:
        laptop = self.laptops[who]
        record_id = self._pick(laptop, pick)
        if record_id:
            try:
                laptop.store.delete(record_id)
            except TransitionError:
                pass

    @rule(who=st.integers(0, 2), fault=st.sampled_from(FAULTS), rate=st.integers(0, 3),
          seed=st.integers(0, 2**16))
    def sync(self, who: int, fault: str, rate: int, seed: int) -> None:
        proxy = self.proxies[who]
        proxy.rng.seed(seed)
        proxy.set_weights(**{"pass": 3, fault: rate})
        self.laptops[who].sync()

    @rule(who=st.integers(0, 2))
    def pull_only(self, who: int) -> None:
        """A cycle cut after its pull: local edits meet newer registry versions."""
        from sync.client import SyncError
        from sync.engine import SyncReport

        self.proxies[who].set_weights(**{"pass": 1})
        try:
            self.laptops[who].engine.pull(SyncReport())
        except SyncError:
            pass

    @rule()
    def replay_last_batch(self) -> None:
        """A duplicated request: the last batch sent again, straight to the registry."""
        if not self.last_batch:
            return
        client = self.laptops[0].engine.client
        from sync.client import RegistryClient

        with RegistryClient(self.registry.url, client.credential) as direct:
            direct.push(self.last_batch)

    @invariant()
    def applied_at_most_once(self) -> None:
        if not hasattr(self, "laptops"):
            return
        ids, dupes = _applied_ids(self.registry.database_url)
        assert dupes == 0
        assert self.acknowledged <= ids  # nothing the registry acknowledged is lost

    def teardown(self) -> None:
        if not hasattr(self, "laptops"):
            return
        try:
            for proxy in self.proxies:
                proxy.set_weights(**{"pass": 1})
            for _ in range(2):
                for laptop in self.laptops:
                    for entry in outbox.entries(laptop.store, "parked"):
                        outbox.discard(laptop.store, entry.seq)  # the user gives those up
                    for c in conflicts.open_conflicts(laptop.store):
                        conflicts.resolve(laptop.store, c.id)  # theirs
                    report = laptop.sync()
                    assert not report.errors, report.errors
            server = live(self.registry.records())
            if os.environ.get("FIELDAPP_SOAK_STATS"):
                print("acknowledged", len(self.acknowledged), "records", len(server),
                      "faults", sum(sum(p.counts[f] for f in FAULTS) for p in self.proxies),
                      "conflicts", sum(conflicts.open_count(lp.store) for lp in self.laptops),
                      "resolved", sum(lp.store.conn.execute(
                          "SELECT count(*) FROM conflict").fetchone()[0] for lp in self.laptops))
            for laptop in self.laptops:
                assert laptop.store.pending_count() == 0
                assert laptop.records() == server
        finally:
            for proxy in self.proxies:
                proxy.close()
            for laptop in self.laptops:
                laptop.close()


@sqlite_only
def test_random_work_on_several_laptops_converges_exactly_once(registry, tmp_path):
    SyncMachine.registry = registry
    SyncMachine.root = tmp_path
    run = SyncMachine.TestCase
    run.settings = settings(max_examples=8, stateful_step_count=25, deadline=None,
                            derandomize=True, database=None,
                            suppress_health_check=list(HealthCheck))
    run().runTest()


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FIELDAPP_SOAK"), reason="a long soak: set FIELDAPP_SOAK=1")
def test_random_work_soak(registry, tmp_path):
    SyncMachine.registry = registry
    SyncMachine.root = tmp_path
    run = SyncMachine.TestCase
    run.settings = settings(max_examples=int(os.environ.get("FIELDAPP_SOAK_EXAMPLES", 200)),
                            stateful_step_count=60, deadline=None,
                            database=None, suppress_health_check=list(HealthCheck))
    run().runTest()
