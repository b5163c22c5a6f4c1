"""Updates and cancellations (CAP ``msgType``/``references``, CoT cancels) close the alerts they name.

A newer alert with ``msg_type`` ``update`` or ``cancel`` closes each earlier
alert it references: the earlier one becomes ``cancelled`` with
``superseded_by`` set to the newer id (an update replaces it; the newer alert
is the one to work). Only an alert from the same ``source`` can be closed this
way, so one sender cannot cancel another's alerts. Closed alerts stay closed;
the change is a compare-and-set, so a concurrent acknowledgment is never lost.
"""
from __future__ import annotations

from alerts.model import Status, StoredAlert
from alerts.store import AlertStore

_ATTEMPTS = 20


def close_referenced(store: AlertStore, newer: list[StoredAlert]) -> list[str]:
    """Apply the updates and cancels among ``newer``; returns the ids closed."""
    closed = []
    for alert in newer:
        if alert.alert.msg_type == "alert" or not alert.alert.references:
            continue
        for earlier_id in alert.alert.references:
            if earlier_id != alert.id and _close(store, earlier_id, alert):
                closed.append(earlier_id)
    return closed


def _close(store: AlertStore, earlier_id: str, newer: StoredAlert) -> bool:
    key = store.keys.alert(earlier_id)
    for _attempt in range(_ATTEMPTS):
        raw = store.client.get(key)
        if raw is None:
            return False
        earlier = StoredAlert.model_validate_json(raw)
        if not earlier.status.is_open or earlier.alert.source != newer.alert.source:
            return False
        closed = earlier.model_copy(update={"status": Status.CANCELLED, "superseded_by": newer.id})
        if store.update(closed, expected=raw):
            return True
    return False
