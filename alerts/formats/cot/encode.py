"""Our incidents as Cursor-on-Target events, for TAK servers and clients.

Each incident becomes one CoT 2.0 event:

| CoT                         | from                                                       |
|-----------------------------|------------------------------------------------------------|
| ``uid``                     | ``crisis.alert.<id>``                                      |
| ``type``                    | ``b-m-p-s-p-i`` (a point of interest on the map)           |
| ``time``, ``start``         | the alert's ``reported_at``                                |
| ``stale``                   | generation time + ``stale_after`` (default one hour)       |
| ``how``                     | ``h-e`` (entered by a person)                              |
| ``opex``                    | ``e-<exercise id>`` for an exercise's inject, ``e`` for another exercise alert, ``o`` otherwise |
| ``access``                  | the alert's classification (a level name; unmarked: the lowest) |
| ``caveat``                  | its caveats, comma-separated (left out when there are none) |
| ``releasableTo``            | the nations it is released to as ISO 3166-1 alpha-3 trigraphs (NATO STANAG 1059; ``XKX`` Kosovo), space-separated; left out when released to all |
| ``point``                   | the alert's position (a point inside an area alert)        |
| ``detail/contact@callsign`` | ``SEVERITY type: title`` (what TAK shows as the label)     |
| ``detail/remarks``          | title and description                                      |
| ``detail/crisis``           | every field of the alert (``Alert.portable``: what CAP/CoT decoding set under ``producer_fields``), so our own decoder (``alerts.formats.cot.decode``) reads it back; its markings (``classification``, ``caveats``, ``tlp``, ``releasable_to``) are those the centre holds; ``@status`` its workflow status |

``access``, ``caveat`` and ``releasableTo`` are the MIL-STD-6090 event
attributes TAK reads and writes for markings (and ``alerts.core.routing``
reads from a TAK emergency); CoT has no TLP attribute, so the TLP label
rides on our ``detail/crisis@tlp``. An asset event carries the lowest level and its
releasability the same way. ``events_document`` puts the marking of the
whole document (the most restrictive over its incidents) in a comment before
the ``<events>`` root and in the same three attributes on the root.

An unlocated incident is not sent (a CoT event needs a point). A closed
incident (resolved, cancelled or expired) is sent as its event with
``stale`` = now, followed by a deletion (``t-x-d-d`` with ``detail/link`` to
the incident's uid and ``__forcedelete``, as ATAK and TAK Server remove a map
item): ``incident_events`` gives both. Which incidents are sent is decided by
the caller (releasability applies).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from lxml import etree

from alerts.core.assets import Asset
from alerts.core.markings import RELEASABLE_TO_ALL, Classifications, Marking, most_restrictive
from alerts.core.model import StoredAlert
from alerts.core.nations import to_alpha3
from alerts.formats.cot.fields import cot_time
from alerts.formats.errors import Rejected
from alerts.formats.geojson import marking_properties
from alerts.formats.text import xml_safe
from alerts.formats.xmlsafe import parse_xml

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


def marking_attributes(marking: Marking) -> dict[str, str]:
    """A marking as CoT event attributes (MIL-STD-6090 as TAK writes them): ``access`` (the classification),
    ``caveat`` (comma-separated; left out when none), ``releasableTo`` (alpha-3 trigraphs, space-separated;
    left out when released to all or not released yet). Raises ``KeyError`` for a code that is not a country."""
    attributes = {"access": marking.classification}
    if marking.caveats:
        attributes["caveat"] = ",".join(marking.caveats)
    nations = marking.releasable_to
    if nations is not None and RELEASABLE_TO_ALL not in nations:
        attributes["releasableTo"] = " ".join(to_alpha3(code) for code in nations)
    return attributes


def _asset_marking(asset: Asset, scheme: Classifications) -> Marking:
    return Marking(scheme.lowest, releasable_to=tuple(asset.releasable_nations()))


def incident_event(stored: StoredAlert, now: datetime, stale_after: timedelta = timedelta(hours=1),
                   scheme: Classifications = Classifications()) -> etree._Element:
    """One incident as a CoT event (see the module docstring); a closed one is stale at ``now``.

    ``scheme``: the deployment's levels (an unmarked alert gets the lowest as its ``access``).
    """
    alert = stored.alert
    marking = stored.routing.marking(scheme)
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
        "opex": (f"e-{alert.exercise_id}" if alert.exercise_id else "e") if alert.exercise else "o",
        **marking_attributes(marking),
    })
    etree.SubElement(event, "point", {
        "lat": f"{stored.lat:.6f}", "lon": f"{stored.lon:.6f}", "hae": "9999999.0", "ce": "50.0", "le": "9999999.0",
    })
    detail = etree.SubElement(event, "detail")
    label = f"{alert.severity.value.upper()} {alert.type.value.replace('_', ' ')}: {alert.title}"
    etree.SubElement(detail, "contact", {"callsign": xml_safe(label[:120])})
    remarks = etree.SubElement(detail, "remarks")
    remarks.text = xml_safe(alert.title + (f"\n{alert.description}" if alert.description else ""))
    crisis = etree.SubElement(detail, CRISIS_DETAIL, {"schema": "1", "status": stored.status.value,
                                                      **({"tlp": marking.tlp.value} if marking.tlp else {})})
    document = alert.portable()
    document.update({k: v for k, v in marking_properties(marking).items() if v is not None})
    # ASCII-only JSON: every character survives the XML round trip exactly, whatever it is.
    crisis.text = json.dumps(document, ensure_ascii=True)
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


def incident_events(stored: StoredAlert, now: datetime,
                    scheme: Classifications = Classifications()) -> list[etree._Element]:
    """What a TAK stream carries for an incident: its event, and a deletion once it is closed.

    An unlocated incident carries nothing: a CoT event needs a point, and none would be honest.
    """
    if not stored.located:
        return []
    events = [incident_event(stored, now, scheme=scheme)]
    if not stored.status.is_open:
        events.append(delete_event(f"{UID_PREFIX}{stored.id}", INCIDENT_TYPE, now))
    return events


def asset_event(asset: Asset, now: datetime, stale_after: timedelta = timedelta(minutes=10),
                scheme: Classifications = Classifications()) -> etree._Element:
    """A response asset as a friendly-unit position report (``crisis.asset.<id>``), marked with the lowest
    level of ``scheme`` and the asset's releasability."""
    event = etree.Element("event", {
        "version": "2.0", "uid": xml_safe(f"{ASSET_UID_PREFIX}{asset.id}"), "type": ASSET_TYPES[asset.group.value],
        "time": _time(asset.updated_at), "start": _time(asset.updated_at), "stale": _time(now + stale_after),
        "how": "m-g", **marking_attributes(_asset_marking(asset, scheme)),
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


def events_document(stored_alerts: Iterable[StoredAlert], now: datetime, assets: Iterable[Asset] = (),
                    scheme: Classifications = Classifications()) -> bytes:
    """Several events under one ``<events>`` root (what ``GET /api/v1/cot`` answers), the document's marking
    (the most restrictive over its incidents; none: the lowest level) in a comment before the root
    (``<!-- CONFIDENTIAL//FOUO//REL TO BA, HR TLP:AMBER -->``) and as the root's marking attributes."""
    incidents = [stored for stored in stored_alerts if stored.located]
    marking = most_restrictive((stored.routing.marking(scheme) for stored in incidents), scheme)
    root = etree.Element("events", marking_attributes(marking))
    for stored in incidents:
        root.append(incident_event(stored, now, scheme=scheme))
    for asset in assets:
        root.append(asset_event(asset, now, scheme=scheme))
    root.addprevious(etree.Comment(f" {re.sub(r'-(?=-)', '- ', xml_safe(marking.line()))} "))  # no "--" in a comment
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def event_bytes(item: StoredAlert | Asset, now: datetime, scheme: Classifications = Classifications()) -> bytes:
    """One event as a standalone document (what a TAK TCP stream carries, one after another)."""
    element = incident_event(item, now, scheme=scheme) if isinstance(item, StoredAlert) \
        else asset_event(item, now, scheme=scheme)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def stream_bytes(item: StoredAlert | Asset, now: datetime, scheme: Classifications = Classifications()) -> bytes:
    """Everything a TAK stream carries for ``item``, as standalone documents one after another
    (for a closed incident: its event, then its deletion), marked under ``scheme`` (default: the default
    levels; pass the deployment's, ``Centre.scheme``, so an unmarked incident reads as its lowest level)."""
    elements = incident_events(item, now, scheme) if isinstance(item, StoredAlert) \
        else [asset_event(item, now, scheme=scheme)]
    return b"".join(etree.tostring(e, xml_declaration=True, encoding="UTF-8") + b"\n" for e in elements)


def withdrawal_bytes(item: StoredAlert | Asset, now: datetime) -> bytes:
    """The TAK deletion of an incident's or an asset's map item, as a standalone document (empty for an
    unlocated incident, which was never sent): for a stream whose user may no longer see it."""
    if isinstance(item, Asset):
        element = delete_event(f"{ASSET_UID_PREFIX}{item.id}", ASSET_TYPES[item.group.value], now)
    elif not item.located:
        return b""
    else:
        element = delete_event(f"{UID_PREFIX}{item.id}", INCIDENT_TYPE, now)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8") + b"\n"


#: How long a restamped event stays valid when the original says nothing usable (``restamped``).
RESTAMP_VALIDITY = timedelta(minutes=10)


def restamped(event_xml: bytes, now: datetime) -> bytes:
    """A CoT event (XML bytes, e.g. the ``--hello`` file of ``cot subscribe``) dated ``now``: ``time`` and
    ``start`` set to ``now``, ``stale`` to ``now`` plus what it was after ``time`` (``RESTAMP_VALIDITY`` when
    that is missing, unreadable or not positive), so one file sent on every connection is a current report,
    not one that went stale when the file was written. Raises ``alerts.formats.errors.Rejected`` when the
    bytes are not a CoT ``<event>`` (``alerts.formats.xmlsafe.parse_xml``'s refusals included)."""
    event = parse_xml(event_xml)
    if event.tag != "event":
        raise Rejected(f"not a CoT event: the root element is <{event.tag}>")
    try:
        time, stale = cot_time(event, "time", required=False), cot_time(event, "stale", required=False)
    except Rejected:
        time = stale = None
    validity = stale - time if time is not None and stale is not None and stale > time else RESTAMP_VALIDITY
    event.set("time", _time(now))
    event.set("start", _time(now))
    event.set("stale", _time(now + validity))
    return etree.tostring(event, xml_declaration=True, encoding="UTF-8")
