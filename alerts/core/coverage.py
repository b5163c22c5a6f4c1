"""Coverage: where ready assets of one capability can be within a time, and which places they cannot reach.

Domain core (no Redis, no Dash). Each ready asset with the capability reaches
a disc of radius ``speed_kmh * minutes / 60`` around its position. Discs are
buffered in a metric CRS (ETRS89-LAEA, EPSG:3035, equal-area for Europe: in
the Balkans its scale error is well under 1 %), unioned, and the union is
transformed back to lon/lat for drawing. A gap is a populated place of a core
country outside every disc.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from alerts.core.assets import Asset, AssetStatus
from alerts.core.crs import TO_METRIC, to_lonlat
from alerts.core.geography import BoundaryFiles, country_code, read_features


@dataclass(frozen=True)
class Places:
    """Populated places (core countries), projected once."""

    names: list[str]
    countries: list[str]
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def from_points(cls, names: list[str], countries: list[str], lon, lat) -> "Places":
        """Places from names, ISO2 countries and lon/lat (degrees), projected to EPSG:3035 once."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        x, y = TO_METRIC.transform(lon, lat)
        return cls(list(names), list(countries), lon, lat, np.asarray(x), np.asarray(y))

    @classmethod
    def from_assets(cls, assets_dir: Path) -> "Places":
        """The populated places of the core countries from the shipped file (``BoundaryFiles.places``)."""
        features = read_features(BoundaryFiles(Path(assets_dir)).places)
        core = [f["properties"] for f in features if f["properties"].get("role") == "core"]
        return cls.from_points([p["name"] for p in core], [country_code(p) for p in core],
                               [p["longitude"] for p in core], [p["latitude"] for p in core])


@dataclass
class Coverage:
    """What ready assets with one capability reach within ``minutes``: the assets, the area (lon/lat), the places out of reach."""

    capability: str
    minutes: float
    assets: list[str] = field(default_factory=list)  # ids of the assets that count
    area: shapely.Geometry | None = None  # lon/lat (EPSG:4326); None when no asset counts
    gaps: list[dict] = field(default_factory=list)  # {name, country, lat, lon}
    covered: int = 0


def coverage(assets: list[Asset], capability: str, minutes: float, places: Places,
             nation: str | None = None, resolution: int = 16) -> Coverage:
    """What ready assets with ``capability`` (visible to ``nation``) reach within ``minutes``."""
    chosen = [a for a in assets if a.status is AssetStatus.READY and a.has_capability(capability)
              and a.visible_to(nation)]
    result = Coverage(capability, minutes, [a.id for a in chosen])
    if chosen and minutes > 0:
        x, y = TO_METRIC.transform([a.position.lon for a in chosen], [a.position.lat for a in chosen])
        radius_m = np.array([a.speed_kmh for a in chosen]) * minutes / 60.0 * 1000.0
        discs = shapely.buffer(shapely.points(np.asarray(x), np.asarray(y)), radius_m, quad_segs=resolution)
        metric = shapely.union_all(discs)
        inside = shapely.contains_xy(metric, places.x, places.y) | shapely.intersects_xy(metric, places.x, places.y)
        result.area = to_lonlat(metric)
    else:
        inside = np.zeros(len(places.names), dtype=bool)
    result.covered = int(inside.sum())
    result.gaps = [{"name": places.names[i], "country": places.countries[i],
                    "lat": float(places.lat[i]), "lon": float(places.lon[i])}
                   for i in np.flatnonzero(~inside)]
    return result


def capabilities_of(assets: list[Asset]) -> list[str]:
    """Every capability (and type name) the given assets offer, sorted."""
    found: set[str] = set()
    for asset in assets:
        found.add(asset.type.value)
        found.update(asset.capabilities)
    return sorted(found)
