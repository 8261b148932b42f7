"""Administration of the registry: users, enrolment tokens, revocation, area reference data.

Used by `fieldapp admin …` and directly by tests and the demo. Every function takes a database
URL, migrates the schema if needed and works in its own transaction.
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from sqlalchemy import insert, select, update

from fieldapp.domain import safe_text
from fieldapp.domain.areas import Area as DomainArea
from fieldapp.domain.workflow import ROLES
from sync.server import auth
from sync.server.areas import AREAS, check_areas, known_codes, set_boundaries, upsert_areas
from sync.server.db import make_engine, reading, writing
from sync.server.migrations import migrate

_engines: dict[str, object] = {}


class AdminError(ValueError):
    """A refused admin action, with a one-line bilingual reason."""


def engine_for(database_url: str):  # noqa: ANN201
    # One engine per URL per process: the CLI calls once, tests call many times.
    if database_url not in _engines:
        engine = make_engine(database_url, pool_size=2)
        migrate(engine)
        _engines[database_url] = engine
    return _engines[database_url]


def add_user(database_url: str, name: str, role: str, scopes: list[str] | str) -> str:
    """Create a user (or give an existing, unrevoked one a new token); returns the token."""
    if isinstance(scopes, str):
        scopes = list(auth.parse_scopes(scopes))
    name = name.strip()
    if not name or len(name) > 60:
        raise AdminError("用户名应为 1-60 个字 / name must be 1-60 characters")
    if not safe_text.is_clean(name):
        raise AdminError("用户名不能含控制字符或改变文字方向的字符 / the name must not hold "
                         "control characters or bidi overrides")
    if role not in ROLES:
        raise AdminError(f"角色应为 {'/'.join(ROLES)} / role must be one of {', '.join(ROLES)}")
    if not scopes:
        raise AdminError("至少需要一个范围 / at least one scope (area code or *) is needed")
    engine = engine_for(database_url)
    with writing(engine) as conn:
        known = known_codes(conn)
        unknown = [s for s in scopes if s != auth.ALL_SCOPE and s not in known]
        if unknown:
            raise AdminError(f"未知区域编码 / unknown area code(s): {', '.join(unknown)} "
                             f"(load areas first)")
        row = conn.execute(select(auth.USERS).where(auth.USERS.c.name == name)).first()
        scope_text = ",".join(sorted(set(scopes)))
        if row is None:
            user_id = conn.execute(insert(auth.USERS).values(
                name=name, role=role, scopes=scope_text, revoked=False,
                created_at=auth.utcnow())).inserted_primary_key[0]
        elif row.revoked:
            raise AdminError(f"用户 {name} 已停用,可用 restore-user 恢复 / user {name} is "
                             f"revoked: fieldapp admin restore-user {name} gives them back "
                             f"their account")
        else:
            user_id = row.id
            conn.execute(update(auth.USERS).where(auth.USERS.c.id == user_id)
                         .values(role=role, scopes=scope_text))
        return auth.issue_token(conn, user_id)


def list_users(database_url: str) -> list[dict]:
    engine = engine_for(database_url)
    with reading(engine) as conn:
        devices: dict[int, int] = {}
        for c in conn.execute(select(auth.CREDS.c.user_id)
                              .where(auth.CREDS.c.revoked_at.is_(None))):
            devices[c.user_id] = devices.get(c.user_id, 0) + 1
        return [{"name": u.name, "role": u.role, "scopes": list(auth.parse_scopes(u.scopes)),
                 "revoked": bool(u.revoked), "devices": devices.get(u.id, 0),
                 "created_at": u.created_at}
                for u in conn.execute(select(auth.USERS).order_by(auth.USERS.c.name))]


def revoke_user(database_url: str, name: str, devices_only: bool = False) -> int:
    """Revoke a user and all their device credentials; returns how many devices were cut off.

    With `devices_only` the user stays active: that is how a lost laptop is cut off while its
    owner enrolls a new one with a fresh token from `add_user`.
    """
    engine = engine_for(database_url)
    with writing(engine) as conn:
        row = conn.execute(select(auth.USERS).where(auth.USERS.c.name == name)).first()
        if row is None:
            raise AdminError(f"没有用户 {name} / no user named {name}")
        if not devices_only:
            conn.execute(update(auth.USERS).where(auth.USERS.c.id == row.id).values(revoked=True))
        return conn.execute(update(auth.CREDS).where(auth.CREDS.c.user_id == row.id,
                                                     auth.CREDS.c.revoked_at.is_(None))
                            .values(revoked_at=auth.utcnow(), revoked_reason="admin")).rowcount


def restore_user(database_url: str, name: str) -> str:
    """Undo `revoke_user`: the user is active again and gets a new one-time token (returned).
    Their old device credentials stay revoked: each laptop enrolls again with the token."""
    engine = engine_for(database_url)
    with writing(engine) as conn:
        row = conn.execute(select(auth.USERS).where(auth.USERS.c.name == name)).first()
        if row is None:
            raise AdminError(f"没有用户 {name} / no user named {name}")
        conn.execute(update(auth.USERS).where(auth.USERS.c.id == row.id).values(revoked=False))
        return auth.issue_token(conn, row.id)


def read_areas_csv(path: str | Path) -> list[DomainArea]:
    """Rows of code,name,level,parent_code[,lat,lng,households]; raises AdminError per bad row."""
    areas, problems = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or ())
            if missing:
                raise AdminError(f"缺少列 / missing column(s): {', '.join(sorted(missing))}")
            for n, row in enumerate(reader, start=2):
                try:
                    areas.append(DomainArea(
                        (row["code"] or "").strip(), (row["name"] or "").strip(),
                        (row["level"] or "").strip(), (row["parent_code"] or "").strip() or None,
                        _num(row.get("lat"), float), _num(row.get("lng"), float),
                        _num(row.get("households"), int), None,
                        _flag(row.get("pilot") or row.get("试点")),
                        _num(row.get("annual_target") or row.get("年度目标"), int)))
                except ValueError as exc:
                    problems.append(f"line {n}: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminError(f"无法读取文件 / cannot read {path}: {exc}") from None
    if problems:
        raise AdminError("; ".join(problems[:10]))
    return areas


def _flag(text: str | None) -> bool | None:
    """A pilot cell: 是/否, yes/no, 1/0, true/false; empty is "not given"."""
    from fieldapp.domain.normalize import parse_bool

    text = (text or "").strip()
    if not text:
        return None
    value = parse_bool(text)
    if value is None:
        raise ValueError(f"pilot {text!r} should be 是/否 (yes/no, 1/0)")
    return value


def set_pilot(database_url: str, codes: list[str], pilot: bool = True) -> int:
    """Flag (or unflag) areas as pilot communities; AdminError naming unknown codes."""
    return _set(database_url, codes, pilot=pilot)


def set_target(database_url: str, codes: list[str], target: int | None) -> int:
    """Each area's annual plan: how many facilities it means to open this year (None clears)."""
    if target is not None and not 0 <= target <= 10000:
        raise AdminError(f"年度目标应为 0–10000 的整数 / the annual target must be a whole number "
                         f"from 0 to 10000: {target}")
    return _set(database_url, codes, annual_target=target)


