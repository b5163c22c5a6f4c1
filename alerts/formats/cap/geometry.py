"""CAP ``<area>`` geometry -> our ``location`` or ``area`` (GeoJSON, lon/lat).

- ``<polygon>``: ``lat,lon`` pairs (CAP order), closed if the sender did not;
  several polygons (and circles) become their union while that is cheap,
  else a MultiPolygon of the pieces as sent (see "Budget").
- ``<circle>``: ``lat,lon radius_km``, approximated by a geodesic polygon of
  ``CIRCLE_POINTS`` points on WGS84 (split at the antimeridian); a zero radius
  is a point. A circle containing a pole is refused.
- ``<geocode>`` only: ISO 3166-2 codes are resolved to the shipped first-level
  regions (``alerts.core.geography.admin1_geometries``); others stay unresolved
  and the alert is kept *unlocated* (no location, no area, ``geometry_unknown``):
  listed and counted, never drawn or exported at a made-up place.

Budget (``alerts.core.shapes``): the pieces are counted as they are read,
before any is built, repaired or merged: each polygon its vertices, each
circle ``CIRCLE_POINTS + 1`` (its polygon's vertices), one polygon and one
ring per piece (more for a circle split at the antimeridian). Over
``MAX_VERTICES``, ``MAX_PARTS`` or ``MAX_RINGS`` the message is refused naming
the limit. Within it, the pieces are merged only up to ``MERGE_VERTICES``
vertices in all, and invalid pieces (a self-intersecting polygon) repaired
first only up to ``PLACEMENT_VERTICES`` vertices in all; otherwise the area is
the pieces as sent, and placement approximates it (``bounded``: simplified
or its convex hull, ``placement.approximate``). So a 1 MiB message of
zigzags or of thousands of circles costs a bounded time: refused or
approximated, never repaired vertex by vertex for minutes.

Every problem is a ``Rejected`` with a reason.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from lxml import etree
from pydantic import ValidationError

from alerts.core.crs import GEOD
from alerts.core.geography import admin1_geometries
from alerts.core.model import Area, Location
from alerts.core.nations import ISO_3166_2
from alerts.core.shapes import MERGE_VERTICES, PLACEMENT_VERTICES, check_counts
from alerts.formats.cap.elements import child, children
from alerts.formats.cap.validate import q
from alerts.formats.errors import Rejected, validation_reason
from alerts.formats.text import one_line

#: Points on the approximated circle (geodesic, WGS84).
CIRCLE_POINTS = 64
#: CAP language when ``<language>`` is absent (CAP 1.2 section 3.2.2).
DEFAULT_LANGUAGE = "en-US"


def language_of(info: etree._Element) -> str:
    """The ``<language>`` of an ``<info>`` block (``en-US`` when absent, CAP 1.2 section 3.2.2)."""
    return child(info, "language") or DEFAULT_LANGUAGE


class _Budget:
    """Running counts of an area's pieces, checked before each piece is built (module docstring, "Budget")."""

    def __init__(self) -> None:
        self.vertices = 0
        self.pieces = 0

    def add(self, vertices: int, pieces: int = 1) -> None:
        """Count ``vertices`` in ``pieces`` more polygons (one ring each); ``Rejected`` naming the limit."""
        self.vertices += vertices
        self.pieces += pieces
        try:
            check_counts(self.vertices, self.pieces, self.pieces, "CAP area (its polygons and circles)")
        except ValueError as exc:
            raise Rejected(str(exc)) from None


class CapGeometry:
    """Where a CAP alert is: a ``location`` or an ``area``, and what to keep about it (``extra``)."""

    def __init__(self) -> None:
        self.location: Location | None = None
        self.area: Area | None = None
        self.extra: dict[str, Any] = {}


def _lat_lon(token: str, what: str) -> tuple[float, float]:
    parts = token.split(",")
    if len(parts) != 2:
        raise Rejected(f"CAP {what}: {one_line(token, 60)!r} is not a 'lat,lon' pair")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise Rejected(f"CAP {what}: {one_line(token, 60)!r} is not a 'lat,lon' pair of numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise Rejected(f"CAP {what}: {one_line(token, 60)!r} is out of range (lat -90..90, lon -180..180)")
    return lat, lon


def _polygon_ring(text: str) -> list[list[float]]:
    ring = []
    for token in text.split():
        lat, lon = _lat_lon(token, "polygon")
        ring.append([lon, lat])
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))  # close it
    if len(ring) < 4:
        raise Rejected(f"CAP polygon has {len(ring)} points; a closed polygon needs at least 4")
    return ring


