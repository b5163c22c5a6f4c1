"""Incidents as map traces: the core dot's colour is the severity, the ring's colour the type.

Named marker icons and map text would make MapLibre fetch sprites and glyphs
from the internet, so incidents are drawn as two circles instead: a coloured
ring (type) behind a smaller dot (severity). Exercise incidents are drawn
paler and say EXERCISE in their hover label.

Traces 0-1 hold the incidents present when the figure was built (NumPy arrays,
sent as typed arrays); traces 2-3 start empty and receive live additions
through partial updates (see ``live_point``).
"""
from __future__ import annotations

from html import escape

import base64

import numpy as np
import pandas as pd

from alerts.model import AlertType, Severity, StoredAlert

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

CORE_SIZE = 9
RING_SIZE = 17
BASE_TRACES = (0, 1)  # ring, core
LIVE_TRACES = (2, 3)  # ring, core


def type_label(value: str) -> str:
    return value.replace("_", " ")


def hover_label(id_: str, title: str, severity: str, type_: str, country: str, region: str,
                reported_at: str, exercise: bool) -> str:
    exercise_tag = "<b>EXERCISE</b><br>" if exercise else ""
    place = ", ".join(p for p in (region, country) if p) or "unplaced"
    return (
        f"{exercise_tag}<b>{escape(title)}</b><br>"
        f"{severity.upper()} · {type_label(type_)}<br>{escape(place)}<br>{reported_at}"
        f"<br><span style='font-size:10px'>{escape(id_)}</span>"
    )


def _ring(name: str, lon, lat, colours, opacity) -> dict:
    """The type ring: drawn only, no hover (the core above it answers)."""
    return {"type": "scattermap", "name": name, "lon": lon, "lat": lat, "mode": "markers",
            "marker": {"size": RING_SIZE, "color": colours, "opacity": opacity},
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


def incident_traces(rows: pd.DataFrame) -> list[dict]:
    """Four traces for the given rows of the alert table (see ``AlertIndex.table``).

    Plain trace dicts with typed arrays: plotly's per-value validation of
    figure objects costs ten times the rest of the build at 100k incidents.
    """
    lon = typed(rows["lon"].to_numpy(dtype=float))
    lat = typed(rows["lat"].to_numpy(dtype=float))
    ids = rows["id"].tolist()
    exercise = rows["exercise"].to_numpy(dtype=bool)
    opacity = np.where(exercise, 0.45, 0.95)
    ring_opacity = typed(opacity * 0.75)
    opacity = typed(opacity)
    ring_colours = rows["type"].map({t.value: c for t, c in TYPE_COLOURS.items()}).tolist()
    core_colours = rows["severity"].map({s.value: c for s, c in SEVERITY_COLOURS.items()}).tolist()
    reported = rows["reported_at"].dt.strftime("%Y-%m-%d %H:%M UTC").tolist()
    texts = [
        hover_label(*fields)
        for fields in zip(
            ids, rows["title"], rows["severity"], rows["type"], rows["country"], rows["region"], reported, exercise
        )
    ]
    return [
        _ring("incidents ring", lon, lat, ring_colours, ring_opacity),
        _core("incidents core", lon, lat, core_colours, opacity, ids, texts),
        _ring("live ring", [], [], [], 0.7),
        _core("live core", [], [], [], 0.95, [], []),
    ]


def live_point(stored: StoredAlert) -> dict:
    """What the browser appends to the live traces for one new incident."""
    alert = stored.alert
    return {
        "id": alert.id,
        "lon": stored.lon,
        "lat": stored.lat,
        "ring": TYPE_COLOURS[alert.type],
        "core": SEVERITY_COLOURS[alert.severity],
        "text": hover_label(
            alert.id, alert.title, alert.severity.value, alert.type.value,
            stored.placement.country or "", stored.region_name,
            alert.reported_at.strftime("%Y-%m-%d %H:%M UTC"), alert.exercise,
        ),
    }
