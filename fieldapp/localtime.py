"""Times as people read them: stored in UTC (ISO 8601), shown in the laptop's local time.

Every stored timestamp (`updated_at`, history `at`, `last_sync_at`...) is UTC; a grid worker in
Shanghai at 21:38 must read 21:38, not 13:38. Screens, CLI output and exports call `show()`;
where a reader could not know which clock is meant (a printed list, a spreadsheet, a line
copied into a chat) pass `zone=True` or put `zone_label()` in the column heading.

The display zone is the system's local zone; `FIELDAPP_TZ` (an IANA name such as
`Asia/Shanghai`, or an offset such as `+08:00`) overrides it, e.g. for tests or a laptop whose
clock is set to UTC. Plain dates (`inspected_on`) are calendar dates, never converted.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

_zone: tzinfo | None = None
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def _zone_from(name: str) -> tzinfo | None:
    name = name.strip()
    if not name:
        return None
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - unknown name or no tz database (Windows without tzdata)
        return None


def display_zone() -> tzinfo:
    """The zone times are shown in: `FIELDAPP_TZ` if it names one, else the system's."""
    global _zone
    if _zone is None:
        _zone = _zone_from(os.environ.get("FIELDAPP_TZ", "")) or \
            datetime.now().astimezone().tzinfo or UTC
    return _zone


def set_zone(name: str | tzinfo | None) -> None:
    """Use another display zone from now on (None: read FIELDAPP_TZ / the system again)."""
    global _zone
    _zone = _zone_from(name) if isinstance(name, str) else name


def parse(value: str | datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime; a naive one is taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def latest(*values: str | None) -> str:
    """The latest of some stored timestamps ("" if none): e.g. a sync report's time against
    the one read from the settings a moment earlier."""
    known = [(parse(v), v) for v in values if v]
    known = [(dt, v) for dt, v in known if dt is not None]
    return max(known)[1] if known else ""


def local(value: str | datetime | None) -> datetime | None:
    dt = parse(value)
    return None if dt is None else dt.astimezone(display_zone())


def zone_label(when: str | datetime | None = None) -> str:
    """The display zone as an offset everyone reads the same way: `UTC+8`, `UTC+5:30`, `UTC`."""
    dt = local(when) if when is not None else datetime.now(display_zone())
    offset = (dt or datetime.now(display_zone())).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def show(value: str | datetime | None, *, zone: bool = False, seconds: bool = False,
         date_only: bool = False) -> str:
    """`2025-03-04T13:38:00+00:00` → `2025-03-04 21:38` in Shanghai (`… UTC+8` with zone).

    Anything that is not a timestamp comes back as it was, so a bad value is still seen.
    """
    if value is None or value == "":
        return ""
    dt = local(value)
    if dt is None:
        return str(value)
    text = dt.strftime("%Y-%m-%d" if date_only else
                       "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {zone_label(dt)}" if zone and not date_only else text


def show_short(value: str | datetime | None, now: datetime | None = None) -> str:
    """Compact, for status bars and narrow columns: `21:38` today, `03-04 21:38` this year,
    `2024-03-04` before."""
    dt = local(value)
    if dt is None:
        return "" if value in (None, "") else str(value)
    today = (now.astimezone(display_zone()) if now else datetime.now(display_zone()))
    if dt.date() == today.date():
        return dt.strftime("%H:%M")
    if dt.year == today.year:
        return dt.strftime("%m-%d %H:%M")
    return dt.strftime("%Y-%m-%d")


def today() -> date:
    """Today's date where the user is (a joint review or a stage is dated by the local day)."""
    return datetime.now(display_zone()).date()
