"""Alerts to and from GeoJSON FeatureCollections (RFC 7946, lon/lat).

Export: one Feature per alert; the geometry is the alert's area, else its
point; the properties are the alert's own fields plus what ingest added
(``placement``, ``status``, ``received_at``).

Import: each Feature becomes one alert payload for ingest (which validates
it like any other, so a feature that does not fit goes to the dead letters
with a reason, nothing is dropped here):

- our own export: the properties are alert fields, the geometry its place;
- the USGS earthquake feed (``properties.mag`` and ``properties.time`` in
  epoch milliseconds): a ``natural_disaster`` alert ``usgs:<id>``, severity
  from the magnitude (>= 6 critical, >= 5 high, >= 4 medium, else low),
  releasable to ALL, with ``magnitude``, ``depth_km`` and ``url`` kept;
- anything else: its properties and geometry as they are.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from alerts.core.assets import Asset
from alerts.core.model import StoredAlert

_ADDED_BY_INGEST = ("placement", "status", "received_at", "position")


def feature(stored: StoredAlert) -> dict:
    """One alert as a GeoJSON Feature: its area, else its point; its fields and what ingest added as properties."""
    alert = stored.alert.model_dump(mode="json", exclude_none=True)
    area = alert.pop("area", None)
    alert.pop("location", None)
    geometry = area or {"type": "Point", "coordinates": [stored.lon, stored.lat]}
    properties = {
        **alert,
        "placement": stored.placement.model_dump(mode="json"),
        "status": stored.status.value,
        "received_at": stored.received_at.isoformat(),
    }
    return {"type": "Feature", "id": stored.id, "geometry": geometry, "properties": properties}


def feature_collection(alerts: Iterable[StoredAlert], assets: Iterable[Asset] = ()) -> dict:
    """Alerts (and response assets: their ``type`` is an asset type) as one FeatureCollection."""
    return {"type": "FeatureCollection",
            "features": [feature(a) for a in alerts] + [asset_feature(a) for a in assets]}


def asset_feature(asset: Asset) -> dict:
    """An asset as a Point feature in the format ``crisisdash assets import`` reads back."""
    properties = asset.model_dump(mode="json", exclude_none=True)
    position = properties.pop("position")
    return {"type": "Feature", "id": asset.id, "properties": properties,
            "geometry": {"type": "Point", "coordinates": [position["lon"], position["lat"]]}}


def is_feature_collection(document: Any) -> bool:
    """Whether ``document`` is a GeoJSON FeatureCollection."""
    return isinstance(document, dict) and document.get("type") == "FeatureCollection"


def _usgs_severity(magnitude: float) -> str:
    if magnitude >= 6:
        return "critical"
    if magnitude >= 5:
        return "high"
    if magnitude >= 4:
        return "medium"
    return "low"


def _from_usgs(item: dict, properties: dict, geometry: dict) -> dict:
    lon, lat, *rest = geometry.get("coordinates") or [None, None]
    magnitude = float(properties.get("mag") or 0)
    return {
        "id": f"usgs:{item.get('id') or properties.get('code')}",
        "type": "natural_disaster",
        "severity": _usgs_severity(magnitude),
        "title": properties.get("title") or f"M {magnitude} earthquake",
        "description": properties.get("place") or "",
        "location": {"lat": lat, "lon": lon},
        "reported_at": datetime.fromtimestamp(properties["time"] / 1000, UTC).isoformat(),
        "source": "USGS",
        "releasable_to": ["ALL"],
        "exercise": False,
        "magnitude": magnitude,
        "depth_km": rest[0] if rest else None,
        "url": properties.get("url"),
    }


def alert_payloads(collection: dict) -> list[dict]:
    """One alert document per feature (see the module docstring)."""
    payloads = []
    for item in collection.get("features") or []:
        if not isinstance(item, dict):
            payloads.append({"feature": item})
            continue
        properties = dict(item.get("properties") or {})
        geometry = item.get("geometry") or {}
        if isinstance(properties.get("mag"), (int, float)) and isinstance(properties.get("time"), (int, float)):
            payloads.append(_from_usgs(item, properties, geometry))
            continue
        for name in _ADDED_BY_INGEST:
            properties.pop(name, None)
        properties.setdefault("id", item.get("id"))
        if geometry.get("type") == "Point":
            lon, lat = (geometry.get("coordinates") or [None, None])[:2]
            properties["location"] = {"lat": lat, "lon": lon}
        elif geometry.get("type") in ("Polygon", "MultiPolygon"):
            properties["area"] = geometry
        payloads.append(properties)
    return payloads


def split_payloads(raw: bytes) -> list[bytes]:
    """A file as ingest payloads: one per feature for a FeatureCollection, else the file itself."""
    import json

    if raw.lstrip()[:1] != b"{":
        return [raw]
    try:
        document = json.loads(raw)
    except ValueError:
        return [raw]  # ingest dead-letters it with the reason
    if not is_feature_collection(document):
        return [raw]
    return [json.dumps(payload).encode() for payload in alert_payloads(document)]
