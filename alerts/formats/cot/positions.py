"""Cursor-on-Target position reports (PLI, ``a-*``) -> a live update of a response asset.

Register a TAK-equipped unit with its device uid as the asset id; its
position reports then move it on the map. Speed comes from
``detail/track@speed`` (m/s, converted to km/h). A report without a GPS fix
is refused.
"""
from __future__ import annotations

from lxml import etree
from pydantic import ValidationError

from alerts.core.assets import AssetUpdate, Point
from alerts.formats.cot.fields import cot_times, event_uid, has_fix, number, point
from alerts.formats.errors import Rejected, validation_reason
from alerts.formats.text import one_line

#: m/s (CoT ``track@speed``) to km/h.
KMH_PER_MS = 3.6


def decode_cot_position(event: etree._Element) -> AssetUpdate:
    """A CoT ``a-*`` event as the update of the asset whose ``id`` is the event's ``uid``; raises ``Rejected``."""
    cot_type = (event.get("type") or "").strip()
    if not cot_type.startswith("a-"):
        raise Rejected(f"CoT {one_line(cot_type or 'without type', 40)} is not a position report (a-*)")
    uid = event_uid(event)
    at, _start, _stale = cot_times(event)
    lat, lon, ce = point(event)
    if not has_fix(lat, lon, ce):
        raise Rejected(f"CoT position report from {one_line(uid, 60)} has no GPS fix (point {lat:g},{lon:g})")
    track = event.find("detail/track")
    speed = number(track, "speed") if track is not None else None
    try:
        return AssetUpdate(id=uid[:100], position=Point(lat=lat, lon=lon),
                           speed_kmh=speed * KMH_PER_MS if speed else None,
                           updated_at=at)
    except ValidationError as exc:
        raise Rejected("CoT position report does not fit an asset update: "
                       + validation_reason(exc, "asset update")) from None
