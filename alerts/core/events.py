"""What happened, as small frozen records: the one vocabulary of the events and audit streams.

Two kinds:

- **Stream events** (``AlertEvent``, ``AssetEvent``) carry a whole record and the id Redis gave them on their
  events stream (``event_id``, e.g. ``"1700000000000-0"``), which is also the cursor a client resumes from.
  ``kind`` is ``alert.created``, ``alert.updated``, ``alert.routed`` (its releasability changed; the event
  carries the ``previous`` routing: a live stream tells who gains and who loses sight) or ``asset.updated``
  (with ``released_before`` when its releasability changed, for the same reason).
- **Audit events** (``Acknowledged``, ``StepCompleted`` ... ``SignedIn``) are what a person or the system did.
  Each class names its audit action once, in its class statement (``class Acknowledged(AuditEvent,
  action="alert.acknowledge")``), so a misspelt action cannot be written: ``AuditLog.record`` takes the event,
  never a string. ``subject`` is the object acted on (an alert id, a user name, a token id ...); the other
  fields become the entry's ``detail``.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from alerts.core.assets import Asset
from alerts.core.model import Routing, StoredAlert

ALERT_CREATED = "alert.created"
ALERT_UPDATED = "alert.updated"
ALERT_ROUTED = "alert.routed"
ASSET_UPDATED = "asset.updated"


def stream_id_key(event_id: str) -> tuple[int, int]:
    """Order stream ids numerically: ``"1700000000000-12"`` -> ``(1700000000000, 12)``.

    Stream ids are ``<milliseconds>-<sequence>`` (Redis streams); comparing the
    strings would put ``"9-0"`` after ``"10-0"``.
    """
    millis, _, seq = event_id.partition("-")
    return int(millis), int(seq or 0)


@dataclass(frozen=True)
class AlertEvent:
    """An alert was recorded (``alert.created``), changed (``alert.updated``) or re-routed
    (``alert.routed``, with the ``previous`` routing)."""

    event_id: str
    kind: str
    alert: StoredAlert
    previous: Routing | None = None

    def seen_before(self) -> StoredAlert:
        """The alert as it was before a re-routing (itself for any other event)."""
        if self.previous is None:
            return self.alert
        return self.alert.model_copy(update={"routing": self.previous})


@dataclass(frozen=True)
class AssetEvent:
    """An asset was created or changed (``asset.updated``, the whole record); ``released_before``: its
    ``(nation, releasable_to)`` just before, when the change changed either (else None)."""

    event_id: str
    asset: Asset
    released_before: tuple[str, list[str] | None] | None = None


# --- audit events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEvent:
    """Base of every audited event: ``subject`` plus detail fields; ``action`` is set per class."""

    action: ClassVar[str] = ""
    subject: str

    def __init_subclass__(cls, *, action: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        if not action:
            raise TypeError(f"{cls.__name__} must name its audit action: class {cls.__name__}(AuditEvent, action=...)")
        cls.action = action

    def detail(self) -> dict:
        """The fields other than ``subject``, leaving out those left at an empty default ("" or None)."""
        return {item.name: value for item in fields(self) if item.name != "subject"
                and not ((value := getattr(self, item.name)) in ("", None) and item.default in ("", None))}


# sign-in, sessions and tokens
@dataclass(frozen=True)
class SignedIn(AuditEvent, action="login.success"):
    """A successful sign-in (subject: the user)."""

    role: str = ""


@dataclass(frozen=True)
class SignInFailed(AuditEvent, action="login.failure"):
    """A failed sign-in: a wrong password was checked (subject: the name tried)."""


@dataclass(frozen=True)
class SignInThrottled(AuditEvent, action="login.throttled"):
    """A sign-in refused unchecked (subject: the name tried). ``limit``: ``pair`` / ``device`` (a locked pair or
    device cookie; once per hour), ``account`` (the name's budget), ``login-global``: these two sampled (first
    of each minute, per name for ``account``; ``previous_minute``: refusals counted in the minute before)."""

    limit: str = ""
    sampled: str = ""
    previous_minute: int | None = None


@dataclass(frozen=True)
class RateLimited(AuditEvent, action="rate.limited"):
    """Requests refused 429 by a rate limit (subject: the address, token id or ``session``; ``limit``: ``login``,
    ``login-global``, ``api``). Once per subject, limit and hour; ``login-global`` sampled per minute as above."""

    limit: str = ""
    retry_after: int = 0
    sampled: str = ""
    previous_minute: int | None = None


@dataclass(frozen=True)
class SignedOut(AuditEvent, action="logout"):
    """A sign-out (subject: the user)."""


@dataclass(frozen=True)
class TokenUsed(AuditEvent, action="token.use"):
    """An API call authenticated by a token (subject: the token id; the method and the route's template, e.g.
    ``/api/v1/alerts/{alert_id}``, never one call's id). Only the first use per token and clock hour is audited."""

    method: str = ""
    path: str = ""


@dataclass(frozen=True)
class TokenCreated(AuditEvent, action="token.create"):
    """A new API token (subject: its id; for ``user``)."""

    user: str = ""


@dataclass(frozen=True)
class TokenRevoked(AuditEvent, action="token.revoke"):
    """A revoked API token (subject: its id)."""


@dataclass(frozen=True)
class UserAdded(AuditEvent, action="user.add"):
    """A new user (subject: the name; role and nation)."""

    role: str = ""
    nation: str = ""
    clearance: str = ""
    demo: bool = False


@dataclass(frozen=True)
class UserChanged(AuditEvent, action="user.change"):
    """A user's role, nation or clearance changed (subject: the name; ``before`` and ``after``)."""

    before: dict | None = None
    after: dict | None = None


@dataclass(frozen=True)
class UserDisabled(AuditEvent, action="user.disable"):
    """A disabled user (subject: the name); its tokens are revoked."""


@dataclass(frozen=True)
class PasswordSet(AuditEvent, action="user.password"):
    """A user's password set anew (subject: the name); its sessions and device cookies end."""


# the response to an alert (subject: the alert id)
@dataclass(frozen=True)
class Acknowledged(AuditEvent, action="alert.acknowledge"):
    """An alert acknowledged (subject: the alert id; ``via`` where from)."""

    via: str = ""


@dataclass(frozen=True)
class StepCompleted(AuditEvent, action="checklist.step_done"):
    """A checklist step done (subject: the alert id; the step number and note)."""

    step: int = 0
    note: str = ""
    via: str = ""


@dataclass(frozen=True)
class Resolved(AuditEvent, action="alert.resolve"):
    """An alert resolved (subject: the alert id; the note)."""

    note: str = ""
    via: str = ""


@dataclass(frozen=True)
class Escalated(AuditEvent, action="alert.escalate"):
    """An alert escalated (subject: the alert id; the level and reason)."""

    level: int = 0
    reason: str = ""


# response assets (subject: the asset id, or the imported file)
@dataclass(frozen=True)
class AssetAssigned(AuditEvent, action="asset.assign"):
    """An asset tasked (subject: the asset id; the alert and the new status)."""

    alert_id: str = ""
    status: str = ""


@dataclass(frozen=True)
class AssetReleased(AuditEvent, action="asset.release"):
    """An asset released from an alert (subject: the asset id)."""

    alert_id: str = ""
    status: str = ""


@dataclass(frozen=True)
class AssetsImported(AuditEvent, action="asset.import"):
    """An asset file imported (subject: the file; how many imported and refused)."""

    imported: int = 0
    refused: int = 0


# exports (subject: what was exported: "alerts", "assets", a SITREP format)
@dataclass(frozen=True)
class GeoJsonExported(AuditEvent, action="export.geojson"):
    """A GeoJSON export (subject: ``alerts`` or ``assets``; the count and query)."""

    count: int = 0
    query: str = ""


@dataclass(frozen=True)
class CotExported(AuditEvent, action="export.cot"):
    """A Cursor-on-Target export (subject: ``cot``, or ``cot-send`` for a stream to a TAK server; the count,
    None for a stream, whose count grows, and the query or destination)."""

    count: int | None = None
    query: str = ""


@dataclass(frozen=True)
class SitrepExported(AuditEvent, action="export.sitrep"):
    """A SITREP export (subject: the format; the window and the number of incidents)."""

    window: dict | None = None
    incidents: int = 0


@dataclass(frozen=True)
class AarExported(AuditEvent, action="export.aar"):
    """An after-action report exported (subject: the exercise id, or ``incident``; the format, the incident
    window ``{since, until}`` and how many alerts it covers)."""

    format: str = ""
    window: dict | None = None
    alerts: int = 0


# sharing (subject: the alert id)
@dataclass(frozen=True)
class AlertHeld(AuditEvent, action="alert.unrouted"):
    """An alert stored as unrouted at ingest (subject: the alert id; what the message says of its sender
    and why no releasability could be decided)."""

    origin: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AlertReleased(AuditEvent, action="alert.release"):
    """An unrouted alert released by an admin (subject: the alert id; to whom, its reporting nation, why)."""

    releasable_to: list | None = None
    nation: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ReleasabilityChanged(AuditEvent, action="alert.releasability"):
    """An alert's releasability changed (subject: the alert id; from, to, why; the request it approved, if any)."""

    before: list | None = None
    after: list | None = None
    reason: str = ""
    request: str = ""


@dataclass(frozen=True)
class ReleasabilityRequested(AuditEvent, action="releasability.request"):
    """A releasability change asked of the originating nation (subject: the alert id)."""

    request: str = ""
    before: list | None = None
    after: list | None = None
    reason: str = ""


@dataclass(frozen=True)
class ReleasabilityDecided(AuditEvent, action="releasability.decide"):
    """A releasability change request approved or declined (subject: the alert id)."""

    request: str = ""
    decision: str = ""
    note: str = ""


# exercises (subject: the exercise id)
@dataclass(frozen=True)
class ExerciseLoaded(AuditEvent, action="exercise.load"):
    """A MSEL loaded as a new exercise (subject: the exercise id; its name, inject count and nations)."""

    name: str = ""
    injects: int = 0
    nations: list | None = None


@dataclass(frozen=True)
class ExerciseStarted(AuditEvent, action="exercise.start"):
    """STARTEX (subject: the exercise id)."""


@dataclass(frozen=True)
class ExercisePaused(AuditEvent, action="exercise.pause"):
    """Play paused (subject: the exercise id)."""


@dataclass(frozen=True)
class ExerciseResumed(AuditEvent, action="exercise.resume"):
    """Play resumed; pending injects moved later by the pause (subject: the exercise id)."""

    paused_s: float = 0.0


@dataclass(frozen=True)
class ExerciseEnded(AuditEvent, action="exercise.end"):
    """ENDEX (subject: the exercise id); ``reason`` is set for a real-world stop."""

    reason: str = ""


@dataclass(frozen=True)
class InjectFired(AuditEvent, action="exercise.inject_fire"):
    """An inject sent to the inbox (subject: the exercise id; the inject, its alerts (one per ``to`` nation,
    comma-separated ids), and why: ``schedule``, ``fire_now`` or ``backup``)."""

    inject: int = 0
    alert_id: str = ""
    cause: str = ""


@dataclass(frozen=True)
class InjectSkipped(AuditEvent, action="exercise.inject_skip"):
    """An inject dropped by exercise control (subject: the exercise id)."""

    inject: int = 0


@dataclass(frozen=True)
class ObservationRecorded(AuditEvent, action="exercise.observe"):
    """An evaluator's observation (subject: the exercise id; the inject, rating and text: the record holds
    what was observed, not only that something was)."""

    inject: int = 0
    rating: str = ""
    text: str = ""


@dataclass(frozen=True)
class ObjectiveRated(AuditEvent, action="exercise.rate"):
    """An evaluator's HSEEP rating (P/S/M/U) of an exercise objective (subject: the exercise id)."""

    objective: int = 0
    rating: str = ""


@dataclass(frozen=True)
class ImprovementPlanned(AuditEvent, action="exercise.improvement"):
    """An improvement plan item added or changed (subject: the exercise id; the item, owner, due, status)."""

    item: str = ""
    owner: str = ""
    due: str = ""
    status: str = ""
