"""Grid cells of the live map's aggregate view (``layers.binning``) and what the map draws (``layers.cells``)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alerts.core.index import AlertIndex
from alerts.core.query import AlertQuery
from layers.assets import asset_traces
from layers.basemap import REGION_CENTRE, REGION_ZOOM, map_figure
from layers.binning import cell_degrees, grid_cells, in_bounds, view_bounds
from layers.cells import OPENING_VIEW, MapView, cell_trace, drawn, parse_view, widened
from layers.coverage import coverage_traces
from layers.incidents import CLOSED_COLOUR, SEVERITY_COLOURS, incident_traces
from layers.traces import INCIDENT_CELLS, MAP_TRACES


def test_bin001_cells_count_their_points_and_keep_the_worst_rank():
    size = cell_degrees(4)
    lon = np.array([20.0, 20.5, 21.0, 20.0 + size, np.nan])  # cells of zoom 4: 19.6875..22.5, 39.375..42.1875
    lat = np.array([41.0, 41.5, 41.2, 41.0, 41.0])
    rank = np.array([0, 3, 1, 2, 3])
    cells = grid_cells(lon, lat, rank, 4.6)
    assert len(cells) == 2 and cells.size == size
    by_count = sorted(zip(cells.count.tolist(), cells.worst.tolist(), cells.lon.tolist()))
    assert [(c, w) for c, w, _ in by_count] == [(1, 2), (3, 3)]  # the NaN point is left out
    assert by_count[1][2] == pytest.approx(20.5)  # drawn at its points' mean


def test_bin002_cells_halve_with_each_zoom_level_and_fixed_on_the_world_grid():
    assert cell_degrees(0) == 45.0 and cell_degrees(4.99) == cell_degrees(4) == 2.8125
    assert cell_degrees(5) == cell_degrees(4) / 2
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(19, 23, 5000), rng.uniform(40, 44, 5000)
    rank = rng.integers(0, 4, 5000)
    coarse, fine = grid_cells(lon, lat, rank, 4), grid_cells(lon, lat, rank, 8)
    assert coarse.count.sum() == fine.count.sum() == 5000
    assert len(fine) > 4 * len(coarse)
    again = grid_cells(lon[::-1], lat[::-1], rank[::-1], 4)  # same cells whatever the order
    assert np.array_equal(again.count, coarse.count) and np.array_equal(again.worst, coarse.worst)


def test_bin003_lengths_must_agree():
    with pytest.raises(ValueError, match="differ in length"):
        grid_cells(np.zeros(3), np.zeros(2), np.zeros(3, dtype=int), 4)


def test_bin004_bounds_and_views():
    lon, lat = np.array([10.0, 25.0, 179.5, -179.5, np.nan]), np.array([45.0, 45.0, 0.0, 0.0, 45.0])
    assert in_bounds(lon, lat, (0, 40, 20, 50)).tolist() == [True, False, False, False, False]
    assert in_bounds(lon, lat, (179, -1, -179, 1)).tolist() == [False, False, True, True, False]  # antimeridian
    west, south, east, north = view_bounds(21.0, 42.0, 6, 1024, 768)
    assert east - west == pytest.approx(1024 * 360 / (512 * 64))
    assert south < 42.0 < north and north - 42.0 < 42.0 - south  # Mercator: less latitude north of the centre
    assert view_bounds(0, 0, 0, 4000, 4000)[0::2] == (-180.0, 180.0)
    assert widened((10, 40, 20, 50)) == (5.0, 35.0, 25.0, 55.0)
    assert widened((-100, -80, 100, 80))[0::2] == (-180.0, 180.0)


def test_bin005_the_view_store_is_read_or_refused():
    assert parse_view({"zoom": 7, "bounds": [20, 41, 22, 43]}) == MapView(7.0, (20.0, 41.0, 22.0, 43.0))
    seen = parse_view({"zoom": 7, "center": {"lon": 21, "lat": 42}, "bounds": [20, 41, 22, 43]})
    assert seen.centre == {"lon": 21.0, "lat": 42.0}
    traces = incident_traces(AlertIndex().select(AlertQuery())) + asset_traces([]) + coverage_traces(None)
    kept = map_figure(traces, "/assets/", centre=seen.centre, zoom=seen.zoom)["layout"]["map"]
    assert (kept["center"], kept["zoom"]) == ({"lon": 21.0, "lat": 42.0}, 7.0)  # a rebuild keeps the view
    opening = map_figure(traces, "/assets/")["layout"]["map"]
    assert (opening["center"], opening["zoom"]) == (REGION_CENTRE, REGION_ZOOM)
    around = parse_view({"zoom": 7, "center": {"lon": 21, "lat": 42}, "bounds": None})
    assert around.bounds[0] < 21 < around.bounds[2] and around.bounds[1] < 42 < around.bounds[3]
    assert parse_view({"zoom": 0.5, "bounds": [-300, -80, 300, 80]}).bounds == (-180.0, -80.0, 180.0, 80.0)
    assert parse_view({"zoom": 6, "bounds": [170, -5, 190, 5]}).bounds == (170.0, -5.0, -170.0, 5.0)
    for bad in (None, {}, {"zoom": "x", "bounds": [0, 0, 1, 1]}, {"zoom": 3, "bounds": [0, 5, 1, 1]},
                {"zoom": float("nan"), "bounds": [0, 0, 1, 1]}, {"zoom": 3}):
        assert parse_view(bad) is None


def _rows(lon, lat, severity="high", open_=True, exercise=False) -> pd.DataFrame:
    n = len(lon)
    return pd.DataFrame({"id": [f"a{i}" for i in range(n)], "lon": lon, "lat": lat,
                         "severity": [severity] * n if isinstance(severity, str) else severity,
                         "open": [open_] * n if isinstance(open_, bool) else open_,
                         "exercise": [exercise] * n if isinstance(exercise, bool) else exercise})


def test_bin006_points_up_to_the_limit_then_the_view_then_cells():
    rng = np.random.default_rng(2)
    lon, lat = rng.uniform(14, 29, 300), rng.uniform(35, 48, 300)
    lon[:5], lat[:5] = np.nan, np.nan  # unlocated: never drawn, never counted
    rows = _rows(lon, lat)
    everything = drawn(rows, None, 295)
    assert len(everything.points) == 295 and everything.cells is None and not everything.partial
    cells = drawn(rows, None, 100)
    assert cells.cells is not None and len(cells.points) == 0 and cells.partial
    assert cells.cells.count.sum() == 295  # the opening view (widened) holds them all
    close = MapView(7, (20.0, 41.0, 22.0, 43.0))
    near = drawn(rows, close, 100)
    assert near.cells is None and near.partial and 0 < len(near.points) <= 100
    assert set(near.points["id"]) == set(rows["id"][in_bounds(lon, lat, widened(close.bounds))])


def test_bin007_a_cell_is_coloured_by_its_worst_open_severity_and_labelled_with_its_count():
    rows = _rows([21.0, 21.01, 21.02, 25.0, 25.01], [42.0, 42.0, 42.0, 44.0, 44.0],
                 ["low", "critical", "medium", "critical", "high"], [True, False, True, False, False])
    trace = cell_trace(drawn(rows, OPENING_VIEW, 1).cells)
    assert trace["name"] == MAP_TRACES[INCIDENT_CELLS] and trace["mode"] == "markers+text"
    by_text = dict(zip(trace["text"], trace["marker"]["color"]))
    assert by_text == {"3": SEVERITY_COLOURS["medium"], "2": CLOSED_COLOUR}  # the closed critical does not count
    assert trace["customdata"] == ["cell-0", "cell-1"]
    assert "MEDIUM" in trace["hovertext"][trace["text"].index("3")]


def test_bin008_the_incident_traces_carry_the_cells_below_the_points():
    rows = _rows([21.0], [42.0]).assign(type="cyber", exercise=False, title="t", country="MK", region="",
                                        reported_at=pd.Timestamp("2026-01-01", tz="UTC"), status="new",
                                        escalation=0)
    cells = cell_trace(drawn(rows, OPENING_VIEW, 0).cells)
    traces = incident_traces(rows.iloc[:0], cells)
    assert traces[0] is cells and [t["name"] for t in traces][0] == "incidents cells"
    assert incident_traces(rows)[0]["lon"] == []  # no cells given: an empty cells trace


def test_bin010_a_cell_at_the_antimeridian_stays_there():
    """Breaker: 180 and -180 fell in one cell whose plain mean put it at longitude 0 (the Gulf of Guinea)."""
    lon = np.array([180.0, -180.0, -179.9, -179.8])  # one column of the grid (it starts at -180)
    cells = grid_cells(lon, np.full(4, -17.0), np.zeros(4, dtype=int), 4)
    assert len(cells) == 1 and abs(abs(float(cells.lon[0])) - 180.0) < 0.1


def test_bin011_exercise_incidents_never_share_a_cell_with_real_ones_and_carry_the_exercise_mark():
    """Breaker: one critical exercise incident turned a cell of 46 real medium ones red, and no cell said
    EXERCISE. Exercise and real incidents are counted apart; an exercise cell has the EXERCISE circle under it
    and EXERCISE in its hover; a real cell's colour comes from real incidents alone."""
    from layers.incidents import EXERCISE_HALO

    lon, lat = np.full(47, 19.9), np.full(47, 41.3)
    severity = ["medium"] * 46 + ["critical"]
    exercise = [False] * 46 + [True]
    rows = _rows(lon, lat, severity=severity, exercise=exercise)
    cells = drawn(rows, MapView(7, (19, 41, 21, 42)), limit=10).cells
    assert sorted(cells.count.tolist()) == [1, 46] and sorted(cells.group.tolist()) == [0, 1]
    trace = cell_trace(cells)
    real = [i for i, t in enumerate(trace["text"]) if t == "46"][0]
    played = [i for i, t in enumerate(trace["text"]) if t == "1"][0]
    assert trace["marker"]["color"][real] == SEVERITY_COLOURS["medium"]
    assert "EXERCISE" in trace["hovertext"][played] and "EXERCISE" not in trace["hovertext"][real]
    halo = [i for i, c in enumerate(trace["marker"]["color"]) if c == EXERCISE_HALO]
    assert len(halo) == 1 and halo[0] < played  # drawn first, under the cell
    assert trace["customdata"][halo[0]] == trace["customdata"][played]  # picked as the cell
    assert trace["marker"]["size"][halo[0]] > trace["marker"]["size"][played]


def test_bin012_a_view_claiming_a_deep_zoom_over_the_whole_world_gets_coarse_cells():
    """Breaker: a crafted view (zoom 22, the whole world's bounds) got one cell per incident: the payload
    aggregation exists to prevent. The cells follow the bounds' width, not the claim."""
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(-180, 180, 5000), rng.uniform(-80, 80, 5000)
    cells = drawn(_rows(lon, lat), MapView(22, (-180, -85, 180, 85)), limit=100).cells
    assert len(cells) <= 40 * 25
