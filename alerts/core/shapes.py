"""A budget on the geometry of an area, so that every input under the size limit is handled in bounded time.

An area (GeoJSON Polygon or MultiPolygon, lon/lat) is accepted with at most
``MAX_VERTICES`` vertices, ``MAX_PARTS`` polygons and ``MAX_RINGS`` rings in
all; more is refused with a reason. For placing it and for the point it is
drawn at, ``bounded`` gives a geometry whose cost is capped:

- a valid area of at most ``PLACEMENT_VERTICES`` vertices is used as it is;
- a larger valid area is simplified (Douglas-Peucker, topology preserved, with
  growing tolerances up to ``MAX_TOLERANCE_DEGREES``) until it fits;
- an invalid area (self-intersecting, wrongly nested...) of at most
  ``PLACEMENT_VERTICES`` vertices is repaired with GEOS ``make_valid``;
- anything still over budget is replaced by its convex hull.

Whatever was simplified or replaced is flagged ``approximate``: the area as
sent is kept and exported unchanged, only placement uses the bounded form.

An area built from several pieces (CAP ``<polygon>`` and ``<circle>``
elements) is counted against the same budget *before* any piece is built,
repaired or merged (``check_counts``), and merged into one area only while
that stays cheap: pieces are repaired (``make_valid``) only up to
``PLACEMENT_VERTICES`` vertices in all, and merged (``union_all``) only up to
``MERGE_VERTICES``; beyond, the pieces are kept as sent and placement bounds
them like any area (``alerts.formats.cap.geometry``).
Measured on the project's 2-core machine, placing the worst case (a
self-intersecting zigzag) took 48 s at 4,000 vertices before this budget; see
``bench/ingest.py`` for the figure now.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import shapely

#: Hard limits of an area (refused beyond them).
MAX_VERTICES = 100_000
MAX_PARTS = 1_000
MAX_RINGS = 2_000
#: What placement works on exactly; beyond it the area is simplified, repaired or hulled.
PLACEMENT_VERTICES = 256
#: Pieces of an area (CAP polygons and circles) are merged into one only up to this many vertices in all:
#: ``union_all`` of valid pieces took 0.24 s at 10,000 vertices of interleaved combs (the worst shape tried).
MERGE_VERTICES = 10_000
#: Simplification tolerances tried, in degrees (1e-3 degree is about 100 m).
TOLERANCES_DEGREES = (0.001, 0.005, 0.02, 0.1)
MAX_TOLERANCE_DEGREES = TOLERANCES_DEGREES[-1]


def check_counts(vertices: int, parts: int, rings: int, what: str = "area") -> None:
    """Raise ``ValueError`` naming the limit if ``vertices``, ``parts`` (polygons) or ``rings`` are over the
    budget (``MAX_VERTICES``, ``MAX_PARTS``, ``MAX_RINGS``); ``what`` names the thing counted in the reason."""
    if vertices > MAX_VERTICES:
        raise ValueError(f"{what} has {vertices} vertices; at most {MAX_VERTICES} are accepted")
    if parts > MAX_PARTS:
        raise ValueError(f"{what} has {parts} polygons; at most {MAX_PARTS} are accepted")
    if rings > MAX_RINGS:
        raise ValueError(f"{what} has {rings} rings; at most {MAX_RINGS} are accepted")


def check_budget(geometry: shapely.Geometry) -> None:
    """Raise ``ValueError`` naming the limit if ``geometry`` has too many vertices, parts or rings."""
    vertices = shapely.get_num_coordinates(geometry)
    if vertices > MAX_VERTICES:
        check_counts(vertices, 0, 0)
    parts = shapely.get_num_geometries(geometry)
    if parts > MAX_PARTS:
        check_counts(vertices, parts, 0)
    rings = int(sum(shapely.get_num_interior_rings(p) + 1 for p in shapely.get_parts(geometry)))
    check_counts(vertices, parts, rings)


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry (``make_valid`` may add lines and points where a ring touched itself)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    polygons = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else geometry


def bounded(geometry: shapely.Geometry) -> tuple[shapely.Geometry, bool]:
    """``(geometry to place, approximate)`` per the rules of the module docstring; cost bounded by the budget."""
    vertices = shapely.get_num_coordinates(geometry)
    valid = shapely.is_valid(geometry)
    if vertices <= PLACEMENT_VERTICES:
        return (geometry, False) if valid else (_polygonal(shapely.make_valid(geometry)), False)
    if valid:
        for tolerance in TOLERANCES_DEGREES:
            simplified = shapely.simplify(geometry, tolerance, preserve_topology=True)
            if shapely.get_num_coordinates(simplified) <= PLACEMENT_VERTICES and shapely.is_valid(simplified):
                return simplified, True
    return shapely.convex_hull(geometry), True