def _circle(text: str) -> tuple[tuple[float, float], float]:
    parts = text.split()
    if len(parts) != 2:
        raise Rejected(f"CAP circle {one_line(text, 80)!r} is not 'lat,lon radius'")
    lat, lon = _lat_lon(parts[0], "circle")
    try:
        radius_km = float(parts[1])
    except ValueError:
        raise Rejected(f"CAP circle radius {one_line(parts[1], 40)!r} is not a number") from None
    if not math.isfinite(radius_km) or radius_km < 0:
        raise Rejected(f"CAP circle radius {one_line(parts[1], 40)!r} must be a number of km >= 0")
    return (lat, lon), radius_km


def _circle_polygons(lat: float, lon: float, radius_km: float) -> list[list[list[float]]]:
    """Exterior rings (lon, lat) approximating a geodesic circle; split at the antimeridian."""
    radius_m = radius_km * 1000.0
    for pole in (90.0, -90.0):
        _, _, to_pole = GEOD.inv(lon, lat, lon, pole)
        if to_pole <= radius_m:
            raise Rejected(f"CAP circle at {lat},{lon} with radius {radius_km} km contains a pole: not supported")
    azimuths = np.linspace(0.0, 360.0, CIRCLE_POINTS, endpoint=False)
    lons, lats, _ = GEOD.fwd(
        np.full(CIRCLE_POINTS, lon), np.full(CIRCLE_POINTS, lat), azimuths, np.full(CIRCLE_POINTS, radius_m)
    )
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if not (np.all(np.isfinite(lons)) and np.all(np.isfinite(lats))):
        raise Rejected(f"CAP circle at {lat},{lon} with radius {radius_km} km cannot be computed")
    if float(lons.max() - lons.min()) <= 180.0:
        ring = [[float(x), float(y)] for x, y in zip(lons, lats)]
        return [ring + [list(ring[0])]]
    # Crosses the antimeridian: unwrap around the centre, then cut at +-180.
    unwrapped = np.where(lons - lon > 180.0, lons - 360.0, np.where(lons - lon < -180.0, lons + 360.0, lons))
    polygon = shapely.geometry.Polygon(zip(unwrapped, lats))
    rings = []
    for shift, window in ((0.0, (-180.0, -90.0, 180.0, 90.0)), (360.0, (-540.0, -90.0, -180.0, 90.0)),
                          (-360.0, (180.0, -90.0, 540.0, 90.0))):
        part = polygon.intersection(shapely.geometry.box(*window))
        for piece in getattr(part, "geoms", [part]):
            if isinstance(piece, shapely.geometry.Polygon) and not piece.is_empty:
                rings.append([[float(x) + shift, float(y)] for x, y in piece.exterior.coords])
    return rings


def _as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    return float(value)


def _polygon_parts(geometry: Any) -> list[shapely.geometry.Polygon]:
    """The non-empty polygons in a shapely geometry (of any kind)."""
    if isinstance(geometry, shapely.geometry.Polygon):
        return [geometry] if not geometry.is_empty and geometry.area > 0 else []
    return [part for member in getattr(geometry, "geoms", []) for part in _polygon_parts(member)]


def _geojson(polygons: list[shapely.geometry.Polygon]) -> dict[str, Any]:
    geometry = polygons[0] if len(polygons) == 1 else shapely.geometry.MultiPolygon(polygons)
    mapped = shapely.geometry.mapping(geometry)
    return {"type": mapped["type"], "coordinates": _as_lists(mapped["coordinates"])}


