"""Grid outlines: a GeoJSON file read and checked (WGS-84, or GCJ-02 converted on load),
loaded on the registry by `fieldapp admin load-areas`, pulled by laptops, drawn on the map."""

from __future__ import annotations

import json

import pytest

from fieldapp.cli import main
from fieldapp.domain.geo import gcj02_to_wgs84, wgs84_to_gcj02
from fieldapp.domain.grid_shapes import ShapeError, centre, encode, read_geojson, rings_of
from tests.sync_helpers import laptops, registry  # noqa: F401  (fixtures)

GRID = "310104003001G01"  # a demo grid (天平路第一1号网格)


def square(lat: float, lng: float, half: float = 0.001) -> list[list[float]]:
    return [[lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half],
            [lng - half, lat + half], [lng - half, lat - half]]


def feature(code, ring, key="code", multi=False) -> dict:
    geometry = ({"type": "MultiPolygon", "coordinates": [[ring]]} if multi
                else {"type": "Polygon", "coordinates": [ring]})
    return {"type": "Feature", "properties": {key: code}, "geometry": geometry}


def collection(*features, **extra) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra},
                      ensure_ascii=False)


def test_polygons_multipolygons_and_code_names():
    text = collection(feature("g1", square(31.2, 121.44)),
                      feature("g2", square(31.21, 121.45), key="网格编码", multi=True))
    shapes = read_geojson(text)
    assert shapes.problems == [] and set(shapes.rings) == {"g1", "g2"}
    ring = shapes.rings["g1"][0]
    assert ring[0] == (31.199, 121.439) and ring[0] == ring[-1]  # (lat, lng), closed
    assert centre(shapes.rings["g1"]) == pytest.approx((31.2, 121.44))
    assert rings_of(encode(shapes.rings["g2"])) == shapes.rings["g2"]
    assert rings_of("not json") == [] and rings_of(None) == []


def test_gcj02_is_converted_once_on_load():
    lat, lng = 31.2, 121.44
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    ring = square(g_lat, g_lng, 0.0)
    ring = [[g_lng - 0.001, g_lat], [g_lng, g_lat + 0.001], [g_lng + 0.001, g_lat],
            [g_lng - 0.001, g_lat]]
    declared = collection(feature("g", ring), crs={"type": "name",
                                                   "properties": {"name": "GCJ-02"}})
    by_option = collection(feature("g", ring))
    for shapes in (read_geojson(declared), read_geojson(by_option, "gcj02")):
        assert shapes.coord_system == "gcj02"
        first = shapes.rings["g"][0][0]
        assert first == pytest.approx(gcj02_to_wgs84(g_lat, g_lng - 0.001), abs=2e-6)
    plain = read_geojson(by_option).rings["g"][0][0]
    assert plain == pytest.approx((g_lat, g_lng - 0.001), abs=2e-6)  # WGS-84 by default


def test_bad_features_are_named_and_bad_files_refused():
    text = collection(
        feature("ok", square(31.2, 121.44)),
        feature("", square(31.2, 121.44)),
        feature("far", square(39.9, 116.4)),  # Beijing
        feature("swapped", [[31.2, 121.44], [31.21, 121.44], [31.21, 121.45], [31.2, 121.44]]),
        {"type": "Feature", "properties": {"code": "pt"},
         "geometry": {"type": "Point", "coordinates": [121.44, 31.2]}},
        feature("ok", square(31.2, 121.44)),
    )
    problems = read_geojson(text).problems
    assert len(problems) == 5
    assert "feature 2" in problems[0] and "no grid code" in problems[0]
    assert "outside Shanghai" in problems[1] and "lng, lat order" in problems[2]
    assert "Polygon or MultiPolygon" in problems[3] and "appears twice" in problems[4]
    with pytest.raises(ShapeError, match="not a JSON"):
        read_geojson("{nope")
    with pytest.raises(ShapeError, match="FeatureCollection"):
        read_geojson('{"type": "Polygon"}')


def test_loaded_on_the_registry_pulled_by_laptops_and_drawn(registry, laptops, tmp_path,
                                                             capsys):
    worker = laptops("worker")
    assert worker.sync().ok
    lat, lng = worker.store.conn.execute("SELECT lat, lng FROM area WHERE code = ?",
                                         (GRID,)).fetchone()
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    path = tmp_path / "grids.geojson"
    path.write_text(collection(feature(GRID, square(g_lat, g_lng))), encoding="utf-8")
    url = registry.database_url
    bad = tmp_path / "bad.geojson"
    bad.write_text(collection(feature("nosuchgrid", square(31.2, 121.44))), encoding="utf-8")
    assert main(["admin", "--database-url", url, "load-areas", str(bad)]) == 1
    assert "no such grid" in capsys.readouterr().err
    assert main(["admin", "--database-url", url, "load-areas", str(path), "--coords",
                 "gcj02"]) == 0
    assert "GCJ-02 → WGS-84" in capsys.readouterr().out

    report = worker.sync()
    assert report.ok, report.errors
    raw = worker.store.conn.execute("SELECT boundary FROM area WHERE code = ?",
                                    (GRID,)).fetchone()[0]
    rings = rings_of(raw)
    assert centre(rings) == pytest.approx((lat, lng), abs=2e-5)  # converted to WGS-84

    from fieldapp.ui.screens.map import _boundaries

    assert list(_boundaries(worker.store, None)) == [GRID]
    assert _boundaries(worker.store, {"elsewhere"}) == {}
