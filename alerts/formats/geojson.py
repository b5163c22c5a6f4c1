"""Alerts to and from GeoJSON (RFC 7946, lon/lat).

Export: one Feature per alert; the geometry is the alert's area, else its
point, else ``null`` (an unlocated alert); the properties are the alert's own
fields plus what ingest added (``placement``, ``status``, ``received_at``)
and the alert's marking as the centre holds it (``alerts.core.markings``):
``classification`` (a level name), ``caveats`` (a list), ``tlp`` (a TLP 2.0
label, or null) and ``releasable_to`` (alpha-2 codes or ``["ALL"]``), which
replace whatever the producer's message said. The FeatureCollection carries
the marking of its whole content as the foreign member ``marking`` (RFC 7946
section 6.1; ``Marking.as_dict``: the four fields and the banner ``line``),
the most restrictive over its alerts; without alerts, the lowest level.

Import: **one Feature per message**. ``split_payloads`` (``crisisdash
publish``) sends each feature of a FeatureCollection as its own payload;
ingest maps it (``alert_document``, from ``alerts.formats.json_alert``),
recognised by its structure, never by one optional field:

- **the USGS earthquake feed** (USGS "GeoJSON Summary Format",
  https://earthquake.usgs.gov/earthquakes/feed/v1.0/geojson.php): a Point
  ``[lon, lat, depth km]`` and properties ``time`` (epoch milliseconds, a
  number), ``mag`` (a number, or null when the magnitude is unknown),
  ``net`` and ``code`` (strings), with ``place``, ``title``, ``url`` and the
  event ``type``. It becomes alert ``usgs:<feature id>`` (else
  ``usgs:<net><code>``), ``natural_disaster`` (``other`` for event types such
  as ``quarry blast``), severity from the magnitude (>= 6 critical, >= 5
  high, >= 4 medium, else low; unknown: low, and the title says "magnitude
  unknown"), releasable to ALL, with ``magnitude`` (null when unknown),
  ``depth_km`` and ``url`` kept; a magnitude outside ``MAGNITUDE_RANGE``
  (-2 to 10.5, beyond any measured earthquake) is refused;
- **our own export**: the properties are alert fields (at least ``type``,
  ``severity``, ``title``, ``reported_at``, ``source``; ``id`` or the
  feature's id); a Point is the ``location``, a Polygon or MultiPolygon the
  ``area``, null an unlocated alert;
- anything else is refused, naming what was expected. A FeatureCollection
  sent as one message is refused too (one message is one alert).
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from alerts.core.assets import Asset
from alerts.core.markings import Classifications, Marking, most_restrictive
from alerts.core.model import StoredAlert
from alerts.core.times import parse_instant
from alerts.formats.errors import Rejected
from alerts.formats.text import one_line

_ADDED_BY_INGEST = ("placement", "status", "received_at", "position")
#: The properties a feature of our own export has at least (besides ``id``).
OUR_FIELDS = ("type", "severity", "title", "reported_at", "source")
#: What identifies a USGS feed feature (properties), besides its Point.
USGS_FIELDS = ("time", "mag", "net", "code")
#: USGS event types (ComCat ``type``) that are natural hazards; others (explosions...) become ``other``.
USGS_NATURAL = {"earthquake", "ice quake", "landslide", "snow avalanche", "volcanic eruption"}
USGS = "USGS earthquake feed"
OURS = "our GeoJSON export"
EXPECTED = (f"expected our export's properties ({', '.join(OUR_FIELDS)}, and id) or the USGS earthquake feed's "
            "(time in epoch milliseconds, mag a number or null, net, code; a Point geometry)")


def marking_properties(marking: Marking) -> dict:
    """An item's marking as feature properties: ``classification``, ``caveats``, ``tlp``, ``releasable_to``."""
    properties = marking.as_dict()
    properties.pop("line")
    return properties


