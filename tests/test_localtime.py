"""Times are stored in UTC and shown in local time, with the zone named where asked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fieldapp import localtime
from fieldapp.store.records import utcnow


@pytest.fixture
def zone():
    yield localtime.set_zone
    localtime.set_zone(None)


def test_stored_utc_is_shown_in_shanghai_time(zone):
    zone("Asia/Shanghai")
    assert localtime.show("2025-03-04T13:38:00.000+00:00") == "2025-03-04 21:38"
    assert localtime.show("2025-03-04T13:38:00+00:00", zone=True) == "2025-03-04 21:38 UTC+8"
    assert localtime.show("2025-03-04T20:00:00Z", date_only=True) == "2025-03-05"  # next day
    assert localtime.show("2025-03-04 13:38:05", seconds=True) == "2025-03-04 21:38:05"  # naive=UTC
    assert localtime.zone_label() == "UTC+8"
    # What the store writes round-trips to the same instant.
    assert localtime.parse(utcnow()).tzinfo is not None


def test_other_zones_offsets_and_bad_values(zone):
    zone("UTC")
    assert localtime.show("2025-03-04T13:38:00+00:00", zone=True) == "2025-03-04 13:38 UTC"
    zone("+05:30")
    assert localtime.show("2025-03-04T13:38:00+00:00", zone=True) == "2025-03-04 19:08 UTC+5:30"
    zone("Europe/Berlin")  # daylight saving: the offset of that instant, not of today
    assert localtime.zone_label("2025-07-01T00:00:00+00:00") == "UTC+2"
    assert localtime.zone_label("2025-01-01T00:00:00+00:00") == "UTC+1"
    assert localtime.show("not a time") == "not a time"  # shown as it is, never hidden
    assert localtime.show(None) == "" and localtime.show("") == ""


def test_short_form_for_status_bars(zone):
    zone("Asia/Shanghai")
    now = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    assert localtime.show_short("2025-03-04T13:38:00+00:00", now) == "21:38"
    assert localtime.show_short("2025-03-01T13:38:00+00:00", now) == "03-01 21:38"
    assert localtime.show_short("2024-03-01T13:38:00+00:00", now) == "2024-03-01"


def test_fieldapp_tz_names_the_zone(monkeypatch, zone):
    monkeypatch.setenv("FIELDAPP_TZ", "Asia/Tokyo")
    zone(None)
    assert localtime.show("2025-03-04T13:38:00+00:00") == "2025-03-04 22:38"
    monkeypatch.setenv("FIELDAPP_TZ", "No/Such_Zone")  # falls back to the system's zone
    zone(None)
    assert localtime.show("2025-03-04T13:38:00+00:00")