def _set(database_url: str, codes: list[str], **values: object) -> int:
    from sync.server.areas import set_area_values

    # Full-width digits (a Chinese input method) read as ASCII, as everywhere else.
    codes = [unicodedata.normalize("NFKC", c).strip() for c in codes]
    codes = list(dict.fromkeys(c for c in codes if c))
    engine = engine_for(database_url)
    with writing(engine) as conn:
        codes = _codes_or_names(conn, codes)
        unknown = sorted(set(codes) - known_codes(conn))
        if unknown or not codes:
            raise AdminError(f"没有这些区域编码或名称 / no such area codes or names: "
                             f"{', '.join(unknown)}; "
                             f"先导入区域 / load the areas first (admin load-areas)"
                             if unknown else "请给出区域编码 / give area codes")
        return set_area_values(conn, codes, **values)


def _codes_or_names(conn, given: list[str]) -> list[str]:  # noqa: ANN001
    """Area codes, an area's own name (天平路第一居委) standing for its code when one area has
    it; a name several areas share is refused with their codes."""
    known = known_codes(conn)
    names = [g for g in given if g not in known]
    if not names:
        return given
    found: dict[str, list[str]] = {}
    for code, name in conn.execute(select(AREAS.c.code, AREAS.c.name)
                                   .where(AREAS.c.name.in_(names))):
        found.setdefault(name, []).append(code)
    for name, codes in found.items():
        if len(codes) > 1:
            raise AdminError(f"「{name}」是多个区域的名称,请用编码 / several areas are called "
                             f"{name!r}: use a code ({', '.join(sorted(codes))})")
    return [found[g][0] if g in found else g for g in given]


