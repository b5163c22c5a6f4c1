"""Which assets can reach an incident at all: movement domains and landmasses.

Every asset type moves in one domain (``DOMAIN_OF``):

- **air** (helicopters, aircraft) reaches every incident;
- **sea** (coast-guard vessels) reaches an incident at sea, or on land within
  ``COASTAL_KM`` of the coast (a quay, a beach, a coastal town): never one
  inland;
- **ground** (every other unit) reaches an incident on land, or at sea
  within ``COASTAL_KM`` of land, when the straight line from the unit to it
  crosses no stretch of water longer than ``MAX_CROSSING_KM`` (a bridge, a
  strait, a short ferry: the Bosphorus, Krk, Hvar). A ground unit in Bari is
  never offered for Durrës across the Strait of Otranto, nor one in Athens
  for Crete.

Routes are not modelled: the ETA of a reachable asset is the geodesic
distance over its ``speed_kmh`` (``alerts.core.suitability``), a lower bound
for ground and sea units; the crossing rule keeps that bound honest by not
offering a unit whose only way is a long detour around a sea (Thessaloniki
to Izmir). Land is the shipped country polygons (Natural Earth admin-0,
``assets/geo``), in ETRS89-LAEA metres (``alerts.core.crs``), simplified to
250 m like the placement index's coasts; their lakes and rivers count as
land; the straight line is sampled every ``SAMPLE_KM``.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path

import numpy as np
import shapely

from alerts.core.assets import AssetType
from alerts.core.crs import TO_METRIC, to_metric
from alerts.core.geography import BoundaryFiles, read_features


class Domain(StrEnum):
    """How an asset moves."""

    AIR = "air"
    SEA = "sea"
    GROUND = "ground"


#: The domain of each asset type (the README's asset table carries the same).
DOMAIN_OF: dict[AssetType, Domain] = {t: Domain.GROUND for t in AssetType} | {
    AssetType.UTILITY_HELICOPTER: Domain.AIR,
    AssetType.TRANSPORT_AIRCRAFT: Domain.AIR,
    AssetType.FIREFIGHTING_AIRCRAFT: Domain.AIR,
    AssetType.COAST_GUARD_VESSEL: Domain.SEA,
}

#: How far from the coast (km, either side) a vessel still reaches an incident
#: on land, and a ground unit one at sea.
COASTAL_KM = 10.0
#: The longest stretch of water (km) a ground unit's straight line may cross.
MAX_CROSSING_KM = 30.0
#: Spacing (km) of the samples along a ground unit's straight line.
SAMPLE_KM = 1.0


class Reach:
    """Reachability of incidents by assets over a fixed land geometry.

    ``land`` is a list of polygons in ETRS89-LAEA metres (``to_metric``).
    Built once per process (``from_boundaries`` caches per file); queries are
    vectorised over the candidate assets.
    """

    def __init__(self, land: list[shapely.Geometry]):
        simplified = shapely.make_valid(shapely.simplify(np.asarray(land, dtype=object), 250.0))
        self._land = shapely.union_all(simplified)
        self._coast = self._land.boundary
        shapely.prepare(self._land)

    @classmethod
    def from_boundaries(cls, admin0: Path | None = None) -> "Reach":
        """The reach over the shipped country polygons (or those of ``admin0``, a GeoJSON file)."""
        return _reach_of(Path(admin0 or BoundaryFiles().admin0))

    def coastal(self, lon: float, lat: float) -> bool:
        """Whether a point (degrees) is at sea, or on land within ``COASTAL_KM`` of the coast."""
        x, y = TO_METRIC.transform(lon, lat)
        if not shapely.contains_xy(self._land, x, y):
            return True
        return bool(shapely.distance(self._coast, shapely.Point(x, y)) <= COASTAL_KM * 1000.0)

    def near_land(self, lon: float, lat: float) -> bool:
        """Whether a point (degrees) is on land, or at sea within ``COASTAL_KM`` of it."""
        x, y = TO_METRIC.transform(lon, lat)
        return bool(shapely.contains_xy(self._land, x, y)
                    or shapely.distance(self._land, shapely.Point(x, y)) <= COASTAL_KM * 1000.0)

    def longest_crossing_km(self, lons: np.ndarray, lats: np.ndarray, lon: float, lat: float) -> np.ndarray:
        """For each start (degrees), the longest run of water (km, within ``SAMPLE_KM``) on the
        straight line (in ETRS89-LAEA) from it to ``lon``, ``lat``."""
        xs, ys = TO_METRIC.transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        x0, y0 = TO_METRIC.transform(lon, lat)
        step = SAMPLE_KM * 1000.0
        counts = np.maximum(2, np.ceil(np.hypot(xs - x0, ys - y0) / step).astype(int) + 1)
        which = np.repeat(np.arange(len(xs)), counts)
        along = np.concatenate([np.linspace(0.0, 1.0, n) for n in counts])
        wet = ~shapely.contains_xy(self._land, xs[which] + (x0 - xs[which]) * along,
                                   ys[which] + (y0 - ys[which]) * along)
        longest = np.zeros(len(xs))
        for i, chunk in enumerate(np.split(wet, np.cumsum(counts)[:-1])):
            if chunk.any():  # runs of True: their lengths from the edges of the padded mask
                edges = np.flatnonzero(np.diff(np.concatenate(([0], chunk.view(np.int8), [0]))))
                spacing = np.hypot(xs[i] - x0, ys[i] - y0) / (counts[i] - 1)
                longest[i] = (edges[1::2] - edges[::2]).max() * spacing / 1000.0
        return longest

    def reachable(self, domains: np.ndarray, lons: np.ndarray, lats: np.ndarray, lon: float, lat: float
                  ) -> np.ndarray:
        """Boolean mask over assets (``domains``: ``Domain`` values; positions in degrees):
        which can reach an incident at ``lon``, ``lat`` (module docstring for the rules)."""
        domains = np.asarray(domains, dtype=object)
        ok = domains == Domain.AIR.value
        sea = domains == Domain.SEA.value
        if sea.any() and self.coastal(lon, lat):
            ok |= sea
        ground = np.flatnonzero(domains == Domain.GROUND.value)
        if len(ground) and self.near_land(lon, lat):
            crossing = self.longest_crossing_km(np.asarray(lons)[ground], np.asarray(lats)[ground], lon, lat)
            ok[ground] = crossing <= MAX_CROSSING_KM
        return ok


@functools.cache
def _reach_of(admin0: Path) -> Reach:
    lonlat = [shapely.geometry.shape(f["geometry"]) for f in read_features(admin0)]
    return Reach(list(to_metric(np.array(lonlat, dtype=object))))
