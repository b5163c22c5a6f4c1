"""When an alert stops being valid, and what that means for its response.

- ``expires_at``: CAP ``<info><expires>`` (kept as ``expires``), CoT ``stale``
  (kept as ``cot_stale``; records stored before the rename say ``stale``), or
  our JSON's optional ``expires`` (ISO 8601 with offset); None when the
  message gives none.
- An alert whose validity already ended when it arrives is recorded
  ``expired``: shown and marked, but it gets no checklist and never escalates.
- An open alert whose ``expires`` passes later is marked ``expired`` by the
  escalation monitor, without escalating.
- A CoT emergency is the exception (an emergency stays an emergency until
  someone cancels it): already stale on receipt it stays open with
  ``stale: true`` and does not escalate until a fresh report of it arrives;
  it never expires by itself.
- A CoT emergency or cancel dated more than ``max_skew`` (the deployment's
  ``max_clock_skew``, default 2 minutes, as for asset reports) ahead of the
  centre's clock is refused (``dated_ahead``): its time decides which
  emergencies a cancel closes and which report of a uid is the first, so a
  device with a wrong (or a hostile) clock could cancel tomorrow's emergency
  today, or hold a uid against the real device.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.core.identity import renewable
from alerts.core.model import Alert, Status, StoredAlert


def expires_at(alert: Alert) -> datetime | None:
    """The end of the alert's validity (UTC), or None (see the module docstring)."""
    extra = alert.model_extra or {}
    value = extra.get("cot_stale", extra.get("stale")) if extra.get("cot_type") else extra.get("expires")
    if value is None:
        return None
    try:
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def on_receipt(alert: Alert, now: datetime) -> tuple[Status | None, bool]:
    """``(status to record instead of new, stale)`` for an alert arriving at ``now``.

    ``(EXPIRED, False)`` when its validity ended already; ``(None, True)`` for a
    CoT emergency already stale; ``(None, False)`` otherwise.
    """
    end = expires_at(alert)
    if end is None or end > now:
        return None, False
    if renewable(alert):
        return None, True
    return Status.EXPIRED, False


def lapsed(stored: StoredAlert, now: datetime) -> bool:
    """Whether an open alert should now be marked expired (never a CoT emergency)."""
    return (stored.status.is_open and stored.expires_at is not None and stored.expires_at <= now
            and not renewable(stored.alert))


def dated_ahead(alert: Alert, now: datetime, max_skew: timedelta) -> str | None:
    """Why a CoT emergency or cancel dated more than ``max_skew`` ahead of ``now`` is refused, else None
    (see the module docstring; other formats' times decide nothing and are not checked here)."""
    if not (alert.model_extra or {}).get("cot_type"):
        return None
    if alert.reported_at <= now + max_skew:
        return None
    return (f"CoT event dated {alert.reported_at.isoformat()}, {alert.reported_at - now} ahead of the centre's "
            f"clock (at most {max_skew} is accepted): the sending device's clock is probably wrong")
