"""Suitable assets for an incident, quickest first, as each nation may see them."""
from __future__ import annotations

import math

import pytest

from alerts.core.suitability import AssetTable, suggest
from tests.conftest import make_asset as asset


def haversine_km(lat1, lon1, lat2, lon2, r=6371.0088) -> float:
    """Great-circle distance on a sphere of the mean Earth radius (an independent check of the ellipsoid)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def test_ast003_eta_ranking_matches_an_independent_geodesic_computation():
    incident = (44.0, 20.0)  # lat, lon
    layout = [("a", 44.5, 20.0), ("b", 44.0, 21.2), ("c", 43.1, 19.0), ("d", 44.05, 20.05), ("e", 45.9, 22.0)]
    assets = [asset(i, lat, lon, speed_kmh=50 + 10 * n) for n, (i, lat, lon) in enumerate(layout)]
    assets.append(asset("unsuitable", 44.0, 20.01, type_="cyber_response_team"))
    assets.append(asset("busy", 44.0, 20.02, status="maintenance"))
    found = suggest(AssetTable(assets), "mass_casualty", incident[1], incident[0], "RS", limit=10)
    speed = {i: 50 + 10 * n for n, (i, _, _) in enumerate(layout)}
    expected = sorted(layout, key=lambda t: haversine_km(*incident, t[1], t[2]) / speed[t[0]])
    assert [s["asset"].id for s in found] == [t[0] for t in expected]
    for s in found:
        km = haversine_km(*incident, s["asset"].position.lat, s["asset"].position.lon)
        assert s["distance_km"] == pytest.approx(km, rel=0.006)  # ellipsoid vs sphere
        assert s["eta_minutes"] == pytest.approx(s["distance_km"] / s["asset"].speed_kmh * 60)
    assert [s["asset"].id for s in suggest(AssetTable(assets), "mass_casualty", 20.0, 44.0, "RS", 2)] == ["d", "a"]


def test_ast004_suggestions_respect_releasability_for_three_nations():
    assets = [asset("rs-own", 44.0, 20.1, nation="RS", releasable_to=None),
              asset("gr-shared", 44.1, 20.1, nation="GR", releasable_to=["GR", "RS"]),
              asset("hr-all", 44.2, 20.1, nation="HR", releasable_to=["ALL"])]
    table = AssetTable(assets)
    ids = lambda nation: [s["asset"].id for s in suggest(table, "hazmat", 20.0, 44.0, nation)]  # noqa: E731
    assert ids("RS") == ["rs-own", "gr-shared", "hr-all"]
    assert ids("GR") == ["gr-shared", "hr-all"]
    assert ids("HR") == ["hr-all"]
