"""Updates and cancellations (CAP ``msgType``/``references``, CoT cancels) close the alerts they name.

A newer alert with ``msg_type`` ``update`` or ``cancel`` closes each earlier
alert it references: the earlier one becomes ``cancelled`` with
``superseded_by`` set to the newer id (an update replaces it; the newer alert
is the one to work). Only an alert from the same ``source`` can be closed this
way, so one sender cannot cancel another's alerts. Closed alerts stay closed.

Pure functions: applying them atomically is the store's (``AlertStore.change``).
Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from alerts.core.model import Status, StoredAlert


def referenced_ids(newer: StoredAlert) -> list[str]:
    """The ids of the earlier alerts ``newer`` updates or cancels (none for a plain alert)."""
    if newer.alert.msg_type == "alert" or not newer.alert.references:
        return []
    return [earlier for earlier in newer.alert.references if earlier != newer.id]


def closed_by(earlier: StoredAlert, newer: StoredAlert) -> StoredAlert | None:
    """``earlier`` as closed by ``newer``, or None when ``newer`` may not close it (or it is closed)."""
    if not earlier.status.is_open or earlier.alert.source != newer.alert.source:
        return None
    return earlier.model_copy(update={"status": Status.CANCELLED, "superseded_by": newer.id})
