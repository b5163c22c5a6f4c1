"""Incidents binned into square grid cells whose size follows the map's zoom: the live map's aggregate view.

Pure NumPy, no Dash, no Redis, no per-incident Python loop. A cell is a square
of ``cell_degrees(zoom)`` degrees of longitude and latitude, aligned on a
fixed world grid (so the same incidents fall in the same cells from one
rebuild to the next at one zoom level): ``CELL_PX`` screen pixels wide at the
whole zoom level below ``zoom`` (MapLibre draws the world 512 px wide at zoom
0), so each zoom level in halves the cells. Each cell gives its incidents'
count, their mean position (where the cell is drawn) and its worst severity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: A cell's width on screen at the zoom level it is drawn for (pixels).
CELL_PX = 64
#: The world's width in pixels at zoom 0 (MapLibre's tile size).
WORLD_PX = 512
#: Web Mercator's latitude limit (degrees).
MAX_LAT = 85.0511


@dataclass(frozen=True)
class Cells:
    """Grid cells holding at least one incident, in cell-key order (``k`` cells).

    ``lon``, ``lat``: float64[k], the mean position of each cell's incidents (degrees; the longitude's mean is
    taken on the circle, so a cell at the antimeridian stays there); ``count``: int64[k], incidents in each
    cell (each ≥ 1); ``worst``: int64[k], the highest ``rank`` in each cell (see ``grid_cells``); ``group``:
    int64[k], the group of each cell's incidents (points of different groups never share a cell);
    ``size``: the cells' width (degrees).
    """

    lon: np.ndarray
    lat: np.ndarray
    count: np.ndarray
    worst: np.ndarray
    size: float
    group: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


def cell_degrees(zoom: float, cell_px: int = CELL_PX) -> float:
    """The width of a cell (degrees) at map zoom ``zoom`` (clamped to 0..22, floored to a whole level):
    ``cell_px`` pixels at that level, e.g. 45° at zoom 0, 2.8125° at zoom 4, 0.0439° at zoom 10."""
    level = math.floor(min(max(float(zoom), 0.0), 22.0))
    return 360.0 / (2 ** level) * cell_px / WORLD_PX


def in_bounds(lon: np.ndarray, lat: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """Bool[n]: which points lie within ``bounds`` (west, south, east, north; degrees, edges included); a
    NaN coordinate is outside. A west edge east of the east edge spans the antimeridian."""
    west, south, east, north = bounds
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    across = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
    return across & (lat >= south) & (lat <= north)


def view_bounds(lon: float, lat: float, zoom: float, width_px: int, height_px: int) -> tuple[float, float, float,
                                                                                                 float]:
    """The (west, south, east, north) degrees a ``width_px`` × ``height_px`` Web Mercator map shows centred
    on (``lon``, ``lat``) at ``zoom``; longitudes may pass ±180 (``in_bounds`` wraps them), latitudes are
    clamped to ±``MAX_LAT``."""
    world = WORLD_PX * 2 ** float(zoom)
    half_lon = width_px / 2 * 360.0 / world
    y = math.log(math.tan(math.pi / 4 + math.radians(max(-MAX_LAT, min(MAX_LAT, lat))) / 2))
    half_y = height_px / 2 * 2 * math.pi / world

    def to_lat(v: float) -> float:
        return max(-MAX_LAT, min(MAX_LAT, math.degrees(2 * math.atan(math.exp(v)) - math.pi / 2)))

    west, east = lon - half_lon, lon + half_lon
    if east - west >= 360:
        west, east = -180.0, 180.0
    else:
        west, east = (west + 180) % 360 - 180, (east + 180) % 360 - 180
    return west, to_lat(y - half_y), east, to_lat(y + half_y)


def grid_cells(lon: np.ndarray, lat: np.ndarray, rank: np.ndarray, zoom: float, cell_px: int = CELL_PX,
               group: np.ndarray | None = None) -> Cells:
    """Bin ``n`` points into cells of ``cell_degrees(zoom, cell_px)``.

    ``lon``, ``lat``: float[n] (degrees; points with a NaN coordinate are left out); ``rank``: int[n], higher
    is worse (e.g. 3 critical … 0 low, -1 closed); the cell's ``worst`` is its highest. ``group``: int[n]
    (e.g. 1 for exercise incidents, 0 for real ones; None: all 0): points of different groups are never in
    one cell. Raises ``ValueError`` when the arrays differ in length.
    """
    group = np.zeros(len(np.asarray(lon)), dtype=np.int64) if group is None else np.asarray(group)
    lon, lat, rank = (np.asarray(a) for a in (lon, lat, rank))
    if not (len(lon) == len(lat) == len(rank) == len(group)):
        raise ValueError(f"lon, lat, rank and group differ in length: {len(lon)}, {len(lat)}, {len(rank)}, "
                         f"{len(group)}")
    lon, lat = lon.astype(float), lat.astype(float)
    keep = np.isfinite(lon) & np.isfinite(lat)
    lon, lat, rank, group = lon[keep], lat[keep], rank[keep].astype(np.int64), group[keep].astype(np.int64)
    size = cell_degrees(zoom, cell_px)
    columns = math.ceil(360.0 / size) + 1
    rows = math.ceil(180.0 / size) + 1
    ix = np.floor((((lon + 180.0) % 360.0)) / size).astype(np.int64)
    iy = np.floor((lat + 90.0) / size).astype(np.int64)
    keys, which = np.unique((group * rows + iy) * columns + ix, return_inverse=True)
    count = np.bincount(which, minlength=len(keys)).astype(np.int64)
    # the mean longitude on the circle: 180 and -180 are one place, not 0 (the Gulf of Guinea)
    radians = np.radians(lon)
    mean_lon = np.degrees(np.arctan2(np.bincount(which, weights=np.sin(radians), minlength=len(keys)),
                                     np.bincount(which, weights=np.cos(radians), minlength=len(keys))))
    mean_lat = np.bincount(which, weights=lat, minlength=len(keys)) / np.maximum(count, 1)
    worst = np.full(len(keys), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(worst, which, rank)
    return Cells(lon=mean_lon, lat=mean_lat, count=count, worst=worst, size=size, group=keys // (rows * columns))
