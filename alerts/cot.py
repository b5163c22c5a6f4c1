"""Cursor-on-Target (CoT 2.0) emergency events -> ``Alert``.

An event carrying our own ``detail/crisis`` element (see ``alerts.cot_out``)
becomes exactly the alert it was made from. Otherwise only the emergency
("alarm") types become alerts: what ATAK and WinTAK send
when a user presses 911 Alert, Ring The Bell, Troops In Contact, or when a
geofence is breached, and the cancel of such an alarm. Position reports
(``a-*``) and map markers (``b-m-*``) are refused for now. The mapping is
documented in ``docs/cap-mapping.md`` (section "Cursor-on-Target").

Anything that cannot become an alert raises ``alerts.decode.Rejected``.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lxml import etree
from pydantic import ValidationError

from alerts.decode import Rejected, format_validation_error
from alerts.model import Alert, AlertType, Location, Severity

if TYPE_CHECKING:
    from alerts.assets import AssetUpdate

#: type -> (what ATAK calls it, our severity)
ALERT_TYPES: dict[str, tuple[str, Severity]] = {
    "b-a-o-tbl": ("911 Alert", Severity.HIGH),
    "b-a-o-pan": ("Ring The Bell", Severity.CRITICAL),
    "b-a-o-opn": ("Troops In Contact", Severity.HIGH),
    "b-a-g": ("Geo-fence Breached", Severity.HIGH),
}
CANCEL_TYPE = "b-a-o-can"

#: CoT's "unknown" value for hae, ce and le.
UNKNOWN_ERROR = 9_999_999.0
#: A point this close to 0,0 with an unknown circular error is a device without a fix.
NULL_ISLAND_DEGREES = 0.1

_TITLE_MAX = 300
_DESCRIPTION_MAX = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _one_line(text: str, limit: int) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(text: str, limit: int = 80) -> str:
    return _one_line(text, limit)


def _time(event: etree._Element, name: str, required: bool) -> datetime | None:
    value = (event.get(name) or "").strip()
    if not value:
        if required:
            raise Rejected(f"CoT event has no '{name}' attribute")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"CoT '{name}' is not a date-time: {_short(value)!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)  # CoT times are UTC
    return parsed


def _number(element: etree._Element, name: str, default: float | None = None) -> float | None:
    value = element.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        raise Rejected(f"CoT point '{name}' is not a number: {_short(value)!r}") from None
    if not math.isfinite(number):
        raise Rejected(f"CoT point '{name}' is not a finite number: {_short(value)!r}")
    return number


def _point(event: etree._Element) -> tuple[float, float, float]:
    point = event.find("point")
    if point is None:
        raise Rejected("CoT event has no <point>")
    lat = _number(point, "lat")
    lon = _number(point, "lon")
    if lat is None or lon is None:
        raise Rejected("CoT <point> needs both 'lat' and 'lon'")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Rejected(f"CoT point {lat},{lon} is out of range (lat -90..90, lon -180..180)")
    ce = _number(point, "ce", UNKNOWN_ERROR)
    return lat, lon, ce  # type: ignore[return-value]


def _has_fix(lat: float, lon: float, ce: float) -> bool:
    if lat == 0 and lon == 0:
        return False
    near_null_island = abs(lat) < NULL_ISLAND_DEGREES and abs(lon) < NULL_ISLAND_DEGREES
    return not (near_null_island and ce >= UNKNOWN_ERROR)


def _exercise(event: etree._Element, detail: etree._Element | None) -> bool:
    """CoT ``opex`` (o = operations, e = exercise, s = simulation) on the event or in detail."""
    opex = (event.get("opex") or "").strip().lower()
    if opex:
        return opex[0] in ("e", "s")
    element = detail.find("opex") if detail is not None else None
    if element is None:
        return False
    values = [(element.text or "").strip().lower()] + [v.strip().lower() for v in element.attrib.values()]
    return not any(v.startswith("o") for v in values if v)


#: m/s (CoT ``track@speed``) to km/h.
_KMH_PER_MS = 3.6


def decode_cot_position(event: etree._Element) -> "AssetUpdate":
    """A CoT position report (``a-*``) as a live update of the asset whose ``id`` is the event's ``uid``.

    Register a TAK-equipped unit with its device uid as the asset id; its PLI
    then moves it on the map. Speed comes from ``detail/track@speed`` (m/s).
    A report without a GPS fix is refused.
    """
    from alerts.assets import AssetUpdate, Point

    cot_type = (event.get("type") or "").strip()
    if not cot_type.startswith("a-"):
        raise Rejected(f"CoT {_short(cot_type or 'without type', 40)} is not a position report (a-*)")
    uid = (event.get("uid") or "").strip()
    if not uid:
        raise Rejected("CoT event has no 'uid' attribute")
    lat, lon, ce = _point(event)
    if not _has_fix(lat, lon, ce):
        raise Rejected(f"CoT position report from {_short(uid, 60)} has no GPS fix (point {lat:g},{lon:g})")
    track = event.find("detail/track")
    speed = _number(track, "speed") if track is not None else None
    try:
        return AssetUpdate(id=uid[:100], position=Point(lat=lat, lon=lon),
                           speed_kmh=speed * _KMH_PER_MS if speed else None,
                           updated_at=_time(event, "time", required=True))
    except ValidationError as exc:
        raise Rejected("CoT position report does not fit an asset update: " + format_validation_error(exc)) from None


def _crisis_detail(event: etree._Element) -> Alert | None:
    """An event we sent ourselves (``alerts.cot_out``): its ``detail/crisis`` holds the whole alert."""
    crisis = event.find("detail/crisis")
    if crisis is None:
        return None
    if crisis.get("schema") != "1":
        raise Rejected(f"CoT detail <crisis> schema {_short(crisis.get('schema') or 'missing', 20)!r} is not 1")
    from alerts.decode import decode_alert_document

    try:
        document = json.loads(crisis.text or "")
    except ValueError as exc:
        raise Rejected(f"CoT detail <crisis> is not JSON: {exc}") from None
    return decode_alert_document(document)


def decode_cot_event(event: etree._Element) -> Alert:
    ours = _crisis_detail(event)
    if ours is not None:
        return ours
    cot_type = (event.get("type") or "").strip()
    if not cot_type:
        raise Rejected("CoT event has no 'type' attribute")
    if cot_type.startswith("a-") or cot_type.startswith("b-m-"):
        raise Rejected(f"CoT {_short(cot_type, 40)} is a position/marker report, not an alert")
    if cot_type not in ALERT_TYPES and cot_type != CANCEL_TYPE:
        accepted = ", ".join([*ALERT_TYPES, CANCEL_TYPE])
        raise Rejected(f"CoT {_short(cot_type, 40)} is not an alert type (accepted: {accepted})")
    version = (event.get("version") or "").strip()
    if not version.startswith("2."):
        raise Rejected(f"CoT event version {_short(version, 20) or 'missing'!r} is not 2.x")
    uid = (event.get("uid") or "").strip()
    if not uid:
        raise Rejected("CoT event has no 'uid' attribute")
    reported_at = _time(event, "time", required=True)
    stale = _time(event, "stale", required=False)
    lat, lon, ce = _point(event)

    detail = event.find("detail")
    contact = detail.find("contact") if detail is not None else None
    callsign = _one_line((contact.get("callsign") or "") if contact is not None else "", 100)
    remarks = detail.find("remarks") if detail is not None else None
    remarks_text = _CONTROL.sub("", (remarks.text or "") if remarks is not None else "").strip()
    emergency = detail.find("emergency") if detail is not None else None

    extra: dict[str, Any] = {"cot_type": cot_type}
    if stale is not None:
        extra["stale"] = stale.isoformat()
    how = (event.get("how") or "").strip()
    if how:
        extra["how"] = _one_line(how, 40)
    if callsign:
        extra["callsign"] = callsign
    if emergency is not None:
        label = _one_line(emergency.get("type") or "", 100)
        if label:
            extra["emergency_type"] = label
    if ce is not None and ce < UNKNOWN_ERROR:
        extra["ce_m"] = ce

    has_fix = _has_fix(lat, lon, ce)
    if cot_type == CANCEL_TYPE:
        title = _one_line(remarks_text or f"Cancellation of {uid}", _TITLE_MAX)
        document: dict[str, Any] = {
            "id": f"{uid}:cancel",
            "msg_type": "cancel",
            "references": [uid],
            "severity": Severity.LOW,
        }
        if not has_fix:
            lat, lon = 0.0, 0.0
            extra["geometry_unknown"] = True
    else:
        label, severity = ALERT_TYPES[cot_type]
        if not has_fix:
            who = f" from {callsign}" if callsign else ""
            raise Rejected(
                f"CoT {cot_type} ({label}){who} has no GPS fix (point {lat:g},{lon:g} with "
                "unknown error ce=9999999): cannot place the alert"
            )
        title = _one_line(remarks_text, _TITLE_MAX) or (f"{label}: {callsign}" if callsign else label)
        document = {"id": uid, "msg_type": "alert", "severity": severity}

    document.update(
        {
            **extra,
            "type": AlertType.OTHER,
            "title": title,
            "description": remarks_text[:_DESCRIPTION_MAX],
            "location": Location(lat=lat, lon=lon),
            "reported_at": reported_at,
            "source": callsign if len(callsign) >= 2 else "TAK",
            "exercise": _exercise(event, detail),
        }
    )
    try:
        return Alert.model_validate(document)
    except ValidationError as exc:
        raise Rejected("CoT event does not fit alert schema v1: " + format_validation_error(exc)) from None