def feature(stored: StoredAlert, scheme: Classifications = Classifications()) -> dict:
    """One alert as a GeoJSON Feature: its area, else its point, else null; its fields, what ingest added
    and its marking under ``scheme`` (the deployment's levels: an unmarked alert has the lowest)."""
    alert = stored.alert.portable()
    area = alert.pop("area", None)
    alert.pop("location", None)
    located = stored.lon is not None and stored.lat is not None
    geometry = area or ({"type": "Point", "coordinates": [stored.lon, stored.lat]} if located else None)
    properties = {
        **alert,
        **marking_properties(stored.routing.marking(scheme)),
        "placement": stored.placement.model_dump(mode="json"),
        "status": stored.status.value,
        "received_at": stored.received_at.isoformat(),
    }
    return {"type": "Feature", "id": stored.id, "geometry": geometry, "properties": properties}


def feature_collection(alerts: Iterable[StoredAlert], assets: Iterable[Asset] = (),
                       scheme: Classifications = Classifications()) -> dict:
    """Alerts (and response assets: their ``type`` is an asset type) as one FeatureCollection, with the
    ``marking`` of its content (the most restrictive over the alerts; none: the lowest level of ``scheme``)."""
    alerts = list(alerts)
    marking = most_restrictive((stored.routing.marking(scheme) for stored in alerts), scheme)
    return {"type": "FeatureCollection", "marking": marking.as_dict(),
            "features": [feature(a, scheme) for a in alerts] + [asset_feature(a) for a in assets]}


def asset_feature(asset: Asset) -> dict:
    """An asset as a Point feature in the format ``crisisdash assets import`` reads back."""
    properties = asset.model_dump(mode="json", exclude_none=True)
    position = properties.pop("position")
    return {"type": "Feature", "id": asset.id, "properties": properties,
            "geometry": {"type": "Point", "coordinates": [position["lon"], position["lat"]]}}


def is_feature_collection(document: Any) -> bool:
    """Whether ``document`` is a GeoJSON FeatureCollection."""
    return isinstance(document, dict) and document.get("type") == "FeatureCollection"


def alert_document(item: Any) -> tuple[str, dict]:
    """``(which mapping, alert document)`` for one GeoJSON Feature (module docstring); ``Rejected`` otherwise.

    The document is alert schema v1 as a dict, not validated yet (the caller
    validates it). Which mapping is ``USGS`` or ``OURS``.
    """
    if is_feature_collection(item):
        count = f" ({len(item['features'])} features)" if isinstance(item.get("features"), list) else ""
        raise Rejected(f"a GeoJSON FeatureCollection{count} is not one alert: send one Feature per "
                       "message (crisisdash publish splits a FeatureCollection into its features)")
    if not isinstance(item, dict) or item.get("type") != "Feature":
        raise Rejected("not a GeoJSON Feature (RFC 7946 section 3.2: an object with \"type\": \"Feature\")")
    properties, geometry = item.get("properties"), item.get("geometry")
    if not isinstance(properties, dict):
        raise Rejected(f"GeoJSON Feature has no properties object: {EXPECTED}")
    if geometry is not None and not isinstance(geometry, dict):
        raise Rejected("GeoJSON Feature geometry must be an object or null (RFC 7946 section 3.2)")
    if _is_usgs(properties, geometry):
        return USGS, _from_usgs(item, properties, geometry)  # type: ignore[arg-type]
    missing = [name for name in OUR_FIELDS if name not in properties]
    if not missing:
        return OURS, _from_ours(item, properties, geometry)
    raise Rejected(f"GeoJSON Feature fits no known mapping: {EXPECTED}; "
                   f"its properties lack {', '.join(missing)} and it is not a USGS feed feature")


def alert_payloads(collection: dict) -> list[dict]:
    """One alert document per feature of a FeatureCollection (``alert_document``); ``Rejected`` at the first misfit."""
    return [alert_document(item)[1] for item in collection.get("features") or []]


def split_payloads(raw: bytes) -> list[bytes]:
    """A file as ingest payloads: each Feature of a FeatureCollection as its own JSON payload, else the file itself.

    Features are not mapped here: ingest maps each one, and dead-letters the
    ones that fit no mapping, with the reason.
    """
    if raw.lstrip()[:1] != b"{":
        return [raw]
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return [raw]  # ingest dead-letters it with the reason
    if not is_feature_collection(document) or not isinstance(document.get("features"), list):
        return [raw]
    return [json.dumps(item, separators=(",", ":")).encode() for item in document["features"]]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_usgs(properties: dict, geometry: dict | None) -> bool:
    """Whether a feature has the USGS summary format's structure (module docstring)."""
    return (
        all(name in properties for name in USGS_FIELDS)
        and _number(properties["time"])
        and (properties["mag"] is None or _number(properties["mag"]))
        and isinstance(properties["net"], str) and isinstance(properties["code"], str)
        and isinstance(geometry, dict) and geometry.get("type") == "Point"
    )