def _area_from_rings(rings: list[list[list[float]]]) -> dict[str, Any]:
    """One ring -> Polygon as sent; several -> their union while it is cheap, else the rings as sent
    (a MultiPolygon, one polygon per ring): see the module docstring, "Budget"."""
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": [rings[0]]}
    as_sent = {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
    if sum(len(ring) for ring in rings) > MERGE_VERTICES:
        return as_sent
    try:
        polygons = [shapely.geometry.Polygon(ring) for ring in rings]
        invalid = [n for n, polygon in enumerate(polygons) if not polygon.is_valid]
        if sum(len(rings[n]) for n in invalid) > PLACEMENT_VERTICES:
            return as_sent  # repairing them could take minutes (a zigzag); placement hulls them instead
        for n in invalid:
            polygons[n] = shapely.make_valid(polygons[n])
        parts = _polygon_parts(shapely.union_all(polygons))
        if parts:
            return _geojson(parts)
    except Exception:  # noqa: BLE001  shapely raises several types; keep the rings as sent
        pass
    return as_sent


def _make_area(geojson: dict[str, Any], what: str) -> Area:
    try:
        return Area.model_validate(geojson)
    except ValidationError as exc:
        raise Rejected(f"CAP {what} is not a usable area: " + validation_reason(exc)) from None


def cap_geometry(areas: list[tuple[etree._Element, etree._Element]], main_language: str) -> CapGeometry:
    """The location or area of a CAP alert from its ``(info, area)`` elements (see the module docstring)."""
    result = CapGeometry()
    budget = _Budget()
    rings: list[list[list[float]]] = []
    seen: set[str] = set()
    points: list[tuple[float, float]] = []
    geocodes: list[dict[str, str]] = []
    descriptions: list[str] = []
    kinds: list[str] = []

    for info, area in areas:
        description = one_line(child(area, "areaDesc"), 1000)
        if description and description not in descriptions and language_of(info).lower() == main_language.lower():
            descriptions.append(description)
        for text in children(area, "polygon"):
            key = " ".join(text.split())
            if key in seen:
                continue
            seen.add(key)
            ring = _polygon_ring(text)
            budget.add(len(ring))
            rings.append(ring)
            kinds.append("polygon")
        for text in children(area, "circle"):
            key = "circle " + " ".join(text.split())
            if key in seen:
                continue
            seen.add(key)
            (lat, lon), radius_km = _circle(text)
            if radius_km == 0:
                points.append((lat, lon))
            else:
                budget.add(CIRCLE_POINTS + 1)  # before the circle is computed
                pieces = _circle_polygons(lat, lon, radius_km)
                budget.add(sum(map(len, pieces)) - (CIRCLE_POINTS + 1), len(pieces) - 1)
                rings.extend(pieces)
            kinds.append("circle")
        for geocode in area.findall(q("geocode")):
            item = {"valueName": child(geocode, "valueName"), "value": child(geocode, "value")}
            if item not in geocodes:
                geocodes.append(item)

    if descriptions:
        result.extra["area_desc"] = "; ".join(descriptions)
    if geocodes:
        result.extra["geocodes"] = geocodes

    if rings:
        result.area = _make_area(_area_from_rings(rings), "polygon/circle")
        result.extra["geometry_source"] = "+".join(sorted(set(kinds)))
        return result
    if points:
        lat, lon = points[0]
        result.location = Location(lat=lat, lon=lon)
        result.extra["geometry_source"] = "circle"
        return result
    resolved = _resolve_geocodes([g["value"] for g in geocodes])
    if resolved is not None:
        codes, geojson = resolved
        result.area = _make_area(geojson, f"region {', '.join(codes)}")
        result.extra["geometry_source"] = "geocode"
        result.extra["resolved_geocodes"] = codes
        return result
    result.extra["geometry_unknown"] = True  # unlocated: never drawn or exported at a made-up place
    result.extra["geometry_source"] = "none"
    return result




# -- ISO 3166-2 geocodes against the shipped admin-1 regions ---------------------


def _resolve_geocodes(values: list[str]) -> tuple[list[str], dict[str, Any]] | None:
    candidates = [v.upper() for v in values if ISO_3166_2.match(v.upper())]
    if not candidates:
        return None
    regions = admin1_geometries()
    codes = [code for code in dict.fromkeys(candidates) if code in regions]
    if not codes:
        return None
    if len(codes) == 1:
        return codes, regions[codes[0]]
    merged = shapely.union_all([shapely.make_valid(shapely.geometry.shape(regions[c])) for c in codes])
    parts = _polygon_parts(merged)
    if not parts:
        return None
    return codes, _geojson(parts)

