"""Place alerts in their country and first-level region, from the shipped boundaries.

The one owner of the boundary files (``assets/geo``; sources and licences in
its README): ``BoundaryFiles`` names them, ``read_features`` reads each once.
The index is built once (two shapely STRtrees over polygons projected to
ETRS89-LAEA, EPSG:3035, see ``alerts.core.crs``, so distances are in metres)
and then answers whole batches of points at once. Countries are ISO 3166-1
alpha-2 codes; Kosovo is ``XK`` (the user-assigned code Natural Earth uses).

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import functools
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from alerts.core.crs import TO_METRIC, to_metric
from alerts.core.model import Placement, Region

#: Points this close to a coast or border but outside every polygon are
#: placed in the nearest country and flagged offshore (territorial waters and
#: lake surfaces are not in the land polygons).
OFFSHORE_METRES = 25_000.0

#: The shipped boundary data, beside the code (``assets/geo``).
SHIPPED_ASSETS = Path(__file__).resolve().parents[2] / "assets"


@dataclass(frozen=True)
class BoundaryFiles:
    """The boundary files under an assets folder (``<assets>/geo/...``), GeoJSON in EPSG:4326."""

    assets_dir: Path = SHIPPED_ASSETS

    @property
    def admin0(self) -> Path:
        """Countries, Natural Earth 1:10m (placement)."""
        return Path(self.assets_dir) / "geo" / "admin0_ne10m.geojson"

    @property
    def admin1(self) -> Path:
        """First-level regions (OpenStreetMap via Elastic Maps Service; Kosovo's from Natural Earth)."""
        return Path(self.assets_dir) / "geo" / "admin1.geojson"

    @property
    def places(self) -> Path:
        """Populated places, Natural Earth 1:10m (coverage gaps)."""
        return Path(self.assets_dir) / "geo" / "populated_places_ne10m.geojson"


@functools.lru_cache(maxsize=8)
def read_features(path: Path) -> tuple[dict, ...]:
    """The features of one GeoJSON file, read once per process (they are never changed)."""
    with Path(path).open(encoding="utf-8") as handle:
        return tuple(json.load(handle)["features"])


def country_code(properties: dict) -> str:
    """ISO 3166-1 alpha-2 of a Natural Earth feature (``XK`` for Kosovo, which has none there)."""
    a3 = properties.get("adm0_a3", "")
    return properties.get("iso_a2") or ("XK" if a3 == "KOS" else a3[:2])


@functools.lru_cache(maxsize=4)
def admin1_geometries(path: Path = BoundaryFiles().admin1) -> dict[str, dict]:
    """ISO 3166-2 code -> GeoJSON geometry of each first-level region (``{}`` if the file is missing)."""
    regions: dict[str, dict] = {}
    try:
        features = read_features(path)
    except (OSError, ValueError, KeyError):
        return regions
    for feature in features:
        code = (feature.get("properties") or {}).get("iso_3166_2")
        geometry = feature.get("geometry")
        if code and geometry and code not in regions:
            regions[code] = geometry
    return regions


def _project(geometries: np.ndarray) -> np.ndarray:
    return to_metric(geometries)


def _contained(tree: shapely.STRtree, geometries: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(point index, polygon index) pairs where the polygon holds the point.

    The tree narrows by bounding box; the exact test then runs on the prepared
    polygons, which is ~20x faster than the tree's own predicate for points.
    """
    candidates = tree.query(points)
    inside = shapely.intersects(geometries[candidates[1]], points[candidates[0]])
    return candidates[:, inside]


class _Coasts:
    """The nearest of some polygons (the countries, simplified) to points outside them, within a distance.

    Exactly ``STRtree(polygons).query_nearest(points, max_distance=..., return_distance=True,
    all_matches=False)``, found faster: a polygon's distance to a point outside it is its nearest edge's
    (GEOS computes both the same way), so the edges of all polygons are searched in one tree. A point
    inside a polygon (distance 0) or whose nearest edges belong to more than one polygon (a tie, e.g. at a
    border reaching the coast) is answered by the polygons' own tree, which decides ties as before.
    A coastal point took ~0.1 ms against whole polygons, a few µs against edges.
    """

    def __init__(self, polygons: np.ndarray):
        self.polygons = polygons
        self.tree = shapely.STRtree(polygons)
        parts, part_owner = shapely.get_parts(polygons, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        edge = np.flatnonzero(coord_ring[:-1] == coord_ring[1:])  # a vertex and the next one of its ring
        self.edge_owner = part_owner[ring_part[coord_ring[edge]]]
        self.edges = shapely.STRtree(shapely.linestrings(np.stack([coords[edge], coords[edge + 1]], axis=1)))
        shapely.prepare(polygons)  # for the containment test (query_nearest answers the same on them)

    def nearest(self, points: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """``([point indices, polygon indices], distances)`` of each point's nearest polygon within
        ``max_distance``, in point order; points with none are left out (``query_nearest``'s answer)."""
        answer = np.full(len(points), -1)
        distance = np.full(len(points), np.nan)
        (at, edge), found = self.edges.query_nearest(points, max_distance=max_distance, return_distance=True,
                                                     all_matches=True)
        owner = self.edge_owner[edge]
        answer[at] = owner
        distance[at] = found
        tied = np.zeros(len(points), dtype=bool)
        tied[at[owner != answer[at]]] = True  # nearest edges of two polygons (ties come out together)
        tied[_contained(self.tree, self.polygons, points)[0]] = True
        again = np.flatnonzero(tied)
        if again.size:
            (at, owner), found = self.tree.query_nearest(points[again], max_distance=max_distance,
                                                         return_distance=True, all_matches=False)
            answer[again], distance[again] = -1, np.nan
            answer[again[at]], distance[again[at]] = owner, found
        placed = np.flatnonzero(answer >= 0)
        return np.stack([placed, answer[placed]]), distance[placed]


@dataclass(frozen=True)
class Country:
    """A country of the boundaries: ISO2, ISO3, its long name, and whether it is a core (Balkan) nation."""

    iso2: str
    iso3: str
    name: str
    core: bool


class RegionIndex:
    """Point-in-region lookups against countries (admin-0) and regions (admin-1)."""

    def __init__(self, admin0_path: Path, admin1_path: Path):
        countries = read_features(Path(admin0_path))
        self.countries: list[Country] = []
        for feature in countries:
            props = feature["properties"]
            self.countries.append(
                Country(iso2=country_code(props), iso3=props["adm0_a3"], name=props["name_long"], core=props.get("role") == "core")
            )
        lonlat = [shapely.geometry.shape(f["geometry"]) for f in countries]
        self._extent = shapely.box(*shapely.total_bounds(lonlat)).buffer(1.0)
        self._country_geoms = _project(np.array(lonlat))
        shapely.prepare(self._country_geoms)
        self._country_tree = shapely.STRtree(self._country_geoms)
        # Offshore distances need metres, not the last vertex: a 250 m
        # simplification keeps them honest and the nearest search fast.
        self._coasts = _Coasts(shapely.simplify(self._country_geoms, 250.0))
        self._iso2_by_iso3 = {c.iso3: c.iso2 for c in self.countries}
        self._country_by_iso2 = {c.iso2: c for c in self.countries}

        regions = read_features(Path(admin1_path))
        self.regions: list[Region] = []
        for feature in regions:
            props = feature["properties"]
            self.regions.append(
                Region(
                    code=props.get("iso_3166_2") or props.get("adm1_code") or props["name_en"],
                    name=props.get("name_en") or props.get("name_local") or "?",
                    country=self._iso2_by_iso3.get(props["adm0_a3"], props["adm0_a3"]),
                )
            )
        self._region_geoms = _project(np.array([shapely.geometry.shape(f["geometry"]) for f in regions]))
        shapely.prepare(self._region_geoms)
        self._region_tree = shapely.STRtree(self._region_geoms)
        self._placement_cache: dict[tuple[int, int], Placement] = {}
        # GEOS prepared geometries are not safe to use from two threads at once
        # (a shared index crashed under concurrent ingest workers): one at a time.
        self._lock = threading.Lock()

    @classmethod
    def from_assets(cls, assets_dir: Path) -> "RegionIndex":
        """The index over the boundary files under ``assets_dir`` (see ``BoundaryFiles``)."""
        files = BoundaryFiles(Path(assets_dir))
        return cls(files.admin0, files.admin1)

    def country(self, iso2: str) -> Country | None:
        """The country with this ISO 3166-1 alpha-2 code, if the boundaries hold it."""
        return self._country_by_iso2.get(iso2)

    def place_points(self, lons: np.ndarray, lats: np.ndarray) -> list[Placement]:
        """Placements for many points at once (vectorised; the fast path for ingest)."""
        if len(lons) == 0:
            return []
        with self._lock:
            return self._place_points(lons, lats)

    def _place_points(self, lons: np.ndarray, lats: np.ndarray) -> list[Placement]:
        xs, ys = TO_METRIC.transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        points = shapely.points(xs, ys)
        country_of = np.full(len(points), -1)
        offshore = np.full(len(points), np.nan)
        hits = _contained(self._country_tree, self._country_geoms, points)
        country_of[hits[0]] = hits[1]
        missing = np.flatnonzero(country_of < 0)
        if missing.size:
            near, distances = self._coasts.nearest(points[missing], OFFSHORE_METRES)
            country_of[missing[near[0]]] = near[1]
            offshore[missing[near[0]]] = distances
        region_of = np.full(len(points), -1)
        hits = _contained(self._region_tree, self._region_geoms, points)
        region_of[hits[0]] = hits[1]
        placements = []
        for c, r, off in zip(country_of.tolist(), region_of.tolist(), offshore.tolist()):
            if math.isnan(off):
                placements.append(self._inland_placement(c, r))
            else:
                placements.append(self._placement(c, r, round(off / 1000, 1)))
        return placements

    def _placement(self, country_idx: int, region_idx: int, offshore_km: float | None) -> Placement:
        country = self.countries[country_idx] if country_idx >= 0 else None
        region = self.regions[region_idx] if region_idx >= 0 else None
        return Placement(
            country=country.iso2 if country else None,
            country_name=country.name if country else None,
            countries=[country.iso2] if country else [],
            regions=[region] if region else [],
            offshore_km=offshore_km,
        )

    def _inland_placement(self, country_idx: int, region_idx: int) -> Placement:
        # Placements are immutable and few (one per region), so share them.
        key = (country_idx, region_idx)
        placement = self._placement_cache.get(key)
        if placement is None:
            placement = self._placement_cache[key] = self._placement(country_idx, region_idx, None)
        return placement

    def place_area(self, area: shapely.Geometry, approximate: bool = False) -> Placement:
        """Placement of an area (shapely, lon/lat; within the budget of ``alerts.core.shapes.bounded``):
        every country and region it touches; the main country holds its largest share.

        The lock is held only for the queries against the shared, prepared
        boundaries; the area's own preparation (clipping, projection) is done
        before it, so one slow area does not hold up other workers.
        """
        # Only the part of the area over our boundary data can be placed; the
        # metric projection is meaningless far outside it.
        area = shapely.intersection(area, self._extent)
        if area.is_empty:
            return Placement(approximate=approximate)
        projected = _project(np.array([area]))[0]
        with self._lock:
            return self._place_projected(projected, approximate)

    def _place_projected(self, projected: shapely.Geometry, approximate: bool) -> Placement:
        country_idx = self._country_tree.query(projected, predicate="intersects")
        region_idx = self._region_tree.query(projected, predicate="intersects")
        if len(country_idx) == 0:
            return Placement(approximate=approximate)
        shares = shapely.area(shapely.intersection(self._country_geoms[country_idx], projected))
        order = country_idx[np.argsort(-shares, kind="stable")]
        main = self.countries[order[0]]
        regions = [self.regions[i] for i in sorted(region_idx)]
        countries = [self.countries[i].iso2 for i in order]
        # Region and country outlines come from different sources and differ
        # slightly at borders: a touched region's country counts as touched.
        countries += sorted({r.country for r in regions} - set(countries))
        return Placement(
            country=main.iso2,
            country_name=main.name,
            countries=countries,
            regions=regions,
            approximate=approximate,
        )
