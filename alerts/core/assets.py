"""Response assets: the schema, and the rules for changing one (live updates, tasking).

An ``Asset`` is one unit a nation can task (a company, a team, an aircraft, a
vessel) with where it is now (``position``), where it lives (``home_base``),
whether it can be tasked (``status``) and which incident it is working on
(``assigned_to``). Like alerts, assets carry ``releasable_to``: a missing list
means the owning nation only; ``["ALL"]`` means everyone.

Live updates (``AssetUpdate``) name an asset by id and carry only what
changed (position, status, ...); the first message about an unknown asset
must be a whole asset.

Times (``updated_at``, ISO 8601 with an offset) come from devices whose
clocks may be wrong. Every report taken in, live or imported, is dated by
``arrival_time``: refused outside 1900-2200 (``alerts.core.times``, like every
message time) or more than ``max_skew`` (``MAX_CLOCK_SKEW``, the
``max_clock_skew`` setting) ahead of the centre's clock; a report ahead by
less is clamped to the centre's clock. Last write wins on that time
(``apply_update``), so one report from a fast clock can never freeze an
asset by making the correct ones after it look older. Which assets suit which incident is
``alerts.core.suitability``; reading files and messages is ``alerts.formats.assets``.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from alerts.core.model import RELEASABLE_TO_ALL, Location, no_control_chars, releasable_nations
from alerts.core.refusals import N_, Refusal
from alerts.core.times import check_range

_ISO2 = re.compile(r"^[A-Z]{2}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class AssetType(StrEnum):
    """What kind of unit an asset is (the README lists them)."""

    INFANTRY_COMPANY = "infantry_company"
    MILITARY_POLICE = "military_police"
    EOD_TEAM = "eod_team"
    CBRN_TEAM = "cbrn_team"
    MEDICAL_TEAM = "medical_team"
    FIELD_HOSPITAL = "field_hospital"
    UTILITY_HELICOPTER = "utility_helicopter"
    TRANSPORT_AIRCRAFT = "transport_aircraft"
    FIREFIGHTING_AIRCRAFT = "firefighting_aircraft"
    ENGINEER_UNIT = "engineer_unit"
    COAST_GUARD_VESSEL = "coast_guard_vessel"
    CYBER_RESPONSE_TEAM = "cyber_response_team"


class AssetStatus(StrEnum):
    """Whether an asset can be tasked: only ``ready`` ones can."""

    READY = "ready"
    COMMITTED = "committed"
    MAINTENANCE = "maintenance"
    OFF_DUTY = "off_duty"


class TypeGroup(StrEnum):
    """How an asset moves and is drawn: the ring colour and size on the map."""

    GROUND = "ground"
    SPECIALIST = "specialist"
    MEDICAL = "medical"
    AIR = "air"
    MARITIME = "maritime"


TYPE_GROUPS: dict[AssetType, TypeGroup] = {
    AssetType.INFANTRY_COMPANY: TypeGroup.GROUND,
    AssetType.MILITARY_POLICE: TypeGroup.GROUND,
    AssetType.ENGINEER_UNIT: TypeGroup.GROUND,
    AssetType.EOD_TEAM: TypeGroup.SPECIALIST,
    AssetType.CBRN_TEAM: TypeGroup.SPECIALIST,
    AssetType.CYBER_RESPONSE_TEAM: TypeGroup.SPECIALIST,
    AssetType.MEDICAL_TEAM: TypeGroup.MEDICAL,
    AssetType.FIELD_HOSPITAL: TypeGroup.MEDICAL,
    AssetType.UTILITY_HELICOPTER: TypeGroup.AIR,
    AssetType.TRANSPORT_AIRCRAFT: TypeGroup.AIR,
    AssetType.FIREFIGHTING_AIRCRAFT: TypeGroup.AIR,
    AssetType.COAST_GUARD_VESSEL: TypeGroup.MARITIME,
}


class Point(Location):
    """``{lat, lon}`` in degrees, WGS84 (the same bounds as an alert's location)."""


class Asset(BaseModel):
    """One response asset (schema v1; every field is in the README's asset table)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    nation: str
    type: AssetType
    capabilities: list[str] = Field(default_factory=list, max_length=50)
    status: AssetStatus = AssetStatus.READY
    home_base: Point
    position: Point
    speed_kmh: float = Field(gt=0, le=2000, allow_inf_nan=False)
    releasable_to: list[str] | None = None
    updated_at: AwareDatetime
    assigned_to: str | None = Field(default=None, max_length=200)

    @field_validator("id", "name")
    @classmethod
    def _no_control_chars(cls, value: str) -> str:
        return no_control_chars(value)

    @field_validator("nation")
    @classmethod
    def _nation(cls, value: str) -> str:
        code = value.strip().upper()
        if not _ISO2.match(code):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code (Kosovo: XK)")
        return code

    @field_validator("capabilities")
    @classmethod
    def _capabilities(cls, value: list[str]) -> list[str]:
        cleaned = []
        for item in value:
            item = str(item).strip().lower()
            if not item or len(item) > 60 or _CONTROL_CHARS.search(item):
                raise ValueError(f"bad capability {item!r}")
            if item not in cleaned:
                cleaned.append(item)
        return cleaned

    @field_validator("releasable_to")
    @classmethod
    def _releasable(cls, value: list[str] | None) -> list[str] | None:
        return releasable_nations(value)

    def releasable_nations(self) -> list[str]:
        """Nations that may see this asset (a missing list: the owning nation only)."""
        return list(self.releasable_to) if self.releasable_to is not None else [self.nation]

    def visible_to(self, nation: str | None) -> bool:
        """Whether a viewer of ``nation`` may see it (``None``: system use, no restriction)."""
        if nation is None:
            return True
        nations = self.releasable_nations()
        return nation in nations or RELEASABLE_TO_ALL in nations

    @property
    def group(self) -> TypeGroup:
        """How the asset moves (ground, specialist, medical, air, maritime)."""
        return TYPE_GROUPS[self.type]

    def has_capability(self, capability: str) -> bool:
        """A capability the asset lists, or its type's name (``cbrn_team`` is a capability of a CBRN team)."""
        return capability == self.type.value or capability in self.capabilities


class AssetUpdate(BaseModel):
    """A live update: the asset's id plus the fields that changed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=100)
    position: Point | None = None
    status: AssetStatus | None = None
    speed_kmh: float | None = Field(default=None, gt=0, le=2000, allow_inf_nan=False)
    updated_at: AwareDatetime | None = None


# --- the rules for changing an asset ------------------------------------------------------------

#: How far ahead of the centre's clock a report may be dated (default of the ``max_clock_skew`` setting).
MAX_CLOCK_SKEW = timedelta(minutes=2)


def arrival_time(at: datetime, now: datetime, max_skew: timedelta = MAX_CLOCK_SKEW) -> datetime:
    """The time a report dated ``at`` (aware) and received ``now`` is recorded under: ``at`` up to ``now``,
    ``now`` for a report at most ``max_skew`` ahead (clamped). Raises ``ValueError`` naming ``updated_at``
    when ``at`` is outside 1900-2200 or further ahead than ``max_skew`` (module docstring)."""
    check_range(at, "updated_at")
    if at > now + max_skew:
        raise ValueError(f"updated_at {at.isoformat()} is {at - now} ahead of the centre's clock (at most "
                         f"{max_skew} is accepted): the sending device's clock is probably wrong")
    return min(at, now)


def received(message: Asset | AssetUpdate, now: datetime, max_skew: timedelta = MAX_CLOCK_SKEW
             ) -> Asset | AssetUpdate:
    """``message`` dated by ``arrival_time`` (unchanged without ``updated_at``); ``ValueError`` as there."""
    if message.updated_at is None:
        return message
    at = arrival_time(message.updated_at, now, max_skew)
    return message if at == message.updated_at else message.model_copy(update={"updated_at": at})


class TaskingRefused(Refusal):
    """An assign or release that the asset's state does not allow; the message says why (``Refusal``)."""


class NotReady(TaskingRefused):
    """The asset cannot be assigned: it is not ``ready`` (or is assigned already)."""


class NotAssigned(TaskingRefused):
    """The asset is not assigned to that incident."""


def apply_update(current: Asset, update: AssetUpdate, now: datetime) -> Asset | None:
    """``current`` with ``update`` applied, or None if the update is older than the record.

    Tasking belongs to the dashboard: while an asset is assigned, a feed cannot
    make it anything but committed, and it never changes ``assigned_to``.
    An update without ``updated_at`` is dated ``now``.
    """
    at = update.updated_at or now
    if at < current.updated_at:
        return None
    changes: dict[str, Any] = {"updated_at": at}
    if update.position is not None:
        changes["position"] = update.position
    if update.speed_kmh is not None:
        changes["speed_kmh"] = update.speed_kmh
    if update.status is not None and current.assigned_to is None:
        changes["status"] = update.status
    return current.model_copy(update=changes)


def assigned(asset: Asset, alert_id: str, at: datetime) -> Asset:
    """``asset`` tasked to ``alert_id``: committed, ``assigned_to`` set; raises ``NotReady``."""
    if asset.status is not AssetStatus.READY or asset.assigned_to is not None:
        values = {"asset": repr(asset.id), "status": asset.status.value}
        if asset.assigned_to:
            raise NotReady(N_("asset %(asset)s is %(status)s (assigned to another incident)"), values)
        raise NotReady(N_("asset %(asset)s is %(status)s"), values)
    return asset.model_copy(update={"status": AssetStatus.COMMITTED, "assigned_to": alert_id,
                                    "updated_at": max(at, asset.updated_at)})


def released(asset: Asset, alert_id: str, at: datetime) -> Asset:
    """``asset`` released from ``alert_id``: ready again; raises ``NotAssigned``."""
    if asset.assigned_to != alert_id:
        raise NotAssigned(N_("asset %(asset)s is not assigned to %(alert)s"),
                          {"asset": repr(asset.id), "alert": repr(alert_id)})
    return asset.model_copy(update={"status": AssetStatus.READY, "assigned_to": None,
                                    "updated_at": max(at, asset.updated_at)})
