"""Coverage: what ready assets reach within a time, and the places out of reach."""
from __future__ import annotations

import pytest

from alerts.core.coverage import Places, coverage
from tests.conftest import ROOT
from tests.conftest import make_asset as asset


def test_ast005_coverage_gaps_on_a_known_layout():
    places = Places.from_points(["near", "edge-in", "far", "other"], ["RS", "RS", "RS", "BG"],
                                [20.0, 20.0, 20.0, 23.0], [44.0, 44.40, 45.5, 42.7])
    helo = asset("h", 44.0, 20.0, type_="utility_helicopter", capabilities=["medevac"], speed_kmh=100)
    slow = asset("s", 42.7, 23.0, type_="medical_team", capabilities=["medevac"], status="committed")
    # 30 min at 100 km/h = 50 km: "edge-in" is 44.5 km north, "far" 167 km, the BG place's only asset is committed.
    result = coverage([helo, slow], "medevac", 30, places)
    assert result.assets == ["h"] and result.covered == 2
    assert [g["name"] for g in result.gaps] == ["far", "other"]
    minx, miny, maxx, maxy = result.area.bounds
    assert maxy - 44.0 == pytest.approx(50 / 111.1, rel=0.02)  # the disc's radius, back in degrees of latitude
    assert [g["name"] for g in coverage([helo], "medevac", 120, places).gaps] == ["other"]
    assert len(coverage([helo], "cbrn", 120, places).gaps) == 4
    real = Places.from_assets(ROOT / "assets")
    assert len(real.names) > 100 and set(real.countries) <= {"AL", "BA", "BG", "HR", "GR", "XK", "ME", "MK",
                                                              "RO", "RS", "SI"}
