"""Typed messages that carry results from thread workers (database reads) back to the UI."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from fieldapp.store.records import Record


@dataclass
class HomeLoaded(Message):
    counts: dict[str, dict[str, int]]
    pending: int
    grids: list[tuple[str, str, int]]  # code, name, records
    returned: list[Record]
    has_areas: bool = True  # False on a new laptop: no grids to choose until the first sync
    last_sync_at: str = ""


@dataclass
class PageLoaded(Message):
    token: int  # which request this answers; older answers are dropped
    records: list[Record]
    page: int
    has_more: bool


@dataclass
class CountLoaded(Message):
    token: int
    count: int
    capped: bool


@dataclass
class DuplicatesFound(Message):
    status: str  # the status the worker was saving with when the check ran
    matches: list[tuple[Record, float | None]] = field(default_factory=list)  # None: same address


@dataclass
class SyncStatusChanged(Message):
    status: str
    pending: int | None = None
    last_sync_at: str | None = None


@dataclass
class PendingCounted(Message):
    pending: int
    conflicts: int = 0
    last_sync_at: str | None = None
