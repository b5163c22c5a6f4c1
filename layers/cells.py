"""What the live map draws of its incidents for the view it shows: every one, those in view, or grid cells.

The built incident traces hold at most ``limit`` incidents (the setting
``map_points_max``). Up to it, every located incident of the selection is
drawn, as before, whatever the view. Above it, only the view counts (its
bounds widened by ``MARGIN`` of their size on each side, so a short pan
shows no empty edge): up to ``limit`` incidents there are drawn as points;
more are drawn as grid cells (``layers.binning``), each a circle sized by its
count, in its worst open severity's colour (``CLOSED_COLOUR`` when all are
closed), labelled with the count. A click on a cell zooms in to it
(``assets/map_select.js``); the page rebuilds the figure when the view moves
(``dashboard.pages.map``), so zooming in far enough shows points.

Pure data (no Dash, no Redis). A view is ``MapView``, read from the page's
view store (``parse_view``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from alerts.core.model import Severity
from alerts.i18n import gettext as _
from alerts.i18n import number, terms, upper
from layers.basemap import REGION_BOUNDS, REGION_ZOOM
from layers.binning import WORLD_PX, Cells, grid_cells, in_bounds, view_bounds
from layers.incidents import CLOSED_COLOUR, EXERCISE_HALO, SEVERITY_COLOURS, empty_cells, typed
from layers.traces import INCIDENT_CELLS, MAP_TRACES

#: How far beyond the view incidents are still drawn, as a share of the view's width and height on each side.
MARGIN = 0.5
#: The screen a view without bounds is assumed to fill (pixels; generous, so nothing in view is missed).
ASSUMED_SCREEN = (2560, 1600)
#: Cell circles: the diameter of a cell of one incident, the growth per tenfold count, the largest (pixels).
CELL_MIN_PX, CELL_STEP_PX, CELL_MAX_PX = 22, 8, 52
#: How much wider the EXERCISE circle under an exercise cell is (pixels).
EXERCISE_RING_PX = 8
#: Severity -> rank for the worst of a cell (higher is worse; a closed incident -1).
SEVERITY_RANK = {s.value: len(Severity) - 1 - i for i, s in enumerate(Severity)}
RANK_SEVERITY = {rank: value for value, rank in SEVERITY_RANK.items()}


@dataclass(frozen=True)
class MapView:
    """What the map shows: ``zoom``, the (west, south, east, north) ``bounds`` (degrees) and the ``centre``
    (``{"lon", "lat"}``; None: not known)."""

    zoom: float
    bounds: tuple[float, float, float, float]
    centre: dict | None = None


#: The opening view (``layers.basemap``), until the browser says what it shows.
OPENING_VIEW = MapView(REGION_ZOOM, REGION_BOUNDS)


@dataclass(frozen=True)
class Drawn:
    """What to draw: ``points`` (rows of the alert table, each located), ``cells`` (None when points are
    drawn) and ``partial`` (True when not every located incident of the selection is a point)."""

    points: pd.DataFrame
    cells: Cells | None
    partial: bool


def parse_view(data) -> MapView | None:
    """The page's view store (``{"zoom", "center": {"lon", "lat"}, "bounds": [w, s, e, n] | None}``) as a
    ``MapView``: ``bounds`` when given (longitudes beyond ±180 wrapped; a view wider than the world is the
    world), else those of ``ASSUMED_SCREEN`` around the centre. None for anything else (no view known yet,
    malformed)."""
    try:
        zoom = float(data["zoom"])
        given = data.get("center")
        centre = {"lon": float(given["lon"]), "lat": float(given["lat"])} if given else None
        bounds = data.get("bounds")
        if bounds:
            west, south, east, north = (float(b) for b in bounds)
        else:
            centre = data["center"]
            west, south, east, north = view_bounds(float(centre["lon"]), float(centre["lat"]), zoom,
                                                   *ASSUMED_SCREEN)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    values = (zoom, west, south, east, north) + tuple((centre or {}).values())
    if not all(math.isfinite(v) for v in values) or south > north:
        return None
    if east - west >= 360:  # a map zoomed out shows the world more than once
        west, east = -180.0, 180.0
    elif not (-180 <= west <= 180 and -180 <= east <= 180):  # a view across the antimeridian, as MapLibre gives it
        west, east = (west + 180) % 360 - 180, (east + 180) % 360 - 180
    return MapView(zoom, (west, south, east, north), centre)


def widened(bounds: tuple[float, float, float, float], margin: float = MARGIN) -> tuple[float, float, float, float]:
    """``bounds`` grown by ``margin`` of their width and height on each side (latitudes clamped to ±90; the
    whole world once the width reaches 360°)."""
    west, south, east, north = bounds
    width = (east - west) % 360 or (360.0 if east != west else 0.0)
    height = north - south
    if width * (1 + 2 * margin) >= 360:
        west, east = -180.0, 180.0
    else:
        west, east = (west - width * margin + 180) % 360 - 180, (east + width * margin + 180) % 360 - 180
    return west, max(-90.0, south - height * margin), east, min(90.0, north + height * margin)


def drawn(rows: pd.DataFrame, view: MapView | None, limit: int) -> Drawn:
    """What the map draws of ``rows`` (the alert table's selection) in ``view`` (None: ``OPENING_VIEW``)
    with at most ``limit`` points (see the module docstring)."""
    located = rows[rows["lon"].notna() & rows["lat"].notna()]
    if len(located) <= limit:
        return Drawn(located, None, False)
    view = view or OPENING_VIEW
    lon, lat = located["lon"].to_numpy(dtype=float), located["lat"].to_numpy(dtype=float)
    near = in_bounds(lon, lat, widened(view.bounds))
    if int(near.sum()) <= limit:
        return Drawn(located[near], None, True)
    rank = np.where(located["open"].to_numpy(dtype=bool),
                    located["severity"].map(SEVERITY_RANK).fillna(-1).to_numpy(dtype=np.int64), -1)
    exercise = located["exercise"].to_numpy(dtype=bool).astype(np.int64)  # never counted with real incidents
    cells = grid_cells(lon[near], lat[near], rank[near], cell_zoom(view), group=exercise[near])
    return Drawn(located.iloc[:0], cells, True)


def cell_zoom(view: MapView) -> float:
    """The zoom cells are sized for: the view's, but never finer than its bounds allow on the largest screen
    (``ASSUMED_SCREEN``), so a view claiming a deep zoom over wide bounds cannot ask for a cell per incident
    (at most about 40 x 25 cells in view, whatever is claimed)."""
    west, _south, east, _north = view.bounds
    width = (east - west) % 360 or 360.0
    return min(view.zoom, math.log2(ASSUMED_SCREEN[0] * 360.0 / (WORLD_PX * width)))


def cell_colour(worst: int) -> str:
    """A cell's colour for its worst rank (``SEVERITY_RANK``): the severity's, ``CLOSED_COLOUR`` below 0."""
    value = RANK_SEVERITY.get(int(worst))
    return SEVERITY_COLOURS[Severity(value)] if value else CLOSED_COLOUR


def cell_sizes(count: np.ndarray) -> np.ndarray:
    """Circle diameters (pixels) for cell counts: ``CELL_MIN_PX`` for one, ``CELL_STEP_PX`` more per
    tenfold, at most ``CELL_MAX_PX``."""
    return np.minimum(CELL_MIN_PX + CELL_STEP_PX * np.log10(np.maximum(count, 1)), CELL_MAX_PX)


def cell_trace(cells: Cells | None) -> dict:
    """The cells trace (``layers.traces.INCIDENT_CELLS``): a circle per cell with its count as text; hover
    gives the count and worst severity; ``customdata`` ``cell-<i>`` marks each for picking. Empty for None."""
    if cells is None or not len(cells):
        return empty_cells()
    counts = [number(int(c)) for c in cells.count]
    worst = [upper(terms.severity(RANK_SEVERITY[r])) if r in RANK_SEVERITY else "" for r in cells.worst.tolist()]
    played = cells.group.astype(bool)
    tag = "<b>" + escape(_("EXERCISE")) + "</b><br>"
    hover = [(tag if p else "") + f"<b>{c}</b>" + (f" · {w}" if w else "") for c, w, p in zip(counts, worst, played)]
    sizes = np.round(cell_sizes(cells.count), 1)
    colours = [cell_colour(w) for w in cells.worst.tolist()]
    # an exercise cell is drawn on a larger circle in the EXERCISE colour (as exercise points carry a halo,
    # ``layers.incidents.exercise_style``): the halo first, so the cell is drawn over it; same customdata, so
    # picking (``assets/map_select.js``, which reads sizes per point) treats both as the cell
    halo = np.flatnonzero(played)
    order = np.concatenate([halo, np.arange(len(cells))])
    is_halo = np.arange(len(order)) < len(halo)
    return {
        "type": "scattermap", "name": MAP_TRACES[INCIDENT_CELLS], "lon": typed(cells.lon[order]),
        "lat": typed(cells.lat[order]), "mode": "markers+text",
        "marker": {"size": np.where(is_halo, sizes[order] + EXERCISE_RING_PX, sizes[order]).tolist(),
                   "color": [EXERCISE_HALO if h else colours[i] for h, i in zip(is_halo, order)], "opacity": 0.85},
        "text": ["" if h else counts[i] for h, i in zip(is_halo, order)], "textfont": {"color": "#ffffff", "size": 12},
        "customdata": [f"cell-{i}" for i in order.tolist()],
        "hovertext": [hover[i] for i in order.tolist()],
        "hoverinfo": "text", "showlegend": False,
    }
