"""Coordinates: distance on WGS-84, Shanghai's extent, and GCJ-02 ⇄ WGS-84 conversion.

Chinese online maps (Amap/高德, Tencent) show GCJ-02, offset from GPS by a few hundred metres.
Records always store WGS-84; `coord_system` remembers what the user typed in.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
SHANGHAI_BOUNDS = (30.6, 31.95, 120.8, 122.25)  # lat min, lat max, lng min, lng max (padded)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def in_shanghai(lat: float, lng: float) -> bool:
    lat_min, lat_max, lng_min, lng_max = SHANGHAI_BOUNDS
    return lat_min <= lat <= lat_max and lng_min <= lng <= lng_max


# GCJ-02 is a published obfuscation of WGS-84 (Krasovsky ellipsoid parameters).
_A = 6378245.0
_EE = 0.00669342162296594323


def _offset(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3)
    dlng = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    dlat, dlng = _offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse by fixed-point iteration; better than 1 cm after a few rounds."""
    wlat, wlng = lat, lng
    for _ in range(8):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        wlat, wlng = wlat - (glat - lat), wlng - (glng - lng)
    return wlat, wlng


def to_wgs84(lat: float, lng: float, system: str | None) -> tuple[float, float]:
    return gcj02_to_wgs84(lat, lng) if system == "gcj02" else (lat, lng)


def normalise_coordinates(data: dict) -> dict:
    """A copy of raw record input with lat/lng in WGS-84, as records always store them.

    Call it once, on what the user typed or the spreadsheet held, before validation: when
    `coord_system` is "gcj02" (a point read off Amap/Tencent) the point is converted and
    `coord_system` stays "gcj02" to remember how it was entered. Calling it again on stored
    data would shift the point a second time, so stored records never go through it.
    Numbers given as text ("31.2") are converted too; anything unparsable is left for
    validation to report.
    """
    out = dict(data)
    system = out.get("coord_system")
    if system is None or str(system).strip() == "":
        return out
    from fieldapp.domain.choices import COORD_SYSTEM

    code = COORD_SYSTEM.parse(str(system)) or str(system)
    out["coord_system"] = code
    try:
        lat, lng = float(out.get("lat")), float(out.get("lng"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return out
    if code == "gcj02" and math.isfinite(lat) and math.isfinite(lng):
        lat, lng = gcj02_to_wgs84(lat, lng)
        out["lat"], out["lng"] = round(lat, 7), round(lng, 7)
    return out
