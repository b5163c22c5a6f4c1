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

Pure functions: applying them atomically is the store's (``AlertStore.change``).
Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from datetime import datetime

from alerts.core.identity import renewable
from alerts.core.model import Status, StoredAlert
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
