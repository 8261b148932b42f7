"""The sync engine: one cycle pushes the outbox and pulls the scope's changes; a watch loop
repeats cycles with backoff. Plain Python (no Textual), so the CLI, the TUI and tests share it.

Rules that keep data safe, each tied to a way such engines lose data:
- outbox rows are sealed (committed) before they are sent, and stay until an answer for them
  is committed, so a lost answer means a resend with the same mutation ids, never a loss;
- each push answer and each pulled page is applied in one local transaction, the pull
  cursor with its page, so a crash never leaves the cursor ahead of the data;
- a pulled change never overwrites a field that an unpushed local entry carries;
- nothing is ordered by a clock: the server's versions and feed sequence decide.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fieldapp.compat.locking import FileLock
from fieldapp.context import AppContext
from fieldapp.store import sync_state as state
from fieldapp.store.db import transaction
from fieldapp.store.records import RecordStore
from sync import attachment_sync, protocol
from sync.client import (
    PUSH_LIMIT,
    Offline,
    Refused,
    RegistryClient,
    ServerError,
    SyncError,
)

PULL_LIMIT = 500
MAX_PAGES = 100_000  # a runaway server must not keep a cycle alive forever


@dataclass
class SyncReport:
    pushed: int = 0  # mutations the server holds now (applied or already applied)
    conflicts: int = 0
    rejected: list[dict] = field(default_factory=list)  # {record_id, op, reason_zh, reason_en}
    pulled: int = 0  # changes applied from the feed
    deleted: int = 0
    evicted: int = 0
    errors: list[str] = field(default_factory=list)
    offline: bool = False  # could not reach the server (retry later)
    fatal: bool = False  # the user must act (enroll again, upgrade)
    busy: bool = False  # another cycle was running
    attachments: attachment_sync.AttachmentReport | None = None
    replayed: int = 0  # journal mutations sent again to a registry restored from a backup
    replay_refused: list[str] = field(default_factory=list)  # bilingual, one per mutation
    started_at: str = ""
    finished_at: str = ""

    @property
    def ok(self) -> bool:
        return not (self.errors or self.rejected or self.busy)

    def summary(self, lang: str = "zh") -> str:
        files = self.attachments
        moved = files and (files.uploaded or files.downloaded)
        if lang == "zh":
            return (f"推送 {self.pushed},拉取 {self.pulled},冲突 {self.conflicts},"
                    f"被拒 {len(self.rejected)}"
                    + (f",附件上传 {files.uploaded} 下载 {files.downloaded}" if moved else ""))
        return (f"pushed {self.pushed}, pulled {self.pulled}, conflicts {self.conflicts}, "
                f"rejected {len(self.rejected)}"
                + (f", attachments up {files.uploaded} down {files.downloaded}"
                   if moved else ""))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SyncEngine:
    """Syncs one RecordStore with one registry. Give it a store with its own connection when
    it runs in a background thread: a sqlite3 connection must not be shared across threads.
    """

    def __init__(self, store: RecordStore, client: RegistryClient, *,
                 push_limit: int = PUSH_LIMIT, pull_limit: int = PULL_LIMIT,
                 sequence: Callable[[], tuple[int, str]] | None = None,
                 on_identity: Callable[[str, list[str]], None] | None = None) -> None:
        self.store = store
        # Told the user's role and scopes when the registry's differ from this laptop's (an
        # admin changed them): open_engine keeps credentials.json in step (`user list`).
        self.on_identity = on_identity
        # The credential's sync sequence (credentials.next_sequence), reported each cycle so
        # the registry can tell a copy of this laptop's credential on another device.
        self.sequence = sequence
        self.client = client
        self.push_limit = min(push_limit, PUSH_LIMIT)
        self.pull_limit = pull_limit
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.last_report: SyncReport | None = None
        self._registry_answers: bool | None = None  # to an empty push, this cycle

    # -- one cycle --------------------------------------------------------------------------
    def run_cycle(self) -> SyncReport:
        report = SyncReport(started_at=_now())
        if not self._lock.acquire(blocking=False):
            report.busy = True
            return report
        try:
            with _ProcessLock(self.store) as held:
                if not held:  # `fieldapp sync` and the app's background sync at once
                    report.busy = True
                    return report
                self._cycle(report)
        finally:
            self._lock.release()
        report.finished_at = _now()
        self.last_report = report
        return report

    def _cycle(self, report: SyncReport) -> None:
        try:
            answer = self.report_status()
            if answer is not None and answer.user is not None:
                self._take_identity(answer.user, report)
            generation = answer.generation if answer else None
            if generation and state.known_generation(self.store) not in (None, generation):
                self.replay_journal(report)
            self.push(report)
            # Attachment rows go after their records' mutations: the server needs the record.
            report.attachments = attachment_sync.upload_pending(self.store, self.client)
            self.pull(report)
            attachment_sync.after_pull(self.store, self.client, report.attachments,
                                       report.errors)
            if generation and not report.errors:
                state.set_generation(self.store, generation)
        except SyncError as exc:
            report.errors.append(exc.message("zh"))
            report.offline = isinstance(exc, Offline) or getattr(exc, "retriable", False)
            report.fatal = not exc.retriable
        with transaction(self.store.conn):
            if not report.errors:
                self.store.set_setting("last_sync_at", report.finished_at or _now())
            self.store.set_setting("last_sync_error", "; ".join(report.errors))
        state.prune_journal(self.store)

    # -- status -------------------------------------------------------------------------------
    def report_status(self):  # noqa: ANN201  (protocol.StatusAnswer | None)
        """First call of a cycle: what waits here (for the registry's support view and
        metrics); the answer carries the registry's clock and generation."""
        from fieldapp import __version__

        counts = state.outbox_counts(self.store)
        report = {"app_version": __version__, "queued": int(counts.get("pending", 0)),
                  "parked": int(counts.get("parked", 0)), "client_time": _now()}
        if self.sequence is not None:
            report["sequence"], report["sequence_tag"] = self.sequence()
        answer = self.client.status(report)
        if answer:
            with transaction(self.store.conn):
                self.store.set_setting("registry_time_checked",
                                       f"{_now()} {answer.server_time}")
        return answer

    def _take_identity(self, user: protocol.UserInfo, report: SyncReport) -> None:
        if user.name != self.store.user:
            return
        evicted = state.take_identity(self.store, user.role, list(user.scopes))
        if evicted is None:
            return
        report.evicted += evicted
        if self.on_identity is not None:
            self.on_identity(user.role, list(user.scopes))

    # -- a registry restored from a backup ----------------------------------------------------
    def replay_journal(self, report: SyncReport) -> None:
        """The registry's generation changed: it was restored and may have lost what this
        laptop pushed since the backup. Send the journal again, in order, with the same
        mutation ids (what the registry still has answers "already applied"), then pull
        everything afresh taking the registry's versions as they now are."""
        mutations = state.journal_mutations(self.store)
        for start in range(0, len(mutations), self.push_limit):
            chunk = mutations[start:start + self.push_limit]
            results = self.client.push(chunk)
            with state.batch(self.store):
                for sent, result in zip(chunk, results, strict=True):
                    outcome = effective_outcome(result)
                    if outcome == "rejected":
                        reason = result.reason
                        report.replay_refused.append(
                            f"{sent['record_id'][:8]}: {reason.message_zh} / {reason.message}")
                    else:
                        report.replayed += 1
        state.start_realign(self.store)

    # -- push ---------------------------------------------------------------------------------
    def push(self, report: SyncReport) -> None:
        """Send pending outbox entries in order, in batches, until none is left.

        Pipelined: batch n+1 is sealed while batch n is on the wire, and sent before n's
        answer is applied, so the registry works on n+1 while the laptop applies n. Every
        batch is sealed (committed) before it is sent, so a lost answer still means a resend
        with the same mutation ids.
        """
        self._registry_answers = None
        batch = state.seal_batch(self.store, self.push_limit)
        if not batch:
            return
        with ThreadPoolExecutor(1, thread_name_prefix="sync-push") as wire:
            answer = wire.submit(self._send, batch)
            while True:
                following = state.seal_batch(self.store, self.push_limit, batch[-1].seq) \
                    if len(batch) == self.push_limit else []
                try:
                    results = answer.result()
                except (ServerError, Refused) as exc:
                    if not _about_entries(exc):
                        raise
                    if not self._isolate(batch, exc, report):
                        # An entry still failing is tried again next cycle; what follows it
                        # (sealed already) keeps its place and goes then, unchanged.
                        return
                    results = None
                if following:
                    answer = wire.submit(self._send, following)
                if results is not None:
                    self._apply_results(batch, results, report)
                if not following:
                    return
                batch = following

    def _send(self, batch: list[state.OutboxEntry]) -> list[protocol.Result]:
        return self.client.push([e.mutation() for e in batch])

    # -- poison entries -----------------------------------------------------------------------
    def _isolate(self, batch: list[state.OutboxEntry], failure: SyncError,
                 report: SyncReport) -> bool:
        """A batch failed in a way one entry can cause (a server error, an answer that cannot
        be read, a body refused whole): halve it until each failing entry is alone, apply
        what the halves that work answer, and count or park the failing ones
        (state.server_failed, state.park). True when every entry got an answer or was parked.

        Not when the registry fails for everyone: an empty push tells (a registry with its
        database down fails that too), and then nothing is counted against any entry."""
        if isinstance(failure, ServerError) and not self._registry_works():
            raise failure
        stuck: set[str] = set()  # records with a failing entry: their later entries wait
        tally = {"unsettled": 0, "alone": 0}

        def run(part: list[state.OutboxEntry], known: SyncError | None = None) -> None:
            part = [e for e in part if e.record_id not in stuck]
            if not part:
                return
            error = known
            if error is None:
                try:
                    results = self._send(part)
                except (ServerError, Refused) as exc:
                    if not _about_entries(exc):
                        raise
                    error = exc
                else:
                    self._apply_results(part, results, report)
                    return
            if len(part) > 1:
                middle = len(part) // 2
                run(part[:middle])
                run(part[middle:])
                return
            self._failed_alone(part[0], error, report, tally)
            stuck.add(part[0].record_id)
            if tally["alone"] >= 2 and tally["unsettled"]:
                # Two entries failing alone in one cycle: stop rather than try every entry
                # against a registry that may be failing for all of them.
                raise _StopIsolating()

        try:
            run(batch, failure)
        except _StopIsolating:
            return False
        return not tally["unsettled"]

    def _failed_alone(self, entry: state.OutboxEntry, error: SyncError, report: SyncReport,
                      tally: dict) -> None:
        reason = {"message": error.en, "message_zh": error.zh,
                  "detail": " ".join(x for x in (error.detail,
                                                 f"HTTP {error.status}" if error.status and
                                                 str(error.status) not in error.detail
                                                 else "") if x)}
        if isinstance(error, Refused):  # refused whole, alone: sending it again cannot help
            with state.batch(self.store):
                state.park(self.store, entry, {"code": "refused", **reason})
            parked = True
        else:
            parked = state.server_failed(self.store, entry, reason)
            tally["alone"] += 1
        if parked:
            report.rejected.append({
                "record_id": entry.record_id, "op": entry.op, "seq": entry.seq,
                "reason_zh": entry.reason("zh"), "reason_en": entry.reason("en")})
        else:
            tally["unsettled"] += 1
            report.errors.append(f"#{entry.seq} {error.message('zh')}")

    def _registry_works(self) -> bool:
        """Does the registry answer an empty push? (asked once a cycle)"""
        if self._registry_answers is None:
            try:
                self.client.push([])
                self._registry_answers = True
            except ServerError:
                self._registry_answers = False
        return self._registry_answers

    def _apply_results(self, batch: list[state.OutboxEntry], results: list[protocol.Result],
                       report: SyncReport) -> None:
        """Each answer to its entry, all in one local transaction."""
        store = self.store
        with state.batch(store):
            applied: list = []  # acknowledged together, in order with the others
            for entry, result in zip(batch, results, strict=True):
                outcome = effective_outcome(result)
                if outcome == "applied":
                    applied.append((entry, result.version, result.record))
                    report.pushed += 1
                    continue
                state.ack(store, applied)
                applied = []
                if outcome == "conflict":
                    version = result.version or (result.record.version if result.record else 0)
                    fields = {k: v.model_dump() for k, v in (result.conflicts or {}).items()}
                    state.take_conflict(store, entry, version, result.record, fields)
                    report.conflicts += 1
                else:
                    state.park(store, entry, result.reason.model_dump(exclude_unset=True))
                    report.rejected.append({
                        "record_id": entry.record_id, "op": entry.op, "seq": entry.seq,
                        "reason_zh": entry.reason("zh"), "reason_en": entry.reason("en")})
            state.ack(store, applied)

    # -- pull ---------------------------------------------------------------------------------
    def pull(self, report: SyncReport) -> None:
        """Fetch pages of changes until the feed is exhausted, each committed with its cursor.

        Pipelined: page n+1 is fetched (with the cursor page n carries) while page n is
        applied; a crash between them leaves the committed cursor at n-1 or n, never ahead.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="sync-pull") as wire:
            page = self.client.pull(state.cursor(self.store), self.pull_limit)
            for _ in range(MAX_PAGES):
                following = wire.submit(self.client.pull, page.cursor, self.pull_limit) \
                    if page.more else None
                self.apply_page(page, report)
                if following is None:
                    if state.realigning(self.store):
                        state.end_realign(self.store)
                    return
                page = following.result()

    def apply_page(self, page: protocol.PullPage, report: SyncReport | None = None) -> None:
        counts = state.apply_page(self.store, page, page.cursor)
        if report is not None:
            report.pulled += counts.pulled
            report.deleted += counts.deleted
            report.evicted += counts.evicted

    # -- background ---------------------------------------------------------------------------
    def poke(self) -> None:
        """Run a cycle soon (after a save), instead of waiting for the next interval."""
        self._wake.set()

    def run_forever(self, stop: threading.Event, *, interval: float = 60.0,
                    base_backoff: float = 2.0, max_backoff: float = 300.0,
                    on_report: Callable[[SyncReport], None] | None = None,
                    rng: random.Random | None = None) -> None:
        """Cycle until `stop` is set: every `interval` seconds, at once when poked, and with
        exponential backoff plus jitter while the server cannot be reached."""
        rng = rng or random.Random()
        failures = 0
        while not stop.is_set():
            self._wake.clear()
            try:
                report = self.run_cycle()
            except Exception as exc:  # noqa: BLE001  (a busy disk must not end background sync)
                report = SyncReport(errors=[f"{type(exc).__name__}: {exc}"], offline=True,
                                    finished_at=_now())
            if on_report:
                on_report(report)
            if report.fatal:
                return  # enrolling again or upgrading needs the user; retrying cannot help
            if report.offline:
                failures += 1
                delay = next_delay(failures, base_backoff, max_backoff, rng)
            else:
                failures = 0
                delay = interval
            self._sleep(delay, stop)

    def _sleep(self, seconds: float, stop: threading.Event) -> None:
        # Wake on a poke or on stop, whichever comes first; check stop in short slices
        # because the caller's event cannot wake our wait.
        end = _monotonic() + seconds
        while not stop.is_set():
            left = end - _monotonic()
            if left <= 0 or self._wake.wait(min(left, 0.2)):
                return


def open_engine(ctx: AppContext) -> SyncEngine:
    """An engine for the laptop's current enrolled user, on its own store connection (the
    CLI, the sync screen and background sync each open their own). Raises SyncError
    (credentials.NotEnrolled) when nobody is enrolled."""
    from sync import credentials

    store = ctx.open_store()
    enrolled = {u["user"] for u in credentials.users(ctx.config_dir)[1]}
    entry = credentials.current(ctx.config_dir, store.user if store.user in enrolled else None)
    if store.user != entry["user"]:
        store.user, store.role = entry["user"], entry["role"]
    return SyncEngine(store, credentials.client_for(ctx.config_dir, entry["user"]),
                      sequence=lambda: credentials.next_sequence(ctx.config_dir,
                                                                 entry["credential"]),
                      on_identity=lambda role, scopes: credentials.update_identity(
                          ctx.config_dir, entry["user"], role, scopes))


class _ProcessLock:
    """A lock file beside the database, so two processes never run a cycle at once (both
    would be correct, thanks to mutation ids, but would send everything twice). msvcrt on
    Windows, flock elsewhere (`fieldapp.compat.locking`)."""

    def __init__(self, store: RecordStore) -> None:
        path = store.path
        self.lock = FileLock(f"{path}.sync-lock") if path else None

    def __enter__(self) -> bool:
        return self.lock.acquire() if self.lock else True

    def __exit__(self, *exc: object) -> None:
        if self.lock:
            self.lock.release()


class _StopIsolating(Exception):
    pass


def _about_entries(exc: SyncError) -> bool:
    """Could one entry of the batch cause this? A server error (not a registry that is
    overloaded, down or behind a failing proxy: 429, 502, 503, 504), an answer that cannot be
    read (no status), or a body refused whole (400 malformed, 413 too large, 422 invalid)."""
    if isinstance(exc, ServerError):
        return exc.status is None or (exc.status >= 500 and exc.status not in (502, 503, 504))
    if isinstance(exc, Refused):
        return exc.status in (400, 413, 422)
    return False


def effective_outcome(result: protocol.Result) -> str:
    """applied, conflict or rejected; a resent mutation's "already_applied" counts as what
    its first answer was (protocol.AlreadyApplied.effective)."""
    if isinstance(result, protocol.AlreadyApplied):
        return result.effective
    return result.outcome


def next_delay(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "full jitter", so many laptops do not retry in step."""
    ceiling = min(cap, base * (2 ** (failures - 1)))
    return rng.uniform(ceiling / 2, ceiling)


def _monotonic() -> float:
    import time

    return time.monotonic()
