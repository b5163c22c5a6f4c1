"""Incidents as map traces: the core dot's colour is the severity, the ring's colour the type.

Named marker icons and map text would make MapLibre fetch sprites and glyphs
from the internet, so incidents are drawn as two circles instead: a coloured
ring (type) behind a smaller dot (severity). Exercise incidents are as strong
as real ones (never paler): a third, larger circle behind the ring, the
EXERCISE halo in the colour of the EXERCISE tag (``EXERCISE_HALO``), marks them,
and their hover label starts with EXERCISE. A real incident's halo point is
there but transparent, so the halo, ring and core traces keep one index per
incident.

The incident traces (``layers.traces``: incidents halo, ring and core; live
halo, ring and core) hold the incidents present when the figure was built
(NumPy arrays, sent as typed arrays); the live ones start empty and receive
live additions through partial updates. ``exercise_style`` is the one style
rule of exercise and real incidents for both: the built traces take their
opacities and halo from it, and the browser places what ``live_point``
computes with it, never styling a point itself.
Closed incidents (resolved, cancelled) keep their ring but lose their severity
colour (``CLOSED_COLOUR``).
"""
from __future__ import annotations

import base64
from html import escape

import numpy as np
import pandas as pd

from alerts.core.model import AlertType, Severity, StoredAlert
from alerts.core.time_labels import utc_label
from alerts.i18n import gettext as _
from alerts.i18n import terms, upper
from layers.traces import (
    INCIDENT_CELLS,
    INCIDENT_CORE,
    INCIDENT_HALO,
    INCIDENT_RING,
    LIVE_CORE,
    LIVE_HALO,
    LIVE_RING,
    MAP_TRACES,
)

SEVERITY_COLOURS = {
    Severity.CRITICAL: "#b10026",
    Severity.HIGH: "#f03b20",
    Severity.MEDIUM: "#fd8d3c",
    Severity.LOW: "#2c7fb8",
}

TYPE_COLOURS = {
    AlertType.TERRORISM: "#000000",
    AlertType.ORGANIZED_CRIME: "#6a3d9a",
    AlertType.BORDER_INCIDENT: "#1b9e77",
    AlertType.NATURAL_DISASTER: "#8c510a",
    AlertType.CYBER: "#00a6d6",
    AlertType.CIVIL_UNREST: "#e7298a",
    AlertType.MILITARY_ACTIVITY: "#4d6b2f",
    AlertType.HAZMAT: "#e6c619",
    AlertType.MASS_CASUALTY: "#d7301f",
    AlertType.OTHER: "#8d8d8d",
}

#: The core colour of a resolved or cancelled incident.
CLOSED_COLOUR = "#9e9e9e"
#: The exercise halo's colour: the EXERCISE tag's (``assets/style.css`` ``.exercise-tag``), edged dark.
EXERCISE_HALO = "#f5c400"
CORE_SIZE = 9
RING_SIZE = 17
HALO_SIZE = 25


def exercise_style(exercise: bool) -> dict:
    """The one style rule of an incident by whether it is played: core and ring opacities, halo colour and
    opacity. Exercise incidents are exactly as opaque as real ones and carry a visible halo."""
    return {"opacity": 0.95, "ring_opacity": 0.8, "halo": EXERCISE_HALO, "halo_opacity": 1.0 if exercise else 0.0}


def type_label(value: str) -> str:
    """An alert type as words in the current language (``natural_disaster`` -> ``natural disaster``;
    ``alerts.i18n.terms.alert_type``)."""
    return terms.alert_type(value)


def hover_label(id_: str, title: str, severity: str, type_: str, country: str, region: str,
                reported_at: str, exercise: bool, status: str = "new", escalation: int = 0) -> str:
    """The hover text of one incident (HTML as plotly renders it; every message text escaped) in the current
    language (``alerts.i18n``: severity, type and status through ``alerts.i18n.terms``; the title, place
    names and id as they are); an escalated one says ``ESCALATED L<level>`` (``escalation_label``)."""
    exercise_tag = "<b>" + escape(_("EXERCISE")) + "</b><br>" if exercise else ""
    escalated = f" · <b>{escape(escalation_label(escalation))}</b>" if escalation else ""
    place = ", ".join(p for p in (region, country) if p) or _("unplaced")
    return (
        f"{exercise_tag}<b>{escape(title)}</b><br>"
        f"{escape(upper(terms.severity(severity)))} · {escape(type_label(type_))} · "
        f"{escape(terms.status(status))}{escalated}<br>"
        f"{escape(place)}<br>"
        f"{reported_at}<br><span style='font-size:10px'>{escape(id_)}</span>"
    )


def escalation_label(level: int) -> str:
    """How an escalation level reads on the map and the list, in the current language: ``ESCALATED L1``
    (empty for 0)."""
    return _("ESCALATED L%(level)s") % {"level": int(level)} if level else ""


