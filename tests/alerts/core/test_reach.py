"""Which assets can reach an incident: vessels only near the sea, ground units only on their landmass."""
from __future__ import annotations

import numpy as np
import pytest

from alerts.core.reach import Domain, Reach
from alerts.core.suitability import AssetTable, suggest
from tests.conftest import make_asset as asset

BELGRADE, SPLIT, DUBROVNIK, SARAJEVO = (44.82, 20.46), (43.51, 16.44), (42.645, 18.09), (43.86, 18.41)
BARI, DURRES, TIRANA = (41.12, 16.87), (41.32, 19.45), (41.33, 19.82)
ATHENS, HERAKLION = (37.98, 23.73), (35.34, 25.13)
ISTANBUL_ASIA, ISTANBUL_EUROPE = (40.99, 29.03), (41.01, 28.97)
RIJEKA, KRK = (45.33, 14.44), (45.03, 14.57)
OFF_SPLIT = (43.40, 16.10)  # at sea, a few km off Šolta
THESSALONIKI, IZMIR = (40.64, 22.94), (38.42, 27.14)


@pytest.fixture(scope="module")
def reach() -> Reach:
    return Reach.from_boundaries()


def _reaches(reach: Reach, domain: Domain, asset_at, incident_at) -> bool:
    (alat, alon), (ilat, ilon) = asset_at, incident_at
    return bool(reach.reachable(np.array([domain.value]), np.array([alon]), np.array([alat]), ilon, ilat)[0])


@pytest.mark.parametrize("asset_at, incident_at, expected", [
    (TIRANA, DURRES, True),
    (BARI, DURRES, False),            # across the Strait of Otranto
    (ATHENS, HERAKLION, False),       # Crete is an island
    (ISTANBUL_ASIA, ISTANBUL_EUROPE, True),  # the Bosphorus is bridged
    (THESSALONIKI, IZMIR, False),     # only by a long detour around the Aegean
    (RIJEKA, KRK, True),              # Krk is bridged
    (SARAJEVO, BELGRADE, True),
    (SPLIT, OFF_SPLIT, True),         # a few km offshore: a quay, a beach
    (SPLIT, (42.0, 17.0), False),     # the open Adriatic
])
def test_rea001_ground_units_cross_no_open_sea(reach, asset_at, incident_at, expected):
    assert _reaches(reach, Domain.GROUND, asset_at, incident_at) is expected


@pytest.mark.parametrize("incident_at, expected", [
    (OFF_SPLIT, True), (DUBROVNIK, True), ((42.0, 17.0), True),
    (BELGRADE, False), (SARAJEVO, False),
])
def test_rea002_vessels_reach_only_the_sea_and_the_coast(reach, incident_at, expected):
    assert _reaches(reach, Domain.SEA, SPLIT, incident_at) is expected


def test_rea003_aircraft_reach_everywhere(reach):
    for incident_at in (BELGRADE, HERAKLION, (42.0, 17.0)):
        assert _reaches(reach, Domain.AIR, BARI, incident_at)


def test_rea004_an_inland_incident_gets_the_quickest_reachable_assets_first(reach):
    """The field report: an inland incident was offered a coast-guard vessel 240 min away,
    and a helicopter 28 min away was ranked third behind nearer, slower units."""
    lat, lon = SARAJEVO
    assets = [
        asset("vessel", *SPLIT, type_="coast_guard_vessel", capabilities=["medevac"]),
        asset("helo", *BELGRADE, type_="utility_helicopter", speed_kmh=450),
        asset("team-near", 44.30, 18.40, speed_kmh=30),
        asset("team-far", 43.34, 17.81, speed_kmh=60),
        asset("team-crete", *HERAKLION),
    ]
    found = suggest(AssetTable(assets), "mass_casualty", lon, lat, "RS", reach=reach)
    assert [s["asset"].id for s in found] == ["helo", "team-far", "team-near"]
    etas = [s["eta_minutes"] for s in found]
    assert etas == sorted(etas)
    assert etas[0] == pytest.approx(found[0]["distance_km"] / 450 * 60)
    # Without a reach every asset counts, still quickest first.
    assert {s["asset"].id for s in suggest(AssetTable(assets), "mass_casualty", lon, lat, "RS")} == {
        a.id for a in assets}
