"""Cursor-on-Target (CoT 2.0) emergency events -> ``Alert``.

An event carrying our own ``detail/crisis`` element (see ``alerts.formats.cot.encode``)
becomes exactly the alert it was made from. Otherwise only the emergency
("alarm") types become alerts: what ATAK and WinTAK send
when a user presses 911 Alert, Ring The Bell, Troops In Contact, or when a
geofence is breached, and the cancel of such an alarm. Position reports
(``a-*``) are refused as ``ForAssets`` (alert ingest hands them to asset ingest,
``alerts.formats.cot.positions``) and map markers (``b-m-*``) are refused. The mapping is
documented in ``docs/cap-mapping.md`` (section "Cursor-on-Target").

Anything that cannot become an alert raises ``Rejected``.
"""
from __future__ import annotations

import json
from typing import Any

from lxml import etree
from pydantic import ValidationError

from alerts.core.model import Alert, AlertType, Location, Severity
from alerts.formats.cot.fields import UNKNOWN_ERROR, cot_times, event_uid, has_fix, is_exercise, point
from alerts.formats.errors import ForAssets, Rejected, validation_reason
from alerts.formats.json_alert import decode_alert_document
from alerts.formats.text import free_text, one_line

#: type -> (what ATAK calls it, our severity)
ALERT_TYPES: dict[str, tuple[str, Severity]] = {
    "b-a-o-tbl": ("911 Alert", Severity.HIGH),
    "b-a-o-pan": ("Ring The Bell", Severity.CRITICAL),
    "b-a-o-opn": ("Troops In Contact", Severity.HIGH),
    "b-a-g": ("Geo-fence Breached", Severity.HIGH),
    "b-a-o-c": ("Custom Emergency", Severity.HIGH),
}
CANCEL_TYPE = "b-a-o-can"
#: Every CoT alarm type starts so (MIL-STD-2525 "b-a": bits, alarm); one not in ``ALERT_TYPES`` (a newer
#: ATAK, a plug-in) is still an emergency: an alert of severity high, never a dead letter.
ALARM_PREFIX = "b-a-"
_OTHER_ALARM = ("Alarm", Severity.HIGH)

_TITLE_MAX = 300
_DESCRIPTION_MAX = 20_000


def _crisis_detail(crisis: etree._Element) -> Alert:
    """An event we sent ourselves (``alerts.formats.cot.encode``): its ``detail/crisis`` holds the whole alert as
    JSON, decoded as our JSON is (``decode_alert_document``: the extras only CAP and CoT decoding set are
    refused there, so a crafted crisis detail cannot pass for a CAP sender or a TAK device)."""
    if crisis.get("schema") != "1":
        raise Rejected(f"CoT detail <crisis> schema {one_line(crisis.get('schema') or 'missing', 20)!r} is not 1")
    try:
        document = json.loads(crisis.text or "")
    except ValueError as exc:
        raise Rejected(f"CoT detail <crisis> is not JSON: {exc}") from None
    return decode_alert_document(document)


def decode_cot_event(event: etree._Element, ours: bool = True) -> Alert:
    """A CoT ``<event>`` (ours, or an ATAK/WinTAK emergency or its cancel) as an alert; raises ``Rejected``.

    The event's ``time``, ``start`` and ``stale`` are checked whatever it carries (``cot_times``).
    ``ours`` False (an event off a TAK listener, where any device may write anything): a ``detail/crisis``
    is not taken as ours, the event is decoded by its type like any device's.
    """
    crisis = event.find("detail/crisis") if ours else None
    if crisis is not None:
        cot_times(event)
        return _crisis_detail(crisis)
    cot_type = (event.get("type") or "").strip()
    if not cot_type:
        raise Rejected("CoT event has no 'type' attribute")
    if cot_type.startswith("a-"):
        raise ForAssets(f"CoT {one_line(cot_type, 40)} is a position/marker report, not an alert")
    if cot_type.startswith("b-m-"):
        raise Rejected(f"CoT {one_line(cot_type, 40)} is a position/marker report, not an alert")
    if not cot_type.startswith(ALARM_PREFIX):
        accepted = ", ".join([*ALERT_TYPES, CANCEL_TYPE])
        raise Rejected(f"CoT {one_line(cot_type, 40)} is not an alert type (accepted: {accepted} and every "
                       f"other {ALARM_PREFIX}* alarm)")
    version = (event.get("version") or "").strip()
    if not version.startswith("2."):
        raise Rejected(f"CoT event version {one_line(version, 20) or 'missing'!r} is not 2.x")
    uid = event_uid(event)
    reported_at, _start, stale = cot_times(event)
    lat, lon, ce = point(event)

    detail = event.find("detail")
    contact = detail.find("contact") if detail is not None else None
    callsign = one_line((contact.get("callsign") or "") if contact is not None else "", 100)
    remarks = detail.find("remarks") if detail is not None else None
    remarks_text = free_text((remarks.text or "") if remarks is not None else "", _DESCRIPTION_MAX)
    emergency = detail.find("emergency") if detail is not None else None

    extra: dict[str, Any] = {"cot_type": cot_type}
    # Markings (MIL-STD-6090 event attributes as TAK writes them; alerts.core.routing reads them).
    for name, attributes in (("cot_access", ("access",)), ("cot_caveat", ("caveat",)),
                             ("cot_releasable_to", ("releasableTo", "releaseableTo"))):
        value = next((event.get(a) for a in attributes if event.get(a)), "")
        if value.strip():
            extra[name] = one_line(value, 200)
    if stale is not None:
        extra["cot_stale"] = stale.isoformat()  # not "stale": that is StoredAlert.stale in the API
    how = (event.get("how") or "").strip()
    if how:
        extra["how"] = one_line(how, 40)
    if callsign:
        extra["callsign"] = callsign
    if emergency is not None:
        label = one_line(emergency.get("type") or "", 100)
        if label:
            extra["emergency_type"] = label
    if ce is not None and ce < UNKNOWN_ERROR:
        extra["ce_m"] = ce

    fixed = has_fix(lat, lon, ce)
    if cot_type == CANCEL_TYPE:
        title = one_line(remarks_text or f"Cancellation of {uid}", _TITLE_MAX)
        document: dict[str, Any] = {
            "id": f"{uid}:cancel",
            "msg_type": "cancel",
            "references": [uid],
            "severity": Severity.LOW,
        }
    else:
        label, severity = ALERT_TYPES.get(cot_type, _OTHER_ALARM)
        title = one_line(remarks_text, _TITLE_MAX) or (f"{label}: {callsign}" if callsign else label)
        document = {"id": uid, "msg_type": "alert", "severity": severity}
    if not fixed:  # an emergency without a GPS fix is still an emergency: kept, unlocated
        extra["geometry_unknown"] = True

    document.update(
        {
            **extra,
            "type": AlertType.OTHER,
            "title": title,
            "description": remarks_text,
            "location": Location(lat=lat, lon=lon) if fixed else None,
            "reported_at": reported_at,
            "source": callsign if len(callsign) >= 2 else "TAK",
            "exercise": is_exercise(event, detail),
        }
    )
    try:
        return Alert.model_validate(document)
    except ValidationError as exc:
        raise Rejected("CoT event does not fit alert schema v1: " + validation_reason(exc)) from None
