"""Break the code on purpose, one line at a time, and check that a test notices.

    python -m tests.mutate               # every break (about 10-20 minutes on a quiet machine)
    python -m tests.mutate --list        # the breaks and the tests each one runs
    python -m tests.mutate --only skip-idempotency-lookup scope-on-move

Each break is a small change to a named file, found by an anchor (a short piece of the
source that must occur exactly once). The script copies the working tree to a temporary
folder (never touching yours), checks every anchor first (a stale one fails loudly: the
code changed, so update the break), runs the listed tests unbroken once, then for each break
applies it, runs its tests (`pytest -x`), and restores the file. It prints which test caught
each break and exits non-zero if any break was not caught.

Run it before closing an issue that touches sync, scope or the store; when you change code a
break anchors on, update the anchor in the same commit. Not part of CI: it takes too long.
PostgreSQL-only breaks (the cursor lock) use FIELDAPP_TEST_DATABASE_URL (default: the local
test database .ci/run uses).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Break:
    name: str
    what: str  # the mistake, in a line
    path: str  # file, relative to the repository root
    anchor: str  # must occur exactly once in the file
    replacement: str
    tests: tuple[str, ...]  # pytest arguments, run with -x in this order


BREAKS = [
    Break("skip-idempotency-lookup",
          "the registry forgets which mutation ids it applied (a resend is applied again)",
          "sync/server/push.py",
          "            self.known[row.mutation_id] = (row.content_hash, orjson.loads(row.result))",
          "            pass",
          ("tests/test_sync_faults.py::"
           "test_lost_answer_then_server_restart_resends_the_batch_and_doubles_nothing",)),
    Break("outbox-deleted-before-send",
          "the engine removes a batch from the outbox when it sends it, not when the answer "
          "is committed (a batch lost on the wire is gone)",
          "sync/engine.py",
          "        return self.client.push([e.mutation() for e in batch])",
          "        with state.batch(self.store):\n"
          "            state.ack(self.store, [(e, None, None) for e in batch])\n"
          "        return self.client.push([e.mutation() for e in batch])",
          ("tests/test_sync_stateful.py::"
           "test_random_work_on_several_laptops_converges_exactly_once[sqlite]",)),
    Break("scope-on-create",
          "the registry lets a user create a record in a grid outside their scope",
          "sync/server/push.py",
          '        self._in_scope(data["grid_code"], ("create it", "新建"))',
          "        pass",
          ("tests/test_server_fuzz.py", "tests/test_sync_engine.py")),
    Break("scope-on-push",
          "the registry lets a user change or delete a record outside their scope",
          "sync/server/push.py",
          '        self._in_scope(record["grid_code"], verb)',
          "        pass",
          ("tests/test_server_matrix.py",)),
    Break("scope-on-move",
          "the registry lets a user move a record into a grid outside their scope",
          "sync/server/push.py",
          '                self._in_scope(new_data["grid_code"], ("move it there", "移入该网格"))',
          "                pass",
          ("tests/test_server_matrix.py",)),
    Break("scope-on-pull",
          "a pull hands out records outside the user's scope",
          "sync/server/pull.py",
          '            if not who.covers(chains.scope_codes(r["grid_code"])):',
          "            if False:",
          ("tests/test_sync_engine.py::test_record_moved_out_of_scope_is_evicted",
           "tests/test_server_push_pull.py")),
    Break("cursor-lock",
          "a push no longer locks the seq counter first: PostgreSQL commits out of seq order "
          "and a pull can skip a change",
          "sync/server/push.py",
          "        conn.execute(update(COUNTER).where(COUNTER.c.id == 1)"
          ".values(value=COUNTER.c.value))\n",
          "",
          ("tests/test_server_concurrency.py",
           "tests/test_sync_faults.py::test_concurrent_writers_while_a_laptop_pulls_skip_nothing")),
    Break("trust-client-role-decision",
          "the registry takes a decision (approve, return) as if the sender were a supervisor",
          "sync/server/push.py",
          "            check_transition(old_status, status, self.who.role, comment, "
          "revision=revision)",
          '            check_transition(old_status, status, "supervisor", comment, '
          'revision=revision)',
          ("tests/test_server_matrix.py",)),
    Break("trust-client-role-fields",
          "the registry lets any role change supervisor-only fields (joint review, comment)",
          "sync/server/push.py",
          "        errors += forbidden_fields(m.kind, changed, self.who.role)",
          '        errors += forbidden_fields(m.kind, changed, "admin")',
          ("tests/test_server_fuzz.py", "tests/test_security_server.py")),
    Break("mutation-id-reuse",
          "the registry answers a reused mutation id with other content as already applied",
          "sync/server/push.py",
          "            if first_hash != digest:",
          "            if False:",
          ("tests/test_security_server.py", "tests/test_server_push_pull.py")),
    Break("poison-never-parked",
          "an entry the registry keeps failing on is retried for ever and blocks the queue",
          "fieldapp/store/sync_state.py",
          "        if failures < POISON_AFTER:",
          "        if True:",
          ("tests/test_poison_entries.py",)),
    Break("lost-conflict-taken-as-applied",
          "a conflict whose answer was lost comes back as already applied and is taken as "
          "applied: the user never hears of it",
          "sync/engine.py",
          "        return result.effective",
          '        return "applied"',
          ("tests/test_sync_faults.py::test_conflict_whose_answer_was_lost_still_reaches_the_user",)),
    Break("cursor-before-data",
          "a pulled page's cursor is committed before the page's records",
          "fieldapp/store/sync_state.py",
          "    realign = realigning(store)\n    with transaction(store.conn):\n",
          "    realign = realigning(store)\n"
          "    with transaction(store.conn):\n"
          "        store.set_setting(cursor_key(store.user), new_cursor)\n"
          "    with transaction(store.conn):\n",
          ("tests/test_sync_faults.py::"
           "test_client_killed_mid_pull_never_has_a_cursor_ahead_of_its_data",)),
    Break("pull-overwrites-unpushed",
          "a pulled change overwrites fields the laptop changed and has not pushed",
          "fieldapp/store/sync_state.py",
          "            keep = unpushed_fields(store, rec.id) if rec.id in waiting else set()",
          "            keep = set()",
          ("tests/test_sync_engine.py::test_pull_keeps_unpushed_local_fields",
           "tests/test_sync_stateful.py::"
           "test_random_work_on_several_laptops_converges_exactly_once[sqlite]")),
    Break("journal-not-kept",
          "acknowledged mutations are not journaled: a registry restored from a backup never "
          "gets the laptops' newer work back",
          "fieldapp/store/sync_state.py",
          "    journal(store, *(e for e, _, _ in applied))",
          "    pass",
          ("tests/test_backup_restore.py::"
           "test_registry_restored_to_an_older_backup_gets_newer_work_back",)),
    Break("evict-drops-unpushed-work",
          "a record leaving the laptop's scope is removed even with unpushed changes",
          "fieldapp/store/sync_state.py",
          '    if store.conn.execute("SELECT 1 FROM outbox WHERE record_id = ? LIMIT 1",\n'
          "                          (record_id,)).fetchone():\n"
          "        return False\n",
          "",
          ("tests/test_sync_engine.py::"
           "test_record_moved_out_of_scope_keeps_the_workers_unpushed_edit",)),
    Break("save-commits-before-outbox",
          "a save commits the record before its outbox entry (a crash between loses the sync)",
          "fieldapp/store/records.py",
          '            self._enqueue(record, "update" if existing else "create",',
          '            self.conn.execute("COMMIT")\n'
          '            self.conn.execute("BEGIN IMMEDIATE")\n'
          '            self._enqueue(record, "update" if existing else "create",',
          ("tests/test_crash_safety.py::"
           "test_kill_9_inside_a_save_loses_nothing_and_keeps_no_half_save",)),
    Break("half-upload-kept",
          "an upload cut off midway leaves its temporary file behind",
          "sync/server/blobstore.py",
          "            self.fh.close()\n        self.tmp.unlink(missing_ok=True)\n\n\nclass",
          "            self.fh.close()\n\n\nclass",
          ("tests/test_attachments_sync.py::"
           "test_upload_cut_midway_leaves_nothing_and_the_retry_stores_it",)),
    Break("search-phrase-across-words",
          "search matches a phrase across two words (天平路 finds \"天平 平路\")",
          "fieldapp/domain/search.py",
          'RUN_GAP = " xxx "',
          'RUN_GAP = " "',
          ("tests/test_properties.py",)),
]


class Stale(Exception):
    pass


def apply(text: str, b: Break) -> str:
    count = text.count(b.anchor)
    if count != 1:
        raise Stale(f"{b.name}: its anchor occurs {count} times in {b.path} (expected once); "
                    f"the code changed, update the break in tests/mutate.py:\n{b.anchor}")
    return text.replace(b.anchor, b.replacement)


def copy_tree(target: Path) -> None:
    skip = {".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache",
            "node_modules", "dist", "build"}
    shutil.copytree(ROOT, target, ignore=lambda d, names: [
        n for n in names if n in skip or n.endswith(".egg-info")])


def run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    env.setdefault("FIELDAPP_TEST_DATABASE_URL", PG_DEFAULT)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
             "-p", "no:randomly", *tests], cwd=tree, env=env, capture_output=True, text=True,
            encoding="utf-8", errors="replace", timeout=timeout)
        code, out = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = -1, f"timed out after {timeout:.0f} s\n{exc.stdout or ''}"
    return code, out, time.monotonic() - started


def first_failure(output: str) -> str:
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
    return found.group(1) if found else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutate", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these breaks")
    parser.add_argument("--list", action="store_true", help="list the breaks and exit")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running the tests unbroken first")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds per test run (default 900)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)

    breaks = BREAKS
    if args.only:
        unknown = set(args.only) - {b.name for b in BREAKS}
        if unknown:
            parser.error(f"no such break: {', '.join(sorted(unknown))}")
        breaks = [b for b in BREAKS if b.name in args.only]
    if args.list:
        for b in breaks:
            print(f"{b.name:32} {b.path}\n{'':32} {b.what}\n{'':32} tests: {' '.join(b.tests)}")
        return 0

    stale = []
    for b in breaks:  # every anchor first: a stale one stops everything, loudly
        try:
            apply((ROOT / b.path).read_text(encoding="utf-8"), b)
        except Stale as exc:
            stale.append(str(exc))
    if stale:
        print("STALE BREAKS (fix tests/mutate.py before trusting it):", *stale, sep="\n\n",
              file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="fieldapp-mutate-"))
    tree = work / "tree"
    print(f"copying the working tree to {tree} ...", flush=True)
    copy_tree(tree)
    try:
        if not args.no_baseline:
            everything = tuple(dict.fromkeys(t for b in breaks for t in b.tests))
            print(f"baseline: {len(everything)} test targets unbroken ...", flush=True)
            code, out, took = run_tests(tree, everything, args.timeout * 2)
            if code != 0:
                print(out[-4000:])
                print(f"baseline FAILED ({first_failure(out)}): the tests must pass unbroken "
                      "before breaks mean anything", file=sys.stderr)
                return 2
            print(f"baseline passed in {took:.0f} s", flush=True)
        rows = []
        for b in breaks:
            path = tree / b.path
            original = path.read_text(encoding="utf-8")
            path.write_text(apply(original, b), encoding="utf-8")
            print(f"{b.name}: {b.what} ...", flush=True)
            try:
                code, out, took = run_tests(tree, b.tests, args.timeout)
            finally:
                path.write_text(original, encoding="utf-8")
            if code == 1:
                verdict, by = "caught", first_failure(out)
            elif code == 0:
                verdict, by = "NOT CAUGHT", "-"
            else:
                verdict, by = f"ERROR (exit {code})", out.strip().splitlines()[-1][:80] \
                    if out.strip() else "?"
            print(f"  {verdict}: {by} ({took:.0f} s)", flush=True)
            rows.append((b.name, verdict, by, took))
    finally:
        if args.keep:
            print(f"kept {tree}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print("\nbreak".ljust(width + 2) + "verdict      caught by")
    for name, verdict, by, took in rows:
        print(f"{name:{width}}  {verdict:11}  {by} ({took:.0f} s)")
    missed = [r[0] for r in rows if r[1] != "caught"]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} breaks caught"
          + (f"; NOT caught or failed to run: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
