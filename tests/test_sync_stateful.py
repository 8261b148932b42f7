"""A Hypothesis state machine over three laptops (two workers, a supervisor) and the real
registry, on SQLite and PostgreSQL: saves, edits, moves, submits, reviews, deletes and conflict
resolutions, synced through connections that drop, cut or reset, with batches replayed.

It keeps a model of the users: every change each person made on a laptop (a field set to a
value, a record created or deleted, a decision) is written down as an intent. After the
network heals and every laptop has synced, each intent must have exactly one of these fates:
- it reached the registry: the laptop sent a mutation carrying it, and the registry applied
  that mutation (its idempotency table says so, with the field not among its conflicts);
- it is an open conflict on that laptop, holding the user's value;
- it is parked on that laptop with the registry's reason (or waits behind such an entry);
- the same person changed that field (or deleted the record) again later, or deleted a
  record the registry never had;
and nothing else: a change that silently vanished fails the run. Then every laptop must hold
what the registry holds. Invariants after every step: no mutation applied twice, nothing the
registry acknowledged missing from it.

The CI size (derandomized) injects faults, causes resends and meets conflicts (every run starts
with one field changed on two laptops), and asserts that it did; the
numbers are printed at the end of the pytest run. FIELDAPP_SOAK=1 runs a long soak.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from fieldapp.domain.workflow import TransitionError
from fieldapp.store import sync_state as outbox
from fieldapp.store.records import ValidationFailed
from sync import conflicts
from sync.engine import effective_outcome
from tests import run_stats
from tests.conftest import PROFILE, complete_site
from tests.faultproxy import FaultProxy
from tests.sync_helpers import Laptop, live, registry  # noqa: F401  (fixture)

GRIDS = ["310104003001G01", "310104003002G02", "310104003003G03"]
FAULTS = ["drop_before", "drop_after", "truncate", "reset"]
DELETED = outbox.DELETED
#: A sync after a person's action (or none): who syncs first, whether everyone does, which
#: fault, how often (against 3 passes), the proxy's seed. Every action rule draws one, so
#: Hypothesis's swarm testing (which switches whole rules off per run) cannot leave a run
#: without syncs.
NETWORK = st.none() | st.tuples(st.integers(0, 2), st.booleans(), st.sampled_from(FAULTS),
                                st.integers(0, 3), st.integers(0, 2**16))
_names = itertools.count()


@dataclass(frozen=True)
class Intent:
    """One thing a person did on a laptop: `field` of `record_id` set to `value`, or
    DELETED for a delete. `at` orders intents."""
    at: int
    laptop: int
    record_id: str
    field: str
    value: object


def _registry_answers(database_url: str) -> tuple[dict[str, dict], int]:
    """The registry's idempotency table (mutation id → its first answer) and how many
    mutation ids appear in more than one history entry (applied twice)."""
    from sqlalchemy import text

    from sync.server import admin
    from sync.server.db import reading

    with reading(admin.engine_for(database_url)) as conn:
        answers = {r[0]: json.loads(r[1]) for r in conn.execute(text(
            "SELECT mutation_id, result FROM applied_mutation"))}
        dupes = conn.execute(text(
            "SELECT count(*) FROM (SELECT mutation_id FROM history GROUP BY mutation_id "
            "HAVING count(*) > 1) d")).scalar_one()
    return answers, dupes


def _content(record: dict) -> dict:
    return {**record["data"], "status": record["status"],
            "review_comment": record["review_comment"]}


class SyncMachine(RuleBasedStateMachine):
    registry = None  # set by the test
    root: Path = Path(".")
    push_limit = 2  # small batches: the pipelined push has several in flight per cycle
    stats: Counter = Counter()

    @initialize()
    def laptops_enrolled(self) -> None:
        n = next(_names)
        home = Path(tempfile.mkdtemp(dir=self.root))
        self.laptops: list[Laptop] = []
        self.proxies: list[FaultProxy] = []
        self.sent: list[dict[str, dict]] = []  # per laptop: mutation id → body as sent
        self.intents: list[Intent] = []
        self.clock = itertools.count()
        for i, (role, scope) in enumerate((("worker", "310104003"), ("worker", "310104003"),
                                           ("supervisor", "310104"))):
            laptop = Laptop(f"l{i}", home / f"l{i}", self.registry.url)
            laptop.enroll(self.registry.token(f"u{n}_{i}", role, scope))
            assert laptop.sync().ok
            proxy = FaultProxy(self.registry.server.port, seed=n * 10 + i).__enter__()
            laptop.connect_engine(proxy.url, timeout=3, push_limit=self.push_limit,
                                  pull_limit=3)
            self.laptops.append(laptop)
            self.proxies.append(proxy)
            self.sent.append({})
            self._track(i)
        self.acknowledged: set[str] = set()
        self.last_batch: list[dict] | None = None
        self.stats["examples"] += 1
        self._same_field_on_two_laptops()

    def _same_field_on_two_laptops(self) -> None:
        """Every run starts with both workers holding their own value for one field of a shared
        site, unsynced: whatever the draws, the run meets a conflict (whether it stays open,
        is resolved, or is overtaken by a later edit is up to the rules that follow)."""
        self._act(0, lambda store: store.save("site", complete_site(grid_code=GRIDS[0])))
        for laptop in self.laptops[:2]:
            assert laptop.sync().ok
        shared = self._pick(self.laptops[1], 0)
        for who, value in ((0, "甲方说法"), (1, "乙方说法")):
            self._act(who, lambda store, v=value: store.save("site", {"notes": v},
                                                             record_id=shared))

    def _track(self, i: int) -> None:
        """Keep every mutation the laptop sends (and count resends), and note every one the
        registry acknowledged."""
        engine = self.laptops[i].engine
        send, apply_results = engine._send, engine._apply_results
        sent = self.sent[i]

        def sending(batch):  # noqa: ANN001, ANN202
            for entry in batch:
                body = entry.mutation()
                if body["mutation_id"] in sent:
                    self.stats["resent mutations"] += 1
                sent[body["mutation_id"]] = body
            self.stats["push requests"] += 1
            results = send(batch)
            self.stats["already-applied answers"] += sum(
                r.outcome == "already_applied" for r in results)
            return results

        def applying(batch, results, report):  # noqa: ANN001, ANN202
            self.last_batch = [e.mutation() for e in batch]
            for entry, result in zip(batch, results, strict=True):
                if effective_outcome(result) == "applied":
                    self.acknowledged.add(entry.mutation_id)
            return apply_results(batch, results, report)

        engine._send, engine._apply_results = sending, applying

    # -- what people do (each change becomes intents) ---------------------------------------
    def _act(self, who: int, action, network: tuple | None = None) -> None:  # noqa: ANN001
        """Run a person's action on laptop `who`, write down what it changed, then maybe
        sync (`network`)."""
        self._do(who, action)
        self._sync(network)

    def _do(self, who: int, action) -> None:  # noqa: ANN001
        laptop = self.laptops[who]
        before = {k: _content(r) for k, r in laptop.records().items()}
        try:
            action(laptop.store)
        except (TransitionError, ValidationFailed, conflicts.ResolveError):
            return  # the app refuses it too (a worker editing a submitted record, ...)
        after = {k: _content(r) for k, r in laptop.records().items()}
        for record_id in before.keys() - after.keys():
            self._intend(who, record_id, DELETED, True)
        for record_id, content in after.items():
            old = before.get(record_id, {})
            for name, value in content.items():
                if value is not None and old.get(name) != value or \
                        value is None and old and old.get(name) is not None:
                    self._intend(who, record_id, name, value)

    def _intend(self, who: int, record_id: str, name: str, value: object) -> None:
        self.intents.append(Intent(next(self.clock), who, record_id, name, value))
        self.stats["user changes"] += 1

    def _pick(self, laptop: Laptop, index: int) -> str | None:
        ids = sorted(laptop.records())
        return ids[index % len(ids)] if ids else None

    @rule(who=st.integers(0, 1), grid=st.sampled_from(GRIDS), area=st.integers(10, 900),
          network=NETWORK)
    def create(self, who: int, grid: str, area: int, network: tuple | None) -> None:
        self._act(who, lambda store: store.save(
            "site", complete_site(grid_code=grid, usable_area=area)), network)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50),
          field=st.sampled_from(["usable_area", "notes", "owner_contact", "grid_code"]),
          value=st.integers(10, 900), network=NETWORK)
    def edit(self, who: int, pick: int, field: str, value: int,
             network: tuple | None) -> None:
        record_id = self._pick(self.laptops[who], pick)
        if record_id:
            raw = {field: {"usable_area": value, "grid_code": GRIDS[value % 3]}.get(
                field, f"值{value}")}
            self._act(who, lambda store: store.save("site", raw, record_id=record_id))
        self._sync(network)

    @rule(who=st.integers(0, 1), pick=st.integers(0, 50), network=NETWORK)
    def submit(self, who: int, pick: int, network: tuple | None) -> None:
        record_id = self._pick(self.laptops[who], pick)
        if record_id:
            self._act(who, lambda store: store.save("site", {}, record_id=record_id,
                                                    status="submitted"))
        self._sync(network)

    @rule(pick=st.integers(0, 50), approve=st.booleans(), network=NETWORK)
    def review(self, pick: int, approve: bool, network: tuple | None) -> None:
        record_id = self._pick(self.laptops[2], pick)
        if record_id:
            self._act(2, lambda store: store.save(
                "site", {}, record_id=record_id, status="approved" if approve else "returned",
                comment=None if approve else "请补充"))
        self._sync(network)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50), network=NETWORK)
    def delete(self, who: int, pick: int, network: tuple | None) -> None:
        record_id = self._pick(self.laptops[who], pick)
        if record_id:
            self._act(who, lambda store: store.delete(record_id))
        self._sync(network)

    @rule(who=st.integers(0, 2), mine=st.booleans(), network=NETWORK)
    def resolve(self, who: int, mine: bool, network: tuple | None) -> None:
        """The person settles their oldest open conflict: keeps their values, or theirs."""
        found = conflicts.open_conflicts(self.laptops[who].store)
        if found:
            conflict = found[0]
            # Choosing "theirs" gives the person's values up: a later change of those fields.
            for name in conflict.fields:
                self._intend(who, conflict.record_id, name, "(gave up)")
            self.stats["conflicts resolved"] += 1
            self._act(who, lambda store: conflicts.resolve(
                store, conflict.id, default=conflicts.MINE if mine else conflicts.THEIRS))
        self._sync(network)

    # -- the network ----------------------------------------------------------------------
    @rule(network=NETWORK)
    def sync(self, network: tuple) -> None:
        self._sync(network)

    def _sync(self, network: tuple | None) -> None:
        """One laptop syncs, or all three one after the other, through a faulty network."""
        if network is None:
            return
        first, everyone, fault, rate, seed = network
        order = [first, *(i for i in range(3) if i != first)] if everyone else [first]
        for who in order:
            proxy = self.proxies[who]
            proxy.rng.seed(seed + who)
            # Faults where sync can lose work: pushes and pulls (a cycle cut at its first
            # request, the status report, would only ever test giving up early).
            proxy.set_weights(paths=("/api/v1/push", "/api/v1/pull"),
                              **{"pass": 3, fault: rate})
            self.stats["conflicts raised"] += self.laptops[who].sync().conflicts

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
        from sync.client import RegistryClient

        client = self.laptops[0].engine.client
        with RegistryClient(self.registry.url, client.credential) as direct:
            direct.push(self.last_batch)
        self.stats["replayed batches"] += 1

    @invariant()
    def applied_at_most_once(self) -> None:
        if not hasattr(self, "laptops"):
            return
        answers, dupes = _registry_answers(self.registry.database_url)
        assert dupes == 0
        assert self.acknowledged <= answers.keys()  # nothing the registry acknowledged is lost

    # -- after the network heals ----------------------------------------------------------
    def teardown(self) -> None:
        if not hasattr(self, "laptops"):
            return
        try:
            for proxy in self.proxies:
                self.stats["faults injected"] += sum(proxy.counts[f] for f in FAULTS)
                proxy.set_weights(**{"pass": 1})
            self._heal()
            self._every_intent_has_a_fate()
            self._converge()
        finally:
            for proxy in self.proxies:
                proxy.close()
            for laptop in self.laptops:
                laptop.close()

    def _heal(self) -> None:
        """Sync every laptop until a whole round moves nothing."""
        for _ in range(6):
            reports = [laptop.sync() for laptop in self.laptops]
            self.stats["conflicts raised"] += sum(r.conflicts for r in reports)
            for report in reports:
                assert not report.errors, report.errors
            if not any(r.pushed or r.pulled or r.conflicts for r in reports):
                return
        raise AssertionError("the laptops never settled after the network healed")

    def _every_intent_has_a_fate(self) -> None:
        answers, _ = _registry_answers(self.registry.database_url)
        on_registry = set(self.registry.records())
        last: dict[tuple, int] = {}
        for intent in self.intents:
            last[(intent.laptop, intent.record_id, intent.field)] = intent.at
            last[(intent.laptop, intent.record_id, "*")] = intent.at
        lost = []
        for intent in self.intents:
            key = (intent.laptop, intent.record_id)
            later = max(last[(*key, intent.field)], last.get((*key, DELETED), -1)) > intent.at
            if later or intent.value == "(gave up)":
                self.stats["fate: changed again by the same person"] += 1
                continue
            fate = self._fate(intent, answers, on_registry)
            if fate is None:
                lost.append(intent)
            else:
                self.stats[f"fate: {fate}"] += 1
        assert not lost, f"{len(lost)} changes reached neither the registry, a conflict " \
                         f"nor the parked list: {lost[:5]}"

    def _fate(self, intent: Intent, answers: dict, on_registry: set) -> str | None:
        laptop = self.laptops[intent.laptop]
        for body in self.sent[intent.laptop].values():
            if body["record_id"] != intent.record_id:
                continue
            if intent.field == DELETED:
                carried = body["op"] == "delete"
            else:
                carried = body["op"] != "delete" and intent.field in body["fields"] \
                    and body["fields"][intent.field] == intent.value
            answer = answers.get(body["mutation_id"])
            if carried and answer and (answer["outcome"] == "applied" or intent.field not in
                                       (answer.get("conflicts") or {})):
                return "reached the registry"
        for conflict in conflicts.open_conflicts(laptop.store, intent.record_id):
            mine = conflict.fields.get(intent.field, {}).get("mine")
            if conflict.is_delete or mine == intent.value:
                return "open conflict"
        entries = [e for e in outbox.entries(laptop.store) if e.record_id == intent.record_id]
        parked = [e for e in entries if e.state == "parked"]
        if parked and all(e.last_error for e in parked):
            return "parked with a reason"
        if intent.field == DELETED and intent.record_id not in on_registry and not any(
                b["record_id"] == intent.record_id for b in self.sent[intent.laptop].values()):
            return "deleted before it ever left the laptop"
        return None

    def _converge(self) -> None:
        """The users give up what was refused and take the registry's side of conflicts:
        then every laptop holds exactly what the registry holds."""
        for _ in range(2):
            for laptop in self.laptops:
                for entry in outbox.entries(laptop.store, "parked"):
                    self.stats["parked entries discarded"] += 1
                    outbox.discard(laptop.store, entry.seq)
                for c in conflicts.open_conflicts(laptop.store):
                    conflicts.resolve(laptop.store, c.id)  # theirs
                report = laptop.sync()
                assert not report.errors, report.errors
        server = live(self.registry.records())
        for laptop in self.laptops:
            assert laptop.store.pending_count() == 0
            assert laptop.records() == server
        self.stats["records on the registry"] += len(server)


def run_machine(registry, tmp_path, max_examples: int, steps: int) -> Counter:  # noqa: F811
    SyncMachine.registry = registry
    SyncMachine.root = tmp_path
    SyncMachine.stats = Counter()
    # Examples share one registry, so the example database could not replay one alone: a
    # run is replayed by its seed (derandomized in CI; otherwise chosen here and printed).
    from hypothesis import core

    forced = core.global_force_seed
    seed = None if settings.default.derandomize else forced if forced is not None else int(
        os.environ.get("FIELDAPP_STATEFUL_SEED") or random.getrandbits(32))
    core.global_force_seed = seed if seed is not None else forced
    try:
        # Hypothesis starts with short runs; at least `steps // 2` steps each makes every
        # run long enough for work to pile up between syncs.
        run_state_machine_as_test(SyncMachine, settings=settings(
            max_examples=max_examples, stateful_step_count=steps, deadline=None,
            database=None, suppress_health_check=list(HealthCheck)), _min_steps=steps // 2)
    except BaseException as exc:
        exc.add_note(f"replay: FIELDAPP_HYPOTHESIS={PROFILE}" + (
            f" FIELDAPP_STATEFUL_SEED={seed}" if seed is not None else " (derandomized)")
            + f" pytest {__file__}")
        raise
    finally:
        core.global_force_seed = forced
        stats = SyncMachine.stats
        backend = "postgresql" if "postgresql" in registry.database_url else "sqlite"
        run_stats.report(
            f"sync state machine [{backend}, profile {PROFILE}]: {stats['examples']} runs, "
            f"{stats['user changes']} user changes, {stats['push requests']} pushes, "
            f"{stats['faults injected']} faults injected, {stats['resent mutations']} "
            f"mutations resent ({stats['already-applied answers']} answered already applied), "
            f"{stats['replayed batches']} batches replayed, {stats['conflicts raised']} conflicts "
            f"raised ({stats['conflicts resolved']} resolved); fates: "
            + ", ".join(f"{k[6:]} {v}" for k, v in sorted(stats.items())
                        if k.startswith("fate: ")))
    return stats


class _SeededUuids:
    """`uuid` for the laptop store with uuid4 drawn from a seeded generator: record ids decide
    which record a step picks (`_pick` sorts them), so random ids made the derandomized CI
    runs pick different records on every machine, and whether a run met a conflict."""

    def __init__(self, seed: int) -> None:
        import uuid

        self._rng = random.Random(seed)
        self._uuid = uuid

    def uuid4(self):  # noqa: ANN201
        return self._uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._uuid, name)


def test_random_work_on_several_laptops_converges_exactly_once(registry, tmp_path,  # noqa: F811
                                                               monkeypatch):
    from fieldapp.store import records as store_records

    monkeypatch.setattr(store_records, "uuid", _SeededUuids(20261130))
    soak = PROFILE == "long"
    stats = run_machine(registry, tmp_path, 60 if soak else 6, 80 if soak else 40)
    # The run really exercised what it claims to: faults, resends, and each kind of fate
    # (the CI profile draws the same runs every time; random ones are only reported).
    assert stats["faults injected"] >= 1, stats
    if PROFILE != "ci":
        return
    assert stats["faults injected"] >= 10, stats
    assert stats["resent mutations"] >= 5 and stats["already-applied answers"] >= 1, stats
    assert stats["fate: reached the registry"] >= 50, stats
    assert stats["conflicts raised"] >= 1, stats


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FIELDAPP_SOAK"), reason="a long soak: set FIELDAPP_SOAK=1")
def test_random_work_soak(registry, tmp_path):  # noqa: F811
    run_machine(registry, tmp_path, int(os.environ.get("FIELDAPP_SOAK_EXAMPLES", 200)), 60)
