"""What a live event carries to the browser: plain data, never page markup.

``alert_data`` is one alert as the map page needs it, for the latest-alerts
list and the map point alike; the page renders it (``assets/live.js``) the
same way for alerts present when the page was built and for alerts that
arrive live. ``asset_data`` is one asset's point (``layers.assets.asset_point``).

``alarm_data`` is the critical alarm of one viewer (``alerts.core.alarm``): a count and the newest few.

Each alert carries its ``marking`` (``marking_data``), which the page puts on
what shows the alert (``data-marking``) and folds into the classification
banner (``assets/marking.js``).
"""
from __future__ import annotations

from alerts.core.alarm import Alarm
from alerts.core.assets import Asset
from alerts.core.markings import Classifications
from alerts.core.model import StoredAlert
from alerts.core.time_labels import utc_label
from alerts.i18n.content import headline
from layers.assets import asset_point
from layers.incidents import escalation_label, live_point, type_label


def marking_data(stored: StoredAlert, scheme: Classifications | None = None) -> dict:
    """The alert's marking as plain data: ``classification`` (a level name; null for an unmarked alert,
    which the page reads as the deployment's lowest level, or that level when ``scheme`` is given),
    ``caveats`` (a list), ``tlp`` (a TLP 2.0 label or null), ``releasable_to`` (alpha-2 codes,
    ``["ALL"]``, or null while unrouted): ``Marking.as_dict`` without the ``line``."""
    routing = stored.routing
    return {"classification": routing.classification or (scheme.lowest if scheme else None),
            "caveats": list(routing.caveats), "tlp": routing.tlp.value if routing.tlp else None,
            "releasable_to": list(routing.releasable_to) if routing.releasable_to is not None else None}


def alert_data(stored: StoredAlert) -> dict:
    """One alert as plain JSON-able data (the fields below, plus its map ``point``).

    ``id``, ``title``, ``severity``, ``type``, ``type_label``, ``status``,
    ``open``, ``exercise``, ``country``, ``region``, ``reported_at`` (ISO 8601),
    ``reported_label`` (``2026-11-27 14:05 UTC``, ``alerts.core.time_labels``), ``escalation`` (the level reached: 0 none, 1 duty desk,
    2 leadership), ``escalation_label`` (``ESCALATED L1``; empty for 0), ``steps_done`` (checklist steps done),
    ``marking`` (``marking_data``),
    ``point`` (see ``layers.incidents.live_point``; its hover text names the escalation too).
    """
    alert = stored.alert
    return {
        "id": stored.id,
        "title": headline(alert),  # in the viewer's language when a CAP alert carries it
        "severity": alert.severity.value,
        "type": alert.type.value,
        "type_label": type_label(alert.type.value),
        "status": stored.status.value,
        "open": stored.status.is_open,
        "exercise": alert.exercise,
        "country": stored.placement.country or "",
        "region": stored.region_name,
        "reported_at": alert.reported_at.isoformat(),
        "reported_label": utc_label(alert.reported_at),
        "escalation": stored.escalation_level,
        "escalation_label": escalation_label(stored.escalation_level),
        "steps_done": stored.steps_done,
        "marking": marking_data(stored),
        "point": live_point(stored),
    }


def asset_data(asset: Asset) -> dict:
    """One asset's map point as plain data (``layers.assets.asset_point``)."""
    return asset_point(asset)


def alarm_data(alarm: Alarm) -> dict:
    """The critical alarm as plain data (``alerts.core.alarm``): ``count`` (alarming alerts the viewer may
    see), ``headline`` (``Alarm.headline``), ``exercise`` (how many of them are exercise play), ``exercise_only`` (all of them are), ``newest``
    (at most ``alerts.core.alarm.NEWEST``, most recently reported first: ``id``, ``title``, ``exercise``,
    ``reported_label``, ``marking``), never the whole list."""
    return {"count": alarm.count, "headline": alarm.headline, "exercise": alarm.exercise, "exercise_only": alarm.exercise_only,
            "newest": [{"id": a.id, "title": headline(a.alert), "exercise": a.alert.exercise,
                        "reported_label": utc_label(a.alert.reported_at), "marking": marking_data(a)}
                       for a in alarm.newest]}
