"""The coordinate reference systems used, and the one transformer or ellipsoid for each purpose.

- Data is stored and exchanged in **EPSG:4326** (WGS84 longitude/latitude,
  degrees; GeoJSON order lon, lat per RFC 7946).
- Areas, buffers and point-in-region tests are computed in **EPSG:3035**
  (ETRS89-LAEA Europe, metres, equal-area; its scale error in the Balkans is
  well under 1 %).
- Distances between two points are geodesic on the **WGS84 ellipsoid**
  (``GEOD.inv``, metres), never in degrees.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod, Transformer

STORAGE_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:3035"

#: lon/lat (degrees) -> x/y (metres, EPSG:3035)
TO_METRIC = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
#: x/y (metres, EPSG:3035) -> lon/lat (degrees)
TO_LONLAT = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)
#: The WGS84 ellipsoid, for geodesic distances (``inv``) and points at a distance (``fwd``).
GEOD = Geod(ellps="WGS84")


def to_metric(geometries):
    """Shapely geometries (an array or one) from lon/lat degrees to EPSG:3035 metres."""
    return shapely.transform(geometries, lambda xy: np.column_stack(TO_METRIC.transform(xy[:, 0], xy[:, 1])))


def to_lonlat(geometries):
    """Shapely geometries (an array or one) from EPSG:3035 metres back to lon/lat degrees."""
    return shapely.transform(geometries, lambda xy: np.column_stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
