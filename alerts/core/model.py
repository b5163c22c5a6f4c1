"""Alert schema v1: what a producer sends, and what we keep after ingest.

This module is the domain core's vocabulary. It imports neither Redis nor Dash.

An ``Alert`` is exactly what a producer sent, validated. Unknown extra fields
are kept (``extra="allow"``) so nothing a partner adds is silently dropped.
A ``StoredAlert`` is an accepted alert plus what ingest added: where it is
(``Placement``), when we received it and its workflow status.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import shapely
import shapely.geometry
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from alerts.core.identity import identity_of
from alerts.core.markings import RELEASABLE_TO_ALL, Classifications, Marking, Tlp
from alerts.core.nations import is_alpha2
from alerts.core.records import Record
from alerts.core.refusals import N_, Refused
from alerts.core.shapes import bounded, check_budget
from alerts.core.text_rules import BIDI_FREE, no_bidi_controls, no_control_chars  # noqa: F401  (re-exported)
from alerts.core.text_rules import clean_text as _clean_text
from alerts.core.times import Instant

SCHEMA_VERSION = 1

#: Extra fields only the CAP 1.2 mapping (``alerts.formats.cap.mapping``) sets, which the core reads as
#: "this came from that CAP sender": identity (``alerts.core.identity``), references (``alerts.core.references``),
#: reporting nation and releasability (``alerts.core.routing``).
CAP_EXTRAS = frozenset({"cap_status", "sender", "cap_references", "scope", "restriction"})
#: Extra fields only the Cursor-on-Target mapping (``alerts.formats.cot.decode``) sets, read the same way
#: (the uid's identity, the validity window, the TAK markings, the callsign as feed).
COT_EXTRAS = frozenset({"cot_type", "cot_stale", "cot_access", "cot_caveat", "cot_releasable_to", "callsign",
                        "cot_last_report"})
#: Names ingest adds beside an alert in the API (``StoredAlert``): an extra of that name would pass for it.
INGEST_EXTRAS = frozenset({"stale", "expires_at", "superseded_by"})
#: Extra field names a message decoded as our JSON (schema v1, a GeoJSON Feature, the JSON in a CoT
#: ``detail/crisis``) may not carry: which format an alert came from is decided by its decoder alone, so
#: nobody can take a CAP sender's or a TAK device's identity, cancel their alerts or pass for their feed.
RESERVED_EXTRAS = CAP_EXTRAS | COT_EXTRAS | INGEST_EXTRAS
#: At most this many references (updates/cancels) per message, in every format; more is refused.
MAX_REFERENCES = 100

#: Alert fields holding coordinates only: no text to clean (``Alert._no_bidi_controls``).
_GEOMETRY_FIELDS = frozenset({"location", "area"})


class AlertType(StrEnum):
    """What kind of incident an alert reports (the README lists them)."""

    TERRORISM = "terrorism"
    ORGANIZED_CRIME = "organized_crime"
    BORDER_INCIDENT = "border_incident"
    NATURAL_DISASTER = "natural_disaster"
    CYBER = "cyber"
    CIVIL_UNREST = "civil_unrest"
    MILITARY_ACTIVITY = "military_activity"
    HAZMAT = "hazmat"
    MASS_CASUALTY = "mass_casualty"
    OTHER = "other"


class Severity(StrEnum):
    """Ordered most urgent first; ``rank`` gives 0 for critical."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for critical up to 3 for low (for sorting, most urgent first)."""
        return list(Severity).index(self)


