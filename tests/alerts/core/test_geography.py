"""RegionIndex: points and areas land in the right country (ISO2, Kosovo XK) and region.

Expected answers come from the shipped data and an ISO3 -> ISO2 table written
out here, never from the code under test.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import shapely.geometry
import shapely.ops
from pyproj import Geod, Transformer

from tests.conftest import ROOT

GEO = ROOT / "assets" / "geo"

#: Written out independently of alerts.core.geography (Kosovo has no ISO code; XK by convention).
ISO2_BY_ADM0_A3 = {
    "ALB": "AL",
    "BIH": "BA",
    "BGR": "BG",
    "HRV": "HR",
    "GRC": "GR",
    "KOS": "XK",
    "MNE": "ME",
    "MKD": "MK",
    "ROU": "RO",
    "SRB": "RS",
    "SVN": "SI",
}


def _features(name: str) -> list[dict]:
    with (GEO / name).open(encoding="utf-8") as handle:
        return json.load(handle)["features"]


def _core_capitals() -> list[tuple[str, str, float, float]]:
    capitals = []
    for feature in _features("populated_places_ne10m.geojson"):
        props = feature["properties"]
        if props.get("adm0cap") is True and props.get("role") == "core":
            lon, lat = feature["geometry"]["coordinates"]
            capitals.append((props["name"], props["adm0_a3"], lon, lat))
    return sorted(capitals)


CAPITALS = _core_capitals()


def place(regions, lon: float, lat: float):
    return regions.place_points(np.array([lon]), np.array([lat]))[0]


def test_geo001_data_file_has_one_core_capital_per_country():
    assert sorted(a3 for _, a3, _, _ in CAPITALS) == sorted(ISO2_BY_ADM0_A3)


@pytest.mark.parametrize(("name", "adm0_a3", "lon", "lat"), CAPITALS, ids=[c[0] for c in CAPITALS])
def test_geo002_capital_lands_in_its_country(regions, name, adm0_a3, lon, lat):
    placement = place(regions, lon, lat)
    expected = ISO2_BY_ADM0_A3[adm0_a3]
    assert placement.country == expected, f"{name} placed in {placement.country}"
    assert placement.countries == [expected]
    assert placement.offshore_km is None  # a capital is on land
    assert placement.regions and all(r.country == expected for r in placement.regions)


def test_geo003_batch_of_capitals_matches_one_by_one(regions):
    lons = np.array([c[2] for c in CAPITALS])
    lats = np.array([c[3] for c in CAPITALS])
    batch = regions.place_points(lons, lats)
    assert [p.country for p in batch] == [ISO2_BY_ADM0_A3[c[1]] for c in CAPITALS]
    assert regions.place_points(np.array([]), np.array([])) == []


def test_geo004_pristina_is_kosovo_xk(regions):
    (name, _, lon, lat), = [c for c in CAPITALS if c[1] == "KOS"]
    placement = place(regions, lon, lat)
    assert placement.country == "XK"
    assert placement.country_name == "Kosovo"


def test_geo005_belgrade_is_in_region_rs00(regions):
    (_, _, lon, lat), = [c for c in CAPITALS if c[1] == "SRB"]
    placement = place(regions, lon, lat)
    assert placement.country == "RS"
    assert [r.code for r in placement.regions] == ["RS-00"]
    assert placement.regions[0].name == "Belgrade"
    assert placement.regions[0].country == "RS"


def test_geo006_point_off_the_albanian_coast_is_albania_offshore(regions):
    # About 6 km west of the coast at Durrës, in the Adriatic.
    lon, lat = 19.35, 41.30
    albania = shapely.geometry.shape(
        next(f for f in _features("admin0_ne10m.geojson") if f["properties"]["adm0_a3"] == "ALB")["geometry"]
    )
    point = shapely.geometry.Point(lon, lat)
    assert not albania.contains(point)  # the premise: it is at sea
    nearest = shapely.ops.nearest_points(albania, point)[0]
    coast_km = Geod(ellps="WGS84").inv(lon, lat, nearest.x, nearest.y)[2] / 1000

    placement = place(regions, lon, lat)
    assert placement.country == "AL"
    assert placement.countries == ["AL"]
    assert placement.offshore_km is not None
    assert 0 < placement.offshore_km < 25
    assert placement.offshore_km == pytest.approx(coast_km, abs=1.5)


@pytest.mark.parametrize(("lon", "lat"), [(18.0, 36.0), (17.0, 38.5), (19.0, 39.5)], ids=["ionian", "off-calabria", "otranto-south"])
def test_geo007_open_sea_far_from_land_has_no_country(regions, lon, lat):
    placement = place(regions, lon, lat)
    assert placement.country is None
    assert placement.countries == []
    assert placement.regions == []
    assert placement.offshore_km is None


def test_geo008_area_across_mk_xk_al_reports_all_three_largest_first(regions):
    box = shapely.geometry.box(20.4, 41.7, 21.4, 42.4)
    # Independent shares, in an equal-area projection.
    laea = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)

    def to_laea(geometry):
        return shapely.transform(geometry, lambda xy: np.column_stack(laea.transform(xy[:, 0], xy[:, 1])))

    box_m = to_laea(box)
    shares = {}
    for feature in _features("admin0_ne10m.geojson"):
        country = to_laea(shapely.geometry.shape(feature["geometry"]))
        if country.intersects(box_m):
            shares[feature["properties"]["iso_a2"]] = country.intersection(box_m).area
    assert set(shares) == {"MK", "XK", "AL"}  # the premise
    largest = max(shares, key=shares.get)

    placement = regions.place_area(box)
    assert set(placement.countries) == {"MK", "XK", "AL"}
    assert len(placement.countries) == 3
    assert placement.country == largest
    assert placement.countries[0] == largest
    assert placement.countries == sorted(shares, key=shares.get, reverse=True)
    assert {r.country for r in placement.regions} == {"MK", "XK", "AL"}


def test_geo009_area_in_one_country_and_area_at_sea(regions):
    inside = regions.place_area(shapely.geometry.box(20.40, 44.75, 20.50, 44.85))  # central Belgrade
    assert inside.country == "RS" and inside.countries == ["RS"]
    assert "RS-00" in [r.code for r in inside.regions]
    at_sea = regions.place_area(shapely.geometry.box(17.5, 35.5, 18.5, 36.5))
    assert at_sea.country is None and at_sea.countries == [] and at_sea.regions == []


def test_geo010_area_far_from_europe_has_no_country(regions):
    # Near the antipode of the index's metric projection (EPSG:3035, centred 10E 52N).
    for box in [(-171.0, -53.0, -169.0, -51.0), (-175.0, -57.0, -165.0, -47.0)]:
        placement = regions.place_area(shapely.geometry.box(*box))
        assert placement.countries == [], f"{box} placed in {placement.countries}"
        assert placement.country is None


def test_geo011_area_covering_the_whole_map_touches_every_country_largest_first(regions):
    countries = {
        f["properties"]["iso_a2"]: shapely.geometry.shape(f["geometry"]) for f in _features("admin0_ne10m.geojson")
    }
    geod = Geod(ellps="WGS84")
    largest = max(countries, key=lambda c: abs(geod.geometry_area_perimeter(countries[c])[0]))
    placement = regions.place_area(shapely.geometry.box(-180.0, -90.0, 180.0, 90.0))
    assert set(placement.countries) == set(countries)
    assert placement.country == largest


def test_geo012_offshore_points_get_the_country_and_distance_of_a_search_over_whole_polygons(regions):
    """Offshore placement searches the coast's edges (fast), and must answer exactly as the plain nearest search over
    the simplified country polygons: near every coast, on its vertices (ties where a border meets the sea), and
    inside a simplified polygon but outside the country."""
    from alerts.core.geography import OFFSHORE_METRES

    polygons = regions._coasts.polygons
    plain = shapely.STRtree(np.array([shapely.from_wkb(shapely.to_wkb(p)) for p in polygons]))
    rng = np.random.default_rng(2026)
    vertices = shapely.get_coordinates(polygons)
    picked = vertices[rng.integers(0, len(vertices), 20_000)]
    offsets = rng.uniform(-30_000, 30_000, picked.shape) * rng.random(picked.shape) ** 3
    offsets[:500] = 0  # on a vertex of the simplified coast
    points = shapely.points(picked + offsets)
    outside = np.ones(len(points), dtype=bool)
    outside[regions._country_tree.query(points, predicate="intersects")[0]] = False
    points = points[outside]

    expected, expected_m = plain.query_nearest(points, max_distance=OFFSHORE_METRES, return_distance=True,
                                               all_matches=False)
    found, found_m = regions._coasts.nearest(points, OFFSHORE_METRES)
    assert len(points) > 5_000 and np.array_equal(found, expected) and np.array_equal(found_m, expected_m)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_geo013_a_point_equally_near_two_countries_gets_the_one_the_plain_search_gives(order):
    from alerts.core.geography import _Coasts

    squares = [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(0, 10, 10, 20)]
    polygons = np.array([squares[i] for i in order])
    points = shapely.points([(10, 15), (15, 15), (10, 11), (-3, 10), (25, 25), (5, 5)])
    expected, expected_m = shapely.STRtree(polygons).query_nearest(points, max_distance=8.0, return_distance=True,
                                                                   all_matches=False)
    found, found_m = _Coasts(polygons.copy()).nearest(points, 8.0)
    assert np.array_equal(found, expected) and np.array_equal(found_m, expected_m)
