"""The critical alarm as one viewer's pages see it (``alerts.core.alarm``), from the read model.

``alarm_for`` reads only alerts released to the viewer's nation within its clearance (the viewer's
``restricted`` query, ``alerts.actions.visibility``); ``concerns`` tells whether an alert event may change it.
"""
from __future__ import annotations

from alerts.actions.centre import Centre
from alerts.core.alarm import NEWEST, Alarm, alarm_of
from alerts.core.events import AlertEvent
from alerts.core.model import Severity, Status
from alerts.core.query import AlertQuery

_CRITICAL_OPEN = AlertQuery(severities=frozenset({Severity.CRITICAL.value}), status="open")


def alarm_for(centre: Centre, query: AlertQuery, newest: int = NEWEST) -> Alarm:
    """The alarm of the viewer whose ``restricted`` query is ``query`` (its nation and clearance are used, its
    other filters are not: the alarm is the same on every page)."""
    seen = AlertQuery(severities=_CRITICAL_OPEN.severities, status="open", nation=query.nation,
                      cleared=query.cleared)
    rows = centre.index.select(seen)
    ids = rows["id"][rows["status"] == Status.NEW.value]
    return alarm_of((a for a in (centre.index.get(i) for i in ids) if a is not None), newest)


def concerns(event: AlertEvent) -> bool:
    """Whether ``event`` may change anybody's alarm: it is about a critical alert."""
    return event.alert.alert.severity is Severity.CRITICAL
