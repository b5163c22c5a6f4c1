"""Our incidents as Cursor-on-Target events, for TAK servers and clients.

Each incident becomes one CoT 2.0 event:

| CoT                         | from                                                       |
|-----------------------------|------------------------------------------------------------|
| ``uid``                     | ``crisis.alert.<id>``                                      |
| ``type``                    | ``b-m-p-s-p-i`` (a point of interest on the map)           |
| ``time``, ``start``         | the alert's ``reported_at``                                |
| ``stale``                   | generation time + ``stale_after`` (default one hour)       |
| ``how``                     | ``h-e`` (entered by a person)                              |
| ``opex``                    | ``e`` for exercise alerts, ``o`` otherwise                 |
| ``point``                   | the alert's position (a point inside an area alert)        |
| ``detail/contact@callsign`` | ``SEVERITY type: title`` (what TAK shows as the label)     |
| ``detail/remarks``          | title and description                                      |
| ``detail/crisis``           | every field of the alert, so our own decoder (``alerts.formats.cot.decode``) reads it back unchanged; ``@status`` its workflow status |

An unlocated incident is not sent (a CoT event needs a point). A closed
incident (resolved, cancelled or expired) is sent as its event with
``stale`` = now, followed by a deletion (``t-x-d-d`` with ``detail/link`` to
the incident's uid and ``__forcedelete``, as ATAK and TAK Server remove a map
item): ``incident_events`` gives both. Which incidents are sent is decided by
the caller (releasability applies).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from lxml import etree

from alerts.core.assets import Asset
from alerts.core.model import StoredAlert
from alerts.formats.text import xml_safe

INCIDENT_TYPE = "b-m-p-s-p-i"
DELETE_TYPE = "t-x-d-d"
UID_PREFIX = "crisis.alert."
ASSET_UID_PREFIX = "crisis.asset."
#: Friendly units by how they move (MIL-STD-2525 via CoT: ground unit, air, sea surface).
ASSET_TYPES = {"ground": "a-f-G-U", "specialist": "a-f-G-U", "medical": "a-f-G-U", "air": "a-f-A",
               "maritime": "a-f-S"}
CRISIS_DETAIL = "crisis"
_COT_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_COT_TIME)


def incident_event(stored: StoredAlert, now: datetime, stale_after: timedelta = timedelta(hours=1)) -> etree._Element:
    """One incident as a CoT event (see the module docstring); a closed one is stale at ``now``."""
    alert = stored.alert
    if not stored.status.is_open:
        stale_after = timedelta(0)
    event = etree.Element("event", {
        "version": "2.0",
        "uid": xml_safe(f"{UID_PREFIX}{stored.id}"),
        "type": INCIDENT_TYPE,
        "time": _time(alert.reported_at),
        "start": _time(alert.reported_at),
        "stale": _time(now + stale_after),
        "how": "h-e",
        "opex": "e" if alert.exercise else "o",
    })
    etree.SubElement(event, "point", {
        "lat": f"{stored.lat:.6f}", "lon": f"{stored.lon:.6f}", "hae": "9999999.0", "ce": "50.0", "le": "9999999.0",
    })
    detail = etree.SubElement(event, "detail")
    label = f"{alert.severity.value.upper()} {alert.type.value.replace('_', ' ')}: {alert.title}"
    etree.SubElement(detail, "contact", {"callsign": xml_safe(label[:120])})
    remarks = etree.SubElement(detail, "remarks")
    remarks.text = xml_safe(alert.title + (f"\n{alert.description}" if alert.description else ""))
    crisis = etree.SubElement(detail, CRISIS_DETAIL, {"schema": "1", "status": stored.status.value})
    # ASCII-only JSON: every character survives the XML round trip exactly, whatever it is.
    crisis.text = json.dumps(alert.model_dump(mode="json", exclude_none=True), ensure_ascii=True)
    return event


def delete_event(uid: str, cot_type: str, now: datetime) -> etree._Element:
    """A TAK deletion of the map item ``uid`` (of type ``cot_type``): ``t-x-d-d`` with a link and ``__forcedelete``."""
    event = etree.Element("event", {
        "version": "2.0", "uid": xml_safe(f"{uid}.delete"), "type": DELETE_TYPE, "time": _time(now), "start": _time(now),
        "stale": _time(now + timedelta(minutes=1)), "how": "h-g-i-g-o",
    })
    etree.SubElement(event, "point", {"lat": "0.0", "lon": "0.0", "hae": "9999999.0", "ce": "9999999.0",
                                      "le": "9999999.0"})
    detail = etree.SubElement(event, "detail")
    etree.SubElement(detail, "link", {"uid": xml_safe(uid), "relation": "p-p", "type": cot_type})
    etree.SubElement(detail, "__forcedelete")
    return event


def incident_events(stored: StoredAlert, now: datetime) -> list[etree._Element]:
    """What a TAK stream carries for an incident: its event, and a deletion once it is closed.

    An unlocated incident carries nothing: a CoT event needs a point, and none would be honest.
    """
    if not stored.located:
        return []
    events = [incident_event(stored, now)]
    if not stored.status.is_open:
        events.append(delete_event(f"{UID_PREFIX}{stored.id}", INCIDENT_TYPE, now))
    return events


def asset_event(asset: Asset, now: datetime, stale_after: timedelta = timedelta(minutes=10)) -> etree._Element:
    """A response asset as a friendly-unit position report (``crisis.asset.<id>``)."""
    event = etree.Element("event", {
        "version": "2.0", "uid": xml_safe(f"{ASSET_UID_PREFIX}{asset.id}"), "type": ASSET_TYPES[asset.group.value],
        "time": _time(asset.updated_at), "start": _time(asset.updated_at), "stale": _time(now + stale_after),
        "how": "m-g",
    })
    etree.SubElement(event, "point", {
        "lat": f"{asset.position.lat:.6f}", "lon": f"{asset.position.lon:.6f}", "hae": "9999999.0",
        "ce": "50.0", "le": "9999999.0"})
    detail = etree.SubElement(event, "detail")
    etree.SubElement(detail, "contact", {"callsign": xml_safe(f"{asset.name} ({asset.nation})"[:120])})
    etree.SubElement(detail, "track", {"speed": f"{asset.speed_kmh / 3.6:.1f}", "course": "0"})
    remarks = etree.SubElement(detail, "remarks")
    remarks.text = xml_safe(f"{asset.type.value.replace('_', ' ')}, {asset.status.value}" + (
        f", assigned to {asset.assigned_to}" if asset.assigned_to else ""))
    return event


def events_document(stored_alerts: Iterable[StoredAlert], now: datetime, assets: Iterable[Asset] = ()) -> bytes:
    """Several events under one ``<events>`` root (what ``GET /api/v1/cot`` answers)."""
    root = etree.Element("events")
    for stored in stored_alerts:
        if stored.located:
            root.append(incident_event(stored, now))
    for asset in assets:
        root.append(asset_event(asset, now))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def event_bytes(item: StoredAlert | Asset, now: datetime) -> bytes:
    """One event as a standalone document (what a TAK TCP stream carries, one after another)."""
    element = incident_event(item, now) if isinstance(item, StoredAlert) else asset_event(item, now)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def stream_bytes(item: StoredAlert | Asset, now: datetime) -> bytes:
    """Everything a TAK stream carries for ``item``, as standalone documents one after another
    (for a closed incident: its event, then its deletion)."""
    elements = incident_events(item, now) if isinstance(item, StoredAlert) else [asset_event(item, now)]
    return b"".join(etree.tostring(e, xml_declaration=True, encoding="UTF-8") + b"\n" for e in elements)
