"""The bucketed search finds exactly what an all-pairs search finds, for any radii and points."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldapp.domain import norms as N
from fieldapp.domain.coverage import SCENE_CODES, FacilityIn, GridIn, SiteIn, analyse
from fieldapp.domain.geo import haversine_m
from tests.conftest import examples

BASE = N.load()
coords = st.tuples(st.floats(31.0, 31.04), st.floats(121.3, 121.345))
radii = st.fixed_dictionaries({s: st.integers(50, 3000) for s in SCENE_CODES})
scenes = st.lists(st.sampled_from(SCENE_CODES), min_size=1, max_size=3, unique=True)


@settings(max_examples=examples(60), deadline=None)
@given(radius=radii, grid_points=st.lists(coords, min_size=1, max_size=12),
       facility_points=st.lists(st.tuples(coords, scenes), max_size=40),
       site_points=st.lists(st.tuples(coords, scenes), max_size=25))
def test_buckets_agree_with_all_pairs(radius, grid_points, facility_points, site_points):
    norms = replace(BASE, radius_m={k: float(v) for k, v in radius.items()})
    grids = [GridIn(f"G{i}", lat=lat, lng=lng) for i, (lat, lng) in enumerate(grid_points)]
    facilities = [FacilityIn(f"F{i}", "X", tuple(fns), 100.0, "single", lat, lng)
                  for i, ((lat, lng), fns) in enumerate(facility_points)]
    sites = [SiteIn(f"S{i}", "X", tuple(fns), 400.0, 1, "full", "present", "agreed", "agreed",
                    "good", "good", "approved", lat, lng)
             for i, ((lat, lng), fns) in enumerate(site_points)]
    result = analyse(grids, facilities, sites, norms)
    for i, g in enumerate(result.grids):
        lat, lng = g.grid.lat, g.grid.lng
        expected = {s for f in facilities for s in f.scenes
                    if haversine_m(lat, lng, f.lat, f.lng) <= norms.radius(s)}
        assert set(g.covered) == expected
        for scene, (fid, metres) in g.covered.items():  # the nearest one is named
            nearest = min(haversine_m(lat, lng, f.lat, f.lng) for f in facilities
                          if scene in f.scenes)
            assert metres == pytest.approx(nearest, abs=0.01)
            chosen = next(f for f in facilities if f.id == fid)
            assert haversine_m(lat, lng, chosen.lat, chosen.lng) == pytest.approx(nearest,
                                                                                 abs=0.01)
        for scene in SCENE_CODES:
            near = {f.id for f, _ in result.nearest(g.grid.code, scene)}
            assert near == {f.id for f in facilities if scene in f.scenes and
                            haversine_m(lat, lng, f.lat, f.lng) <= norms.radius(scene)}
        scene = SCENE_CODES[i % len(SCENE_CODES)]
        found = {c.site.id for c in result.candidates(g.grid.code, scene, include_excluded=True)}
        assert found == {s.id for s in sites if scene in s.candidate_functions and
                         haversine_m(lat, lng, s.lat, s.lng) <= norms.radius(scene)}