def _num(text: str | None, kind: type):  # noqa: ANN202
    text = (text or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def load_areas(database_url: str, areas: list[DomainArea]) -> int:
    """Validate every row first, then load all or nothing; returns how many rows changed."""
    engine = engine_for(database_url)
    with writing(engine) as conn:
        problems = check_areas(areas, known_codes(conn))
        if problems:
            more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
            raise AdminError("区域数据有误,未导入 / areas not loaded: "
                             + "; ".join(problems[:10]) + more)
        return upsert_areas(conn, areas)


def read_grid_shapes(path: str | Path, coord_system: str | None = None):  # noqa: ANN201
    """Grid outlines from a GeoJSON file (fieldapp.domain.grid_shapes); AdminError when the
    file cannot be read or any feature is bad (nothing is loaded then)."""
    from fieldapp.domain.grid_shapes import ShapeError, read_geojson

    try:
        with open(path, encoding="utf-8-sig") as fh:
            shapes = read_geojson(fh.read(), coord_system)
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminError(f"无法读取文件 / cannot read {path}: {exc}") from None
    except ShapeError as exc:
        raise AdminError(str(exc)) from None
    if shapes.problems:
        more = f" (+{len(shapes.problems) - 10} more)" if len(shapes.problems) > 10 else ""
        raise AdminError("网格边界有误,未导入 / grid outlines not loaded: "
                         + "; ".join(shapes.problems[:10]) + more)
    if not shapes.rings:
        raise AdminError("文件中没有网格边界 / the file holds no grid outlines")
    return shapes


def load_grid_shapes(database_url: str, shapes) -> int:  # noqa: ANN001
    """Attach outlines to grids already loaded (all or nothing); returns rows changed."""
    from fieldapp.domain.grid_shapes import centre, encode

    engine = engine_for(database_url)
    with writing(engine) as conn:
        levels = dict(conn.execute(select(AREAS.c.code, AREAS.c.level)
                                   .where(AREAS.c.code.in_(sorted(shapes.rings)))).all())
        problems = [f"{code}: 没有这个网格,请先导入区域 CSV / no such grid: load the areas "
                    f"CSV first" if code not in levels else
                    f"{code}: 不是网格 / not a grid ({levels[code]})"
                    for code in shapes.rings if levels.get(code) != "grid"]
        if problems:
            raise AdminError("网格边界未导入 / grid outlines not loaded: "
                             + "; ".join(problems[:10]))
        return set_boundaries(conn, {c: encode(r) for c, r in shapes.rings.items()},
                              {c: centre(r) for c, r in shapes.rings.items()})


def load_demo_areas(database_url: str) -> int:
    from fieldapp.domain.demo_areas import demo_areas

    return load_areas(database_url, demo_areas())


def blob_store(database_url: str, spec: str | None = None, blob_dir: str | None = None):  # noqa: ANN201
    """The blob store the registry at `database_url` uses (the same rule as `fieldapp serve`)."""
    from sync.server.blobstore import open_store
    from sync.server.db import normalise_url

    return open_store(engine_for(database_url), normalise_url(database_url), spec, blob_dir)


def gc_blobs(database_url: str, older_than: str = "7d", dry_run: bool = False,
             spec: str | None = None, blob_dir: str | None = None):  # noqa: ANN201
    """Collect content no live attachment uses (blobstore.collect); returns its GcReport."""
    from sync.server.blobstore import collect, parse_age

    try:
        age = parse_age(older_than)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    return collect(blob_store(database_url, spec, blob_dir), age, dry_run)


def devices(database_url: str, user: str | None = None, stale: str | None = None) -> list[dict]:
    """Every enrolled device with what it reported at its last sync, most recent first;
    `stale` (e.g. 7d) keeps those not seen for that long (or never)."""
    from datetime import UTC, datetime

    from sync.server.blobstore import parse_age
    from sync.server.ops import STATUS

    cutoff = None
    if stale:
        try:
            cutoff = (datetime.now(UTC) - parse_age(stale)).isoformat(timespec="milliseconds")
        except ValueError as exc:
            raise AdminError(str(exc)) from None
    engine = engine_for(database_url)
    q = (select(auth.USERS.c.name, auth.CREDS.c.device_id, auth.CREDS.c.device_name,
                auth.CREDS.c.created_at, auth.CREDS.c.revoked_at, auth.CREDS.c.revoked_reason,
                STATUS.c.app_version,
                STATUS.c.queued, STATUS.c.parked, STATUS.c.client_time,
                STATUS.c.last_seen_at, STATUS.c.last_push_at, STATUS.c.address)
         .select_from(auth.CREDS.join(auth.USERS, auth.USERS.c.id == auth.CREDS.c.user_id)
                      .outerjoin(STATUS, STATUS.c.credential_hash
                                 == auth.CREDS.c.credential_hash)))
    if user:
        q = q.where(auth.USERS.c.name == user)
    with reading(engine) as conn:
        if user and conn.execute(select(auth.USERS.c.id).where(
                auth.USERS.c.name == user)).first() is None:
            raise AdminError(f"没有用户 {user} / no user named {user}")
        rows = [dict(r._mapping) for r in conn.execute(q)]
    if cutoff:
        rows = [r for r in rows if not r["revoked_at"]
                and (r["last_seen_at"] or "") < cutoff]
    rows.sort(key=lambda r: r["last_seen_at"] or "", reverse=True)
    return [{"user": r["name"], "device_id": r["device_id"], "device_name": r["device_name"],
             "enrolled_at": r["created_at"], "revoked_at": r["revoked_at"],
             "revoked_reason": r["revoked_reason"], "last_sync_at": r["last_seen_at"],
             "last_push_at": r["last_push_at"],
             "app_version": r["app_version"], "queued": r["queued"], "parked": r["parked"],
             "client_time": r["client_time"], "address": r["address"]} for r in rows]


def activity(database_url: str, user: str | None = None, since: str | None = None,
             limit: int = 500) -> list[dict]:
    """Activity lines (enrolments, pushed batches, stored attachments), newest first; `since`
    is an age (7d) or a date (2026-03-01, taken in the local zone)."""
    from datetime import UTC, datetime

    from sync.server.ops import ACTIVITY

    q = select(ACTIVITY).order_by(ACTIVITY.c.at.desc(), ACTIVITY.c.id.desc()).limit(limit)
    if user:
        q = q.where(ACTIVITY.c.user_name == user)
    if since:
        q = q.where(ACTIVITY.c.at >= _since(since, datetime.now(UTC)))
    with reading(engine_for(database_url)) as conn:
        return [{"at": r.at, "user": r.user_name, "device_id": r.device_id,
                 "action": r.action, "count": r.count, "detail": r.detail}
                for r in conn.execute(q)]


def _since(text: str, now) -> str:  # noqa: ANN001
    """An age (`7d`, `12h`) back from now, or a date / date and time in the local zone."""
    from datetime import UTC, datetime

    from fieldapp import localtime
    from sync.server.blobstore import parse_age

    try:
        return (now - parse_age(text)).isoformat(timespec="milliseconds")
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AdminError(f"时间应写作 7d 或 2026-03-01 / a time looks like 7d or 2026-03-01: "
                         f"{text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=localtime.display_zone())
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def dispose_all() -> None:
    """Close pooled connections (tests drop their PostgreSQL schema afterwards)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