def core_colour(severity: str, is_open: bool) -> str:
    """The core dot's colour: the severity's, or ``CLOSED_COLOUR`` once the incident is closed."""
    return SEVERITY_COLOURS[Severity(severity)] if is_open else CLOSED_COLOUR


def _ring(name: str, lon, lat, colours, opacity, size: int = RING_SIZE) -> dict:
    """A type ring or an exercise halo: drawn only, no hover (the core above it answers)."""
    return {"type": "scattermap", "name": name, "lon": lon, "lat": lat, "mode": "markers",
            "marker": {"size": size, "color": colours, "opacity": opacity},
            "hoverinfo": "skip", "showlegend": False}


def _core(name: str, lon, lat, colours, opacity, ids, texts) -> dict:
    return {"type": "scattermap", "name": name, "lon": lon, "lat": lat, "mode": "markers",
            "marker": {"size": CORE_SIZE, "color": colours, "opacity": opacity},
            "customdata": ids, "hovertext": texts, "hoverinfo": "text", "showlegend": False}


def typed(values: np.ndarray) -> dict:
    """A 1-D array in plotly.js's typed-array form, as 32-bit floats (decoded in the
    browser; float32 keeps coordinates to about 0.2 m)."""
    array = np.ascontiguousarray(values, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def empty_cells() -> dict:
    """The grid-cells trace (``layers.traces.INCIDENT_CELLS``) with no cell (``layers.cells.cell_trace``
    draws cells)."""
    return {"type": "scattermap", "name": MAP_TRACES[INCIDENT_CELLS], "lon": [], "lat": [], "mode": "markers+text",
            "marker": {"size": [], "color": []}, "text": [], "customdata": [], "hovertext": [],
            "hoverinfo": "text", "showlegend": False}


def incident_traces(rows: pd.DataFrame, cells: dict | None = None) -> list[dict]:
    """Seven traces for the given rows of the alert table (see ``AlertIndex.table``): the grid cells
    (``cells``, from ``layers.cells.cell_trace``; None: ``empty_cells``), then halo, ring and core, built
    and live.

    Unlocated alerts (no position) are left out: they are listed, never drawn.
    Plain trace dicts with typed arrays: plotly's per-value validation of
    figure objects costs ten times the rest of the build at 100k incidents.
    """
    rows = rows[rows["lon"].notna() & rows["lat"].notna()]
    lon = typed(rows["lon"].to_numpy(dtype=float))
    lat = typed(rows["lat"].to_numpy(dtype=float))
    ids = rows["id"].tolist()
    exercise = rows["exercise"].to_numpy(dtype=bool)
    played, real = exercise_style(True), exercise_style(False)
    style = {key: typed(np.where(exercise, played[key], real[key])) for key in ("opacity", "ring_opacity",
                                                                                 "halo_opacity")}
    halo_colours = np.where(exercise, played["halo"], real["halo"]).tolist()
    ring_colours = rows["type"].map({t.value: c for t, c in TYPE_COLOURS.items()}).tolist()
    core_colours = [core_colour(s, o) for s, o in zip(rows["severity"], rows["open"])]
    reported = [utc_label(at) for at in rows["reported_at"]]
    texts = [
        hover_label(*fields)
        for fields in zip(
            ids, rows["title"], rows["severity"], rows["type"], rows["country"], rows["region"], reported, exercise,
            rows["status"], rows["escalation"],
        )
    ]
    traces = {
        INCIDENT_CELLS: cells or empty_cells(),
        INCIDENT_HALO: _ring(MAP_TRACES[INCIDENT_HALO], lon, lat, halo_colours, style["halo_opacity"], HALO_SIZE),
        INCIDENT_RING: _ring(MAP_TRACES[INCIDENT_RING], lon, lat, ring_colours, style["ring_opacity"]),
        INCIDENT_CORE: _core(MAP_TRACES[INCIDENT_CORE], lon, lat, core_colours, style["opacity"], ids, texts),
        LIVE_HALO: _ring(MAP_TRACES[LIVE_HALO], [], [], [], [], HALO_SIZE),
        LIVE_RING: _ring(MAP_TRACES[LIVE_RING], [], [], [], []),
        LIVE_CORE: _core(MAP_TRACES[LIVE_CORE], [], [], [], [], [], []),
    }
    return [traces[i] for i in sorted(traces)]


def live_point(stored: StoredAlert) -> dict:
    """One incident's point as the browser places it: position, colours, opacities (``exercise_style``:
    ``opacity``, ``ring_opacity``, ``halo``, ``halo_opacity``) and hover text."""
    alert = stored.alert
    return {
        "lon": stored.lon,
        "lat": stored.lat,
        "ring": TYPE_COLOURS[alert.type],
        "core": core_colour(alert.severity.value, stored.status.is_open),
        **exercise_style(alert.exercise),
        "text": hover_label(
            stored.id, alert.title, alert.severity.value, alert.type.value,
            stored.placement.country or "", stored.region_name,
            utc_label(alert.reported_at), alert.exercise, stored.status.value, stored.escalation_level,
        ),
    }
