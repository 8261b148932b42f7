"""Grid boundaries: reading a GeoJSON file of grid polygons and keeping them compactly.

A district's GIS office hands out its grids as GeoJSON: one Feature per grid, a Polygon or
MultiPolygon, the grid's code in its properties. Coordinates are WGS-84 unless the file says
GCJ-02 (a `crs` name or a `coord_system` property containing "GCJ", or the caller says so, e.g.
a file traced on Amap); GCJ-02 is converted once, here, on load. Kept as JSON text
`[[[lat, lng], …], …]` (rings, 6 decimals ≈ 0.1 m) on the area row and synced to laptops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from fieldapp.domain.geo import gcj02_to_wgs84, in_shanghai

CODE_KEYS = ("code", "grid_code", "gridcode", "网格编码", "网格代码", "编码", "wgbm")
COORD_SYSTEMS = ("wgs84", "gcj02")
MAX_POINTS = 5000  # per grid: a grid is a few streets, not a coastline


class ShapeError(ValueError):
    """The file cannot be read at all (not JSON, not GeoJSON)."""


@dataclass
class Shapes:
    rings: dict[str, list[list[tuple[float, float]]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "feature N (code): reason"
    coord_system: str = "wgs84"


def _declared_system(doc: dict) -> str | None:
    crs = json.dumps(doc.get("crs") or "", ensure_ascii=False).lower()
    declared = str((doc.get("properties") or {}).get("coord_system") or doc.get(
        "coord_system") or "").lower()
    if "gcj" in crs or "gcj" in declared:
        return "gcj02"
    if declared in ("wgs84", "wgs-84", "epsg:4326"):
        return "wgs84"
    return None


def _code_of(feature: dict) -> str:
    props = feature.get("properties") or {}
    lowered = {str(k).strip().lower(): v for k, v in props.items()}
    for key in CODE_KEYS:
        value = lowered.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return str(feature.get("id") or "").strip()


def read_geojson(text: str, coord_system: str | None = None) -> Shapes:
    """Grid rings by code from a FeatureCollection; each bad feature becomes a problem line
    (the caller loads nothing unless there are none)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ShapeError(f"不是 JSON 文件 / not a JSON file: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise ShapeError("不是 GeoJSON 要素集合 / not a GeoJSON FeatureCollection")
    features = doc.get("features") if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise ShapeError("GeoJSON 缺少 features / the GeoJSON has no features")
    if coord_system is not None and coord_system not in COORD_SYSTEMS:
        raise ShapeError(f"坐标系只能是 wgs84 或 gcj02 / coordinates are wgs84 or gcj02: "
                         f"{coord_system}")
    system = coord_system or _declared_system(doc) or "wgs84"
    shapes = Shapes(coord_system=system)
    for n, feature in enumerate(features, start=1):
        code = _code_of(feature) if isinstance(feature, dict) else ""
        where = f"feature {n} ({code or '?'})"
        if not code:
            shapes.problems.append(f"{where}: 没有网格编码属性 / no grid code property "
                                   f"(one of {', '.join(CODE_KEYS[:3])})")
            continue
        try:
            rings = _rings(feature.get("geometry") or {}, system)
        except ValueError as exc:
            shapes.problems.append(f"{where}: {exc}")
            continue
        if code in shapes.rings:
            shapes.problems.append(f"{where}: 网格编码重复 / the grid code appears twice")
            continue
        shapes.rings[code] = rings
    return shapes


def _rings(geometry: dict, system: str) -> list[list[tuple[float, float]]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        raise ValueError(f"几何类型应为 Polygon 或 MultiPolygon / the geometry must be a Polygon "
                         f"or MultiPolygon, not {kind}")
    rings: list[list[tuple[float, float]]] = []
    total = 0
    for polygon in polygons or []:
        for ring in polygon or []:
            points = []
            for pair in ring:
                try:
                    lng, lat = float(pair[0]), float(pair[1])
                except (TypeError, ValueError, IndexError):
                    raise ValueError(f"坐标不是 [经度, 纬度] / a position is not [lng, lat]: "
                                     f"{pair!r}") from None
                if system == "gcj02":
                    lat, lng = gcj02_to_wgs84(lat, lng)
                if not in_shanghai(lat, lng):
                    raise ValueError(f"坐标不在上海 / a point is outside Shanghai: {lng}, {lat} "
                                     f"(lng, lat order?)")
                points.append((round(lat, 6), round(lng, 6)))
            if len(points) < 4:
                raise ValueError("每个环至少 4 个点 / each ring needs at least 4 positions")
            if points[0] != points[-1]:
                points.append(points[0])
            total += len(points)
            rings.append(points)
    if not rings:
        raise ValueError("没有坐标 / no coordinates")
    if total > MAX_POINTS:
        raise ValueError(f"点太多({total}),请先简化 / too many points ({total}); simplify "
                         f"the outline first (≤ {MAX_POINTS})")
    return rings


def encode(rings: list[list[tuple[float, float]]]) -> str:
    return json.dumps([[[lat, lng] for lat, lng in ring] for ring in rings],
                      separators=(",", ":"))


def rings_of(raw: str | None) -> list[list[tuple[float, float]]]:
    """Rings from their stored text; nothing for a missing or damaged value."""
    if not raw:
        return []
    try:
        return [[(float(p[0]), float(p[1])) for p in ring] for ring in json.loads(raw)]
    except (json.JSONDecodeError, TypeError, ValueError, IndexError):
        return []


def centre(rings: list[list[tuple[float, float]]]) -> tuple[float, float]:
    """The centroid of the outer ring (area-weighted), for a grid that has no centre yet."""
    ring = rings[0]
    area = cx = cy = 0.0
    for (y0, x0), (y1, x1) in zip(ring, ring[1:], strict=False):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-12:
        lats, lngs = [p[0] for p in ring], [p[1] for p in ring]
        return sum(lats) / len(lats), sum(lngs) / len(lngs)
    return round(cy / (3 * area), 6), round(cx / (3 * area), 6)