class Status(StrEnum):
    """Where an alert's response stands: open (new, acknowledged, in progress) or closed
    (resolved; cancelled by a later message; expired: its validity, CAP ``expires``, ended)."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        """Whether the alert still needs work."""
        return self not in (Status.RESOLVED, Status.CANCELLED, Status.EXPIRED)


class Location(Record):
    """A point: latitude and longitude in degrees (WGS84), finite and in range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class Area(Record):
    """A GeoJSON Polygon or MultiPolygon in EPSG:4326 (lon, lat order)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]

    @model_validator(mode="after")
    def _valid_geometry(self) -> "Area":
        try:
            geometry = shapely.geometry.shape(
                {"type": self.type, "coordinates": self.coordinates}
            )
        except Exception as exc:  # shapely raises several types for bad input
            raise ValueError(f"not a valid GeoJSON {self.type}: {exc}") from None
        check_budget(geometry)
        if geometry.is_empty:
            raise ValueError("area is empty")
        if not np.isfinite(shapely.get_coordinates(geometry)).all():
            raise ValueError("area coordinates must be finite numbers")
        min_lon, min_lat, max_lon, max_lat = geometry.bounds
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ValueError("area coordinates out of range (lon -180..180, lat -90..90)")
        return self

    def shape(self) -> shapely.geometry.base.BaseGeometry:
        """The area as sent, as a shapely geometry (lon/lat; possibly invalid)."""
        return shapely.geometry.shape({"type": self.type, "coordinates": self.coordinates})

    def geometry(self) -> shapely.geometry.base.BaseGeometry:
        """The area to place and draw from, within the budget of ``alerts.core.shapes.bounded``."""
        return bounded(self.shape())[0]


def releasable_nations(value: list[str] | None) -> list[str] | None:
    """A ``releasable_to`` list normalised: assigned ISO 3166-1 alpha-2 codes (``XK`` Kosovo) or ``ALL``,
    upper case, no repeats, not empty; ``Refused`` (a ValueError) naming the first code that is neither."""
    if value is None:
        return None
    nations: list[str] = []
    for item in value:
        code = str(item).strip().upper()
        if code != RELEASABLE_TO_ALL and not is_alpha2(code):
            raise Refused(N_("%(code)s is not an ISO 3166-1 alpha-2 code or 'ALL'"), {"code": repr(item)})
        if code not in nations:
            nations.append(code)
    if not nations:
        raise Refused(N_("must name at least one nation, or 'ALL'"))
    return nations


class Alert(Record):
    """Alert schema v1, as a producer sends it."""

    model_config = ConfigDict(frozen=True, extra="allow", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200)
    type: AlertType
    severity: Severity
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    location: Location | None = None
    area: Area | None = None
    reported_at: Instant
    source: str = Field(min_length=2, max_length=100)
    releasable_to: list[str] | None = None
    exercise: bool = False
    exercise_id: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")  # its exercise
    inject: int | None = Field(default=None, ge=1, le=1_000_000)
    # Optional: an update or cancellation of earlier alerts (CAP msgType/references).
    msg_type: Literal["alert", "update", "cancel"] = "alert"
    references: list[str] | None = None
    # Optional: the same alert in other languages, {"fr": {"title": ..., "description": ...}}.
    translations: dict[str, dict[str, str]] | None = None
    # Optional markings (alerts.core.markings): a level of the deployment's list, handling caveats,
    # a TLP 2.0 label. Checked against the deployment when the alert is routed (alerts.core.routing).
    classification: str | None = Field(default=None, max_length=60)
    caveats: list[str] | None = Field(default=None, max_length=10)
    tlp: str | None = Field(default=None, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _legacy_cot_stale(cls, data: Any) -> Any:
        """A record stored before the CoT extra ``stale`` was renamed ``cot_stale`` reads as the new form (the
        old name collided with ``StoredAlert.stale`` in the API)."""
        if isinstance(data, dict) and data.get("cot_type") and "stale" in data and "cot_stale" not in data:
            data = {("cot_stale" if name == "stale" else name): value for name, value in data.items()}
        return data

    @model_validator(mode="before")
    @classmethod
    def _no_bidi_controls(cls, data: Any, info: ValidationInfo) -> Any:
        """Every text of the alert (its fields, ``translations`` with their language keys, the strings in
        extra fields) without bidirectional formatting characters (``no_bidi_controls``), for every format
        and for records read back; the names of the extra fields are kept as sent. Skipped when the
        validation context says ``BIDI_FREE`` (the caller found none in the whole input)."""
        if isinstance(data, dict) and not (info.context and info.context.get(BIDI_FREE)):
            data = {name: value if name in _GEOMETRY_FIELDS else no_bidi_controls(value)
                    for name, value in data.items()}
        return data

    @field_validator("id", "title", "source")
    @classmethod
    def _no_control_chars(cls, value: str) -> str:
        return no_control_chars(value)

    @model_validator(mode="after")
    def _exercise_marks(self) -> Alert:
        if (self.exercise_id is not None or self.inject is not None) and not self.exercise:
            raise ValueError("exercise_id and inject belong to an exercise alert: set exercise to true")
        return self

    @field_validator("classification", "tlp")
    @classmethod
    def _one_line_marking(cls, value: str | None) -> str | None:
        return None if value is None else no_control_chars(value)

    @field_validator("description")
    @classmethod
    def _description_text(cls, value: str) -> str:
        return _clean_text(value)

    @field_validator("releasable_to")
    @classmethod
    def _nations(cls, value: list[str] | None) -> list[str] | None:
        return releasable_nations(value)

    def portable(self) -> dict[str, Any]:
        """The alert as our JSON carries it out of the centre (exports): its fields, with the extras only
        CAP/CoT decoding sets (``RESERVED_EXTRAS``) moved under ``producer_fields``, so the document reads
        back as our JSON (which refuses those names) and keeps what the producer said."""
        document = self.model_dump(mode="json", exclude_none=True)
        moved = {name: document.pop(name) for name in sorted(RESERVED_EXTRAS & document.keys())}
        if moved:
            document["producer_fields"] = moved
        return document

    def point(self) -> tuple[float, float] | None:
        """The (lon, lat) to draw the alert at: its location, else a point inside its area;
        None for an unlocated alert (neither: e.g. a CAP area given only by an unknown geocode)."""
        if self.location is not None:
            return self.location.lon, self.location.lat
        if self.area is None:
            return None
        point = self.area.geometry().representative_point()
        return point.x, point.y


class Region(Record):
    """A first-level region: its code (ISO 3166-2 where there is one), name and country (ISO2)."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    country: str


