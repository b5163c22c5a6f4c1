"""The map's layers: one trace order, one style rule for built and live points, unlocated alerts never drawn."""
from __future__ import annotations

import base64
from datetime import UTC, datetime

import numpy as np
import pytest

from alerts.core.index import AlertIndex
from alerts.core.model import Alert, Placement, Status, StoredAlert
from alerts.core.query import AlertQuery
from layers.assets import asset_traces
from layers.basemap import map_figure
from layers.coverage import coverage_traces
from layers.incidents import (
    CLOSED_COLOUR,
    CORE_SIZE,
    EXERCISE_HALO,
    SEVERITY_COLOURS,
    exercise_style,
    incident_traces,
    live_point,
)
from layers.traces import (
    ASSET_DOT,
    ASSET_RING,
    HIT_LAYERS,
    INCIDENT_CELLS,
    INCIDENT_CORE,
    INCIDENT_HALO,
    INCIDENT_RING,
    LIVE_CORE,
    LIVE_HALO,
    LIVE_RING,
    MAP_TRACES,
    in_order,
)
from tests.conftest import make_alert


def stored(status=Status.NEW, located=True, **fields) -> StoredAlert:
    alert = Alert.model_validate(make_alert(**fields))
    point = alert.point() if located else None
    return StoredAlert(alert=alert, placement=Placement(), received_at=datetime.now(UTC), status=status,
                       lon=point[0] if point else None, lat=point[1] if point else None)


def decoded(typed: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(typed["bdata"]), dtype=np.float32)


def test_lay001_the_figure_holds_every_trace_in_the_one_order():
    traces = incident_traces(AlertIndex().select(AlertQuery())) + asset_traces([]) + coverage_traces(None)
    figure = map_figure(traces, "/assets/")
    assert tuple(t["name"] for t in figure["data"]) == MAP_TRACES
    assert in_order(list(reversed(traces))) == [{k: v for k, v in t.items() if k != "uid"} for t in figure["data"]]
    # each trace's uid is its name: the browser names its MapLibre layers by it (assets/map_layers.js)
    assert [t["uid"] for t in figure["data"]] == [name.replace(" ", "-") for name in MAP_TRACES]
    with pytest.raises(ValueError, match="missing"):
        in_order(traces[1:])
    with pytest.raises(ValueError, match="twice"):
        in_order(traces + traces[:1])


def test_lay003_incidents_are_drawn_above_assets_and_every_core_above_every_ring():
    """Field report: an asset within 0-2 px of most incidents was drawn on top of it."""
    assert max(ASSET_RING, ASSET_DOT) < min(INCIDENT_HALO, LIVE_HALO)
    assert max(INCIDENT_HALO, LIVE_HALO) < min(INCIDENT_RING, LIVE_RING) < max(INCIDENT_RING, LIVE_RING) \
        < min(INCIDENT_CORE, LIVE_CORE)
    # incidents picked first; a grid cell (layers.cells) only where nothing else is
    assert [kind for kind, _, _ in HIT_LAYERS] == ["incident", "incident", "asset", "cell"]
    assert INCIDENT_CELLS < min(INCIDENT_HALO, LIVE_HALO)  # cells below every incident point
    from layers.assets import DOT_SIZE
    assert DOT_SIZE > CORE_SIZE  # plotly's hover favours the smaller marker: the incident's core must be it


def test_lay002_built_points_and_live_points_follow_one_style_rule():
    """Field report: live exercise alerts were drawn like real ones, and exercises paler than real ones."""
    alerts = [stored(severity="critical"), stored(Status.CANCELLED, severity="critical"),
              stored(exercise=True, severity="low"), stored(located=False, title="Somewhere")]
    index = AlertIndex()
    index.load(alerts, "0-0")
    traces = incident_traces(index.select(AlertQuery()))
    core, ring, halo = (traces[i - INCIDENT_CELLS] for i in (INCIDENT_CORE, INCIDENT_RING, INCIDENT_HALO))
    assert len(core["customdata"]) == 3 and alerts[3].id not in core["customdata"]  # unlocated: listed, not drawn
    built = {id_: {"core": c, "opacity": round(float(o), 3), "ring_opacity": round(float(r), 3), "halo": h,
                   "halo_opacity": round(float(ho), 3)}
             for id_, c, o, r, h, ho in zip(core["customdata"], core["marker"]["color"],
                                             decoded(core["marker"]["opacity"]), decoded(ring["marker"]["opacity"]),
                                             halo["marker"]["color"], decoded(halo["marker"]["opacity"]))}
    for alert in alerts[:3]:
        point = live_point(alert)
        assert built[alert.id] == {k: round(v, 3) if isinstance(v, float) else v for k, v in point.items()
                                   if k in built[alert.id]}
    assert built[alerts[0].id]["core"] == SEVERITY_COLOURS["critical"] and built[alerts[1].id]["core"] == CLOSED_COLOUR
    played, real = live_point(alerts[2]), live_point(alerts[0])
    assert played["opacity"] == real["opacity"] and played["ring_opacity"] == real["ring_opacity"]  # never paler
    assert played["halo"] == EXERCISE_HALO and played["halo_opacity"] == 1.0 and real["halo_opacity"] == 0.0
    assert exercise_style(True)["halo_opacity"] == 1.0
    assert live_point(alerts[3])["lon"] is None


def test_lay010_situation_scales_start_at_zero_with_whole_ticks_and_one_is_clearly_coloured():
    """Field report: the scale started at the lowest count present, so countries with open
    incidents looked like zero, and whole counts got fractional ticks."""
    from layers.situation import FIRST_COUNT_COLOUR, choropleth_figure, trend_figure

    trace = choropleth_figure({"RS": 1, "HR": 40, "unplaced": 3}, "/assets", "country")["data"][0]
    assert trace["locations"] == ["RS", "HR"] and trace["zmin"] == 0 and trace["zmax"] == 40
    position_of_one = 1 / 40
    assert [position_of_one, FIRST_COUNT_COLOUR] in trace["colorscale"]
    assert trace["colorscale"][0][1] != FIRST_COUNT_COLOUR
    bar = trace["colorbar"]
    assert bar["tick0"] == 0 and bar["dtick"] == 8 and bar["tickformat"] == "d"
    assert choropleth_figure({"RS": 1}, "/assets", "country")["data"][0]["colorbar"]["dtick"] == 1

    hours = ["2026-11-29T10:00:00+00:00", "2026-11-29T11:00:00+00:00"]
    from layers.incidents import TYPE_COLOURS
    by_type = {t.value: [0, 0] for t in TYPE_COLOURS}
    by_type["hazmat"] = [1, 2]
    by_type["cyber"] = [0, 1]
    yaxis = trend_figure({"hours": hours, "by_type": by_type})["layout"]["yaxis"]
    assert yaxis["dtick"] == 1 and yaxis["tickformat"] == "d" and yaxis["rangemode"] == "tozero"
