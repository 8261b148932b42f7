"""The one scope rule: what a user sees and acts on defaults to their areas.

The areas come from the `scopes:<user>` setting sync writes at enrolment (area codes,
comma-separated or a JSON list; "*" is the whole city). The laptop may hold more (a team
laptop, demo data, records from before enrolment); every view — CLI, TUI, exports, reports —
asks `user_scope(store)` and filters with it, and `--all-local` (``all_local=True``) shows the
rest. Acting on a record outside the scope is refused here with the registry's own reason,
because the registry would refuse it anyway and park the change.

Records without a grid yet (a draft just started on this laptop) are in everyone's scope:
they cannot have come from the registry.

Kept apart from the exporter so the home screen can ask without importing spreadsheet code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldapp.domain.workflow import TransitionError

if TYPE_CHECKING:
    from fieldapp.store.records import RecordStore


class ScopeError(ValueError):
    pass


class OutOfScope(TransitionError):
    """An action on a record whose grid lies outside the user's areas (the registry's words)."""

    def __init__(self, grid: str | None, action_en: str, action_zh: str) -> None:
        super().__init__(f"网格 {grid} 不在您的负责范围内,不能{action_zh}",
                         f"grid {grid} is outside your scope: cannot {action_en}")
        self.grid = grid


#: Verbs as the registry words them (sync/server/push.py), keyed by what the user does.
ACTIONS = {
    "create": ("create it", "新建"),
    "edit": ("change it", "修改"),
    "move": ("move it there", "移入该网格"),
    "approved": ("approve it", "通过"),
    "returned": ("return it", "退回"),
    "delete": ("delete it", "删除"),
    "attach": ("attach files to it", "添加附件"),
}


@dataclass(frozen=True)
class Scope:
    """The grids a user may see and act on; `enrolled is None` means everything local."""

    user: str = ""
    enrolled: frozenset[str] | None = None  # the grids of the user's areas
    areas: tuple[str, ...] = ()  # the area codes as enrolled (for messages)
    all_local: bool = False  # --all-local: show everything, still refuse out-of-scope actions

    @property
    def grids(self) -> frozenset[str] | None:
        """The grids shown: None (everything local) when unscoped or with --all-local."""
        return None if self.all_local else self.enrolled

    @property
    def limited(self) -> bool:
        return self.grids is not None

    def allows(self, grid_code: str | None) -> bool:
        return self.grids is None or not grid_code or grid_code in self.grids

    def where(self, column: str = "r.grid_code") -> tuple[str, list[str]]:
        """A SQL condition (and its parameters) keeping rows in scope; ("1", []) for all."""
        return grid_condition(self.grids, column)

    def require(self, grid_code: str | None, action: str = "edit") -> None:
        """Raise OutOfScope unless the user may act on a record in `grid_code` (checked
        against the enrolled areas even when --all-local widened what is shown)."""
        if self.enrolled is None or not grid_code or grid_code in self.enrolled:
            return
        action_en, action_zh = ACTIONS.get(action, ACTIONS["edit"])
        raise OutOfScope(grid_code, action_en, action_zh)

    def narrow(self, grids: Iterable[str] | None) -> frozenset[str] | None:
        """The shown grids intersected with `grids` (None on either side: the other)."""
        if grids is None:
            return self.grids
        wanted = frozenset(grids)
        return wanted if self.grids is None else self.grids & wanted

    def describe(self, lang: str = "zh") -> str:
        codes = ",".join(self.areas) or "*"
        return f"您的负责范围 {codes}" if lang == "zh" else f"your areas {codes}"


def grid_condition(grids: frozenset[str] | set[str] | None,
                   column: str = "r.grid_code") -> tuple[str, list[str]]:
    """SQL keeping rows whose grid is in `grids` (or not yet set); ("1", []) for None."""
    if grids is None:
        return "1", []
    if not grids:
        return f"{column} IS NULL", []
    codes = sorted(grids)
    return f"({column} IS NULL OR {column} IN ({','.join('?' * len(codes))}))", codes


def _area_codes(raw: str, user: str) -> list[str]:
    if raw.startswith("["):
        try:
            codes = [str(c).strip() for c in json.loads(raw)]
        except (json.JSONDecodeError, TypeError) as exc:
            raise ScopeError(f"用户 {user} 的范围设置已损坏 / the scope setting of {user} is "
                             f"damaged: {raw!r}") from exc
    else:
        codes = [c.strip() for c in raw.split(",")]
    return [c for c in codes if c]


def user_scope(store: RecordStore, user: str | None = None, *, all_local: bool = False
               ) -> Scope:
    """The current (or named) user's scope on this laptop.

    No `scopes:<user>` setting (not enrolled, tests, a fresh demo) or "*" gives everything
    local. `all_local` shows everything but keeps the enrolled grids, so `require` still
    refuses actions the registry would refuse.
    """
    user = store.user if user is None else user
    raw = (store.setting(f"scopes:{user}") or "").strip()
    areas = tuple(_area_codes(raw, user)) if raw else ()
    if not areas or "*" in areas:
        return Scope(user, None, areas, all_local)
    # Expanding a district to its grids is a recursive query; areas change only at sync.
    key = (user, areas, store.conn.execute("SELECT count(*) FROM area").fetchone()[0])
    cache = getattr(store, "_scope_cache", None)
    if cache is not None and cache[0] == key:
        grids = cache[1]
    else:
        found: set[str] = set()
        for code in areas:
            found.update(store.area_codes_below(code))
        grids = frozenset(found)
        store._scope_cache = (key, grids)
    return Scope(user, grids, areas, all_local)


def scope_grids(store: RecordStore, user: str | None = None) -> set[str] | None:
    """Grid codes the user may see, or None when no scope is set (everything local)."""
    grids = user_scope(store, user).grids
    return None if grids is None else set(grids)


def own_area(store: RecordStore, user: str | None = None) -> str | None:
    """The user's one area code when their scope is a single area (what a report or a map
    opens on by default); None for several areas, the whole city or no scope."""
    try:
        areas = user_scope(store, user).areas
    except ScopeError:
        return None
    return areas[0] if len(areas) == 1 and areas[0] != "*" else None