class Placement(Record):
    """Where an alert is: the country (ISO2, Kosovo is XK) and first-level regions."""

    model_config = ConfigDict(frozen=True)

    country: str | None = None
    country_name: str | None = None
    countries: list[str] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)
    offshore_km: float | None = None
    #: True when the area was simplified or replaced by its hull to place it (``alerts.core.shapes``).
    approximate: bool = False


class Routing(Record):
    """Who reported an alert and who may see it: decided once at ingest (``alerts.core.routing.route``),
    changed only by a release or an approved releasability change (``alerts.actions.sharing``).

    - ``nation``: the reporting nation (ISO 3166-1 alpha-2), from the registered
      feed, or our JSON ``source`` when that is a nation code; None when unknown.
    - ``releasable_to``: alpha-2 codes or ``["ALL"]``; None: **unrouted** (seen
      only in the admins' Unrouted view until released), ``reason`` says why.
    - ``classification``: a level of the deployment's list (None: the lowest),
      ``caveats``, ``tlp``: the markings (``alerts.core.markings``).
    - ``feed``: the registered feed it came from; ``origin``: what the message
      says of its sender, for people (``alerts.core.feeds.Origin.describe``).
    - ``released_by``/``released_at``: who released it from Unrouted, and when
      (its checklist counts from then).
    """

    model_config = ConfigDict(frozen=True)

    nation: str | None = None
    releasable_to: list[str] | None = None
    classification: str | None = None
    caveats: list[str] = Field(default_factory=list)
    tlp: Tlp | None = None
    feed: str | None = None
    origin: str = ""
    reason: str = ""
    released_by: str | None = None
    released_at: datetime | None = None

    @property
    def routed(self) -> bool:
        """Whether the alert is released to anyone (False: unrouted)."""
        return self.releasable_to is not None

    def marking(self, scheme: Classifications) -> Marking:
        """The alert's marking under the deployment's ``scheme`` (None classification: the lowest)."""
        return Marking(self.classification or scheme.lowest, tuple(self.caveats), self.tlp,
                       tuple(self.releasable_to) if self.releasable_to is not None else None)


