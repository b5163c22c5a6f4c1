"""Updates and cancellations (CAP ``msgType``/``references``, CoT cancels) close the alerts they name.

A newer alert with ``msg_type`` ``update`` or ``cancel`` closes each earlier
alert it references (by identity, ``alerts.core.identity.referenced_identities``,
which already limits a producer to its own alerts): the earlier one becomes
``cancelled`` with ``superseded_by`` set to the newer alert's id (an update
replaces it; the newer alert is the one to work). A CAP reference that gives
``sent`` only matches the message sent then (CAP 1.2 section 3.2.1,
``references``); a message naming the same sender and identifier several
times matches if any of them does. Closed alerts stay closed.

A CoT emergency is renewable (``alerts.core.identity``): ATAK raises the next
emergency of a device on the same uid. So a cancel closes only an emergency
reported at or before the cancel's own time: a cancel that waited for its
emergency (or arrived late) never closes a newer emergency raised on that
uid after it.

The order of arrival does not matter: a reference to an alert not received
yet is kept (``alerts.store.alerts``) and applied when it arrives.

While an emergency is raised, ATAK sends it again every few seconds on the
same uid, each report with its own time and the device's position then: a
*repeat report* of the open alert (``refreshed``). A newer one brings the
alert's position, place, description, CoT stale time and expiry up to date and
clears a stale mark; its first report time stays the alert's (``reported_at``:
when the emergency was raised), the latest is kept as extra ``cot_last_report``.
An older or equal one changes nothing but a stale mark.

A report that comes after the open alert's last report lapsed (its CoT stale
time passed with no report since: the device went silent, or its cancel was
lost) opens a new alert on the uid; the lapsed one stays open (only a cancel
or a person closes an emergency) but is marked ``stale`` (``lapsed``), so it
stops escalating and the new alert is the one to work.

Pure functions: applying them atomically is the store's (``AlertStore.change``).
Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from datetime import datetime

from alerts.core.identity import renewable
from alerts.core.model import Alert, Status, StoredAlert
from alerts.core.times import parse_instant


def _same_instant(sent: str, reported_at: datetime) -> bool:
    try:
        return parse_instant(sent, "CAP <references> sent") == reported_at
    except ValueError:
        return False


def _sent_matches(earlier: StoredAlert, newer: StoredAlert) -> bool:
    """Whether ``newer``'s CAP references naming ``earlier`` (its sender and identifier) allow it: one of them
    gives no ``sent`` or ``earlier``'s; True when none names it (not CAP, or matched by identity alone)."""
    sender = (earlier.alert.model_extra or {}).get("sender")
    naming = [ref for ref in (newer.alert.model_extra or {}).get("cap_references") or []
              if ref.get("identifier") == earlier.alert.id and ref.get("sender") == sender]
    return not naming or any(not ref.get("sent") or _same_instant(ref["sent"], earlier.alert.reported_at)
                             for ref in naming)


def _reported_by_then(earlier: StoredAlert, newer: StoredAlert) -> bool:
    """Whether ``newer`` may close ``earlier`` for their times: always, unless ``earlier`` is a renewable CoT
    emergency reported after ``newer`` (a new emergency on the uid, not the one the cancel was about)."""
    return not renewable(earlier.alert) or earlier.alert.reported_at <= newer.alert.reported_at


def closed_by(earlier: StoredAlert, newer: StoredAlert) -> StoredAlert | None:
    """``earlier`` as closed by ``newer``, or None when it is closed already or the reference does not match
    (another CAP ``sent``; a CoT emergency reported after the cancel)."""
    if (not earlier.status.is_open or earlier.id == newer.id or not _sent_matches(earlier, newer)
            or not _reported_by_then(earlier, newer)):
        return None
    return earlier.model_copy(update={"status": Status.CANCELLED, "superseded_by": newer.id})


#: The extra that keeps the time of the latest repeat report of a CoT emergency applied (ISO 8601).
LAST_REPORT = "cot_last_report"


def refreshed(current: StoredAlert, fresh: StoredAlert) -> StoredAlert | None:
    """``current`` brought up to date by ``fresh``, a repeat report of it (module docstring); None when that
    changes nothing. ``fresh`` was placed like any report; ``current`` keeps its routing, status and work."""
    extra = current.alert.model_extra or {}
    latest = parse_instant(extra[LAST_REPORT]) if extra.get(LAST_REPORT) else current.alert.reported_at
    if fresh.alert.reported_at <= latest:
        return current.model_copy(update={"stale": False, "expires_at": fresh.expires_at}) if current.stale else None
    alert = Alert.model_validate({**fresh.alert.model_dump(), "reported_at": current.alert.reported_at,
                                  LAST_REPORT: fresh.alert.reported_at.isoformat()})
    return current.model_copy(update={"alert": alert, "placement": fresh.placement, "lon": fresh.lon,
                                      "lat": fresh.lat, "expires_at": fresh.expires_at, "stale": False})


def lapsed(current: StoredAlert) -> StoredAlert | None:
    """``current``, an open CoT emergency whose device has since raised a new alert on its uid after it lapsed
    (module docstring), marked ``stale``; None when it is closed or stale already."""
    if not current.status.is_open or current.stale:
        return None
    return current.model_copy(update={"stale": True})
