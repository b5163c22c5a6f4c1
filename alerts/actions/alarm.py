"""The critical alarm as one viewer's pages see it (``alerts.core.alarm``), from the read model.

``alarm_for`` reads only alerts released to the viewer's nation within its clearance (the viewer's
``restricted`` query, ``alerts.actions.visibility``), from the index's table (vectorised: the count and the
exercise count without reading a record; only the newest few are read), so a stream may ask it after every
batch of events however many alerts there are. ``concerns`` tells whether an alert event may change it.
"""
from __future__ import annotations

from alerts.actions.centre import Centre
from alerts.core.alarm import ALARM_SEVERITY, ALARM_STATUS, NEWEST, Alarm
from alerts.core.events import ALERT_UPDATED, AlertEvent
from alerts.core.query import AlertQuery


def alarm_for(centre: Centre, query: AlertQuery, newest: int = NEWEST) -> Alarm:
    """The alarm of the viewer whose ``restricted`` query is ``query`` (its nation and clearance are used, its
    other filters are not: the alarm is the same on every page); the rule is ``alerts.core.alarm.alarms``."""
    seen = AlertQuery(severities=frozenset({ALARM_SEVERITY.value}), status="open", nation=query.nation,
                      cleared=query.cleared)
    rows = centre.index.select(seen)  # newest report first
    rows = rows[rows["status"] == ALARM_STATUS.value]
    chosen = [a for a in centre.index.get_many(rows["id"].iloc[:newest]) if a is not None]
    return Alarm(count=len(rows), exercise=int(rows["exercise"].sum()), newest=tuple(chosen))


def concerns(event: AlertEvent) -> bool:
    """Whether ``event`` may change anybody's alarm: it is about a critical alert, and it is not a change that
    leaves the alert ringing (an escalation of one nobody acknowledged: its status stays ``new``, and a status
    never goes back to ``new``)."""
    stored = event.alert
    if stored.alert.severity is not ALARM_SEVERITY:
        return False
    return not (event.kind == ALERT_UPDATED and stored.status is ALARM_STATUS)
