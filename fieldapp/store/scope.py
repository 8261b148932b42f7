"""The grids a user may see on this laptop, from the `scopes:<user>` setting sync writes.

Kept apart from the exporter (which also filters by it) so the home screen can ask without
importing the spreadsheet code.
"""

from __future__ import annotations

import json

from fieldapp.store.records import RecordStore


class ScopeError(ValueError):
    pass


def scope_grids(store: RecordStore, user: str | None = None) -> set[str] | None:
    """Grid codes the user may see, or None when no scope is set (everything local).

    The setting `scopes:<user>` holds area codes as sync writes them (comma-separated) or as
    a JSON list; "*" is the whole city.
    """
    user = store.user if user is None else user
    raw = (store.setting(f"scopes:{user}") or "").strip()
    if not raw:
        return None
    if raw.startswith("["):
        try:
            codes = [str(c).strip() for c in json.loads(raw)]
        except (json.JSONDecodeError, TypeError) as exc:
            raise ScopeError(f"用户 {user} 的范围设置已损坏 / the scope setting of {user} is "
                             f"damaged: {raw!r}") from exc
    else:
        codes = [c.strip() for c in raw.split(",")]
    codes = [c for c in codes if c]
    if "*" in codes:
        return None
    grids: set[str] = set()
    for code in codes:
        grids.update(store.area_codes_below(code))
    return grids
