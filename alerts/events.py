"""What happened, as small frozen records carried on the events stream.

An event is what dashboards follow: each one has the id Redis gave it on the
events stream (``event_id``), which is also the cursor a client resumes from.
"""
from __future__ import annotations

from dataclasses import dataclass

from alerts.model import StoredAlert

ALERT_CREATED = "alert.created"
ALERT_UPDATED = "alert.updated"


@dataclass(frozen=True)
class AlertEvent:
    """An alert was recorded (``alert.created``) or changed (``alert.updated``)."""

    event_id: str
    kind: str
    alert: StoredAlert


def stream_id_key(event_id: str) -> tuple[int, int]:
    """Order stream ids numerically ("1700000000000-12" -> (1700000000000, 12))."""
    millis, _, seq = event_id.partition("-")
    return int(millis), int(seq or 0)