#: Magnitudes a USGS feature may carry (inclusive): beyond any measured event (the largest, Chile 1960, was 9.5;
#: ComCat lists small negative magnitudes for micro-quakes). Anything else is a broken or hostile feed.
MAGNITUDE_RANGE = (-2.0, 10.5)


def _usgs_severity(magnitude: float | None) -> str:
    if magnitude is None:
        return "low"
    if magnitude >= 6:
        return "critical"
    if magnitude >= 5:
        return "high"
    if magnitude >= 4:
        return "medium"
    return "low"


def _from_usgs(item: dict, properties: dict, geometry: dict) -> dict:
    coordinates = geometry.get("coordinates")
    if not (isinstance(coordinates, list) and len(coordinates) >= 2 and all(map(_number, coordinates[:3]))):
        raise Rejected("USGS feed feature: geometry is not a Point [lon, lat, depth]: "
                       f"{one_line(str(coordinates), 80)}")
    lon, lat, *rest = coordinates
    magnitude = properties["mag"]
    if magnitude is not None and not MAGNITUDE_RANGE[0] <= magnitude <= MAGNITUDE_RANGE[1]:
        raise Rejected(f"USGS feed feature: properties.mag {magnitude:g} is outside the magnitude range "
                       f"{MAGNITUDE_RANGE[0]:g} to {MAGNITUDE_RANGE[1]:g}")
    event_type = properties.get("type") if isinstance(properties.get("type"), str) else "earthquake"
    place = properties.get("place") if isinstance(properties.get("place"), str) else ""
    event_id = item.get("id") if isinstance(item.get("id"), str) and item["id"].strip() else \
        properties["net"] + properties["code"]
    if magnitude is None:
        title = f"{event_type.capitalize()}, magnitude unknown" + (f" - {place}" if place else "")
    else:
        given = properties.get("title")
        title = given if isinstance(given, str) and given.strip() else \
            f"M {magnitude:g} {event_type}" + (f" - {place}" if place else "")
    try:
        reported_at = parse_instant(datetime.fromtimestamp(properties["time"] / 1000, UTC), "properties.time")
    except (ValueError, OverflowError, OSError) as exc:
        raise Rejected(f"USGS feed feature: properties.time {properties['time']} (epoch milliseconds): {exc}") from None
    return {
        "id": f"usgs:{event_id}",
        "type": "natural_disaster" if event_type.lower() in USGS_NATURAL else "other",
        "severity": _usgs_severity(magnitude),
        "title": one_line(title, 300),
        "description": place,
        "location": {"lat": lat, "lon": lon},
        "reported_at": reported_at.isoformat(),
        "source": "USGS",
        "releasable_to": ["ALL"],
        "exercise": False,
        "magnitude": magnitude,
        "depth_km": rest[0] if rest else None,
        "url": properties.get("url"),
    }


def _from_ours(item: dict, properties: dict, geometry: dict | None) -> dict:
    document = dict(properties)
    for name in _ADDED_BY_INGEST:
        document.pop(name, None)
    feature_id = item.get("id")
    document.setdefault("id", str(feature_id) if _number(feature_id) else feature_id)
    kind = geometry.get("type") if geometry else None
    if kind == "Point":
        coordinates = geometry.get("coordinates")  # type: ignore[union-attr]
        lon, lat = coordinates[:2] if isinstance(coordinates, list) and len(coordinates) >= 2 else (None, None)
        document["location"] = {"lat": lat, "lon": lon}
    elif kind in ("Polygon", "MultiPolygon"):
        document["area"] = geometry
    elif geometry is not None:
        raise Rejected(f"GeoJSON Feature geometry {one_line(str(kind), 40)!r} cannot be an alert's place "
                       "(a Point, a Polygon, a MultiPolygon, or null for an unlocated alert)")
    return document