def legacy_routing(alert: Alert) -> Routing:
    """The routing of a record stored before routing existed (or built without one): what it was
    released to then. An explicit ``releasable_to`` stands; otherwise the reporting nation only when
    ``source`` is an assigned country code (the old default); anything else is unrouted."""
    source = alert.source.upper()
    nation = source if is_alpha2(source) else None
    if alert.releasable_to is not None:
        return Routing(nation=nation, releasable_to=list(alert.releasable_to), origin=f"source {alert.source}")
    if nation is not None:
        return Routing(nation=nation, releasable_to=[nation], origin=f"source {alert.source}")
    return Routing(origin=f"source {alert.source}", reason="recorded before routing, with no releasability")


class StoredAlert(Record):
    """An accepted alert with what ingest added to it.

    ``key`` is the alert's id in the centre: the producer's ``id`` when that is
    unique, else a suffixed form (see ``alerts.core.identity``); ``identity``
    is the producer identity it was recognised by. ``lon``/``lat`` are None
    for an unlocated alert. ``expires_at`` is when its validity ends (CAP
    ``expires``, CoT ``stale``, our ``expires``); ``stale`` marks a CoT
    emergency that was already stale when it arrived (it waits for a fresh
    report before it escalates). ``escalation_level`` is the level reached (0 none, 1 duty desk, 2 leadership),
    raised by ``WorkflowStore.escalate``; ``steps_done`` its checklist steps done (``WorkflowStore.mark_step``).
    """

    model_config = ConfigDict(frozen=True)

    key: str | None = None
    identity: str = ""
    alert: Alert
    placement: Placement
    received_at: datetime
    status: Status = Status.NEW
    lon: float | None = None
    lat: float | None = None
    expires_at: datetime | None = None
    stale: bool = False
    superseded_by: str | None = None  # the id of the update or cancellation that closed it, if one did
    escalation_level: int = 0
    steps_done: int = 0
    routing: Routing = None  # type: ignore[assignment]  # nation, releasability, markings (see model_post_init)

    def model_post_init(self, _context: Any) -> None:
        """Derive ``identity`` (``alerts.core.identity.identity_of``) and, for a record without one,
        ``routing`` (``legacy_routing``) from the alert; share the full fields set (``Record``)."""
        super().model_post_init(_context)
        if not self.identity:
            object.__setattr__(self, "identity", identity_of(self.alert))
        if self.routing is None:
            object.__setattr__(self, "routing", legacy_routing(self.alert))

    @property
    def id(self) -> str:
        """The alert's id in the centre (unique): ``key``, else the producer's ``id``."""
        return self.key or self.alert.id

    @property
    def located(self) -> bool:
        """Whether the alert has a position to draw and export."""
        return self.lon is not None and self.lat is not None

    @property
    def region_name(self) -> str:
        """The first region the alert is in ("" when unplaced)."""
        return self.placement.regions[0].name if self.placement.regions else ""

    def releasable_nations(self) -> list[str]:
        """Nations that may see this alert (``["ALL"]``: every nation; empty: unrouted, nobody yet)."""
        return list(self.routing.releasable_to or [])

    @property
    def accountable_from(self) -> datetime:
        """When the centre became accountable for the alert: its release from Unrouted, else its receipt
        (checklist due times count from here)."""
        return self.routing.released_at or self.received_at
