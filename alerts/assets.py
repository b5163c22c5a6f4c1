"""Response assets: the schema, which assets suit which incident, import files, and nearest-asset ranking.

This module is domain core: it imports neither Redis nor Dash.

An ``Asset`` is one unit a nation can task (a company, a team, an aircraft, a
vessel) with where it is now (``position``), where it lives (``home_base``),
whether it can be tasked (``status``) and which incident it is working on
(``assigned_to``). Like alerts, assets carry ``releasable_to``: a missing list
means the owning nation only; ``["ALL"]`` means everyone.

``SUITABLE_TYPES`` and ``SUITABLE_CAPABILITIES`` say what suits an incident
type: an asset is suitable when its type is listed for the incident type, or
when it has one of the listed capabilities.

Live updates (``AssetUpdate``) name an asset by id and carry only what
changed (position, status, ...); the first message about an unknown asset
must be a whole asset.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyproj import Geod

from alerts.decode import DEFAULT_MAX_BYTES, Rejected, payload_text
from alerts.model import RELEASABLE_TO_ALL, AlertType, Location, no_control_chars, releasable_nations

_ISO2 = re.compile(r"^[A-Z]{2}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
GEOD = Geod(ellps="WGS84")


class AssetType(StrEnum):
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
    READY = "ready"
    COMMITTED = "committed"
    MAINTENANCE = "maintenance"
    OFF_DUTY = "off_duty"


class TypeGroup(StrEnum):
    """How an asset is drawn: the ring colour and size on the map."""

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

#: Which asset types suit which incident type (the README carries the same table).
SUITABLE_TYPES: dict[AlertType, frozenset[AssetType]] = {
    AlertType.TERRORISM: frozenset({AssetType.EOD_TEAM, AssetType.CBRN_TEAM, AssetType.MILITARY_POLICE,
                                    AssetType.MEDICAL_TEAM}),
    AlertType.ORGANIZED_CRIME: frozenset({AssetType.MILITARY_POLICE, AssetType.INFANTRY_COMPANY}),
    AlertType.BORDER_INCIDENT: frozenset({AssetType.INFANTRY_COMPANY, AssetType.MILITARY_POLICE,
                                          AssetType.UTILITY_HELICOPTER, AssetType.COAST_GUARD_VESSEL}),
    AlertType.NATURAL_DISASTER: frozenset({AssetType.UTILITY_HELICOPTER, AssetType.ENGINEER_UNIT,
                                           AssetType.FIREFIGHTING_AIRCRAFT, AssetType.MEDICAL_TEAM,
                                           AssetType.FIELD_HOSPITAL, AssetType.TRANSPORT_AIRCRAFT}),
    AlertType.CYBER: frozenset({AssetType.CYBER_RESPONSE_TEAM}),
    AlertType.CIVIL_UNREST: frozenset({AssetType.MILITARY_POLICE, AssetType.MEDICAL_TEAM}),
    AlertType.MILITARY_ACTIVITY: frozenset({AssetType.INFANTRY_COMPANY, AssetType.UTILITY_HELICOPTER}),
    AlertType.HAZMAT: frozenset({AssetType.CBRN_TEAM, AssetType.MEDICAL_TEAM, AssetType.ENGINEER_UNIT}),
    AlertType.MASS_CASUALTY: frozenset({AssetType.MEDICAL_TEAM, AssetType.FIELD_HOSPITAL,
                                        AssetType.UTILITY_HELICOPTER, AssetType.TRANSPORT_AIRCRAFT}),
    AlertType.OTHER: frozenset(),
}

#: Capabilities that make any asset suitable, whatever its type.
SUITABLE_CAPABILITIES: dict[AlertType, frozenset[str]] = {
    AlertType.TERRORISM: frozenset({"eod", "cbrn", "trauma_care"}),
    AlertType.ORGANIZED_CRIME: frozenset({"law_enforcement"}),
    AlertType.BORDER_INCIDENT: frozenset({"border_security"}),
    AlertType.NATURAL_DISASTER: frozenset({"search_and_rescue", "medevac", "firefighting", "bridging",
                                           "heavy_lift"}),
    AlertType.CYBER: frozenset({"cyber_forensics", "incident_response"}),
    AlertType.CIVIL_UNREST: frozenset({"crowd_control"}),
    AlertType.MILITARY_ACTIVITY: frozenset({"reconnaissance"}),
    AlertType.HAZMAT: frozenset({"cbrn", "decontamination"}),
    AlertType.MASS_CASUALTY: frozenset({"trauma_care", "medevac"}),
    AlertType.OTHER: frozenset(),
}


class Point(Location):
    """``{lat, lon}`` (the same bounds as an alert's location)."""


class Asset(BaseModel):
    """One response asset (schema v1)."""

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
        if nation is None:
            return True
        nations = self.releasable_nations()
        return nation in nations or RELEASABLE_TO_ALL in nations

    @property
    def group(self) -> TypeGroup:
        return TYPE_GROUPS[self.type]

    def has_capability(self, capability: str) -> bool:
        """A capability the asset lists, or its type's name (``cbrn_team`` is a capability of a CBRN team)."""
        return capability == self.type.value or capability in self.capabilities

    def suits(self, incident: AlertType | str) -> bool:
        incident = AlertType(incident)
        return self.type in SUITABLE_TYPES[incident] or bool(
            SUITABLE_CAPABILITIES[incident].intersection(self.capabilities))


class AssetUpdate(BaseModel):
    """A live update: the asset's id plus the fields that changed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=100)
    position: Point | None = None
    status: AssetStatus | None = None
    speed_kmh: float | None = Field(default=None, gt=0, le=2000, allow_inf_nan=False)
    updated_at: AwareDatetime | None = None


# --- decoding live messages ------------------------------------------------------------------------

def _validation_reason(error: ValidationError, what: str) -> str:
    parts = []
    for item in error.errors()[:8]:
        where = ".".join(str(p) for p in item["loc"]) or what
        parts.append(f"{where}: {item['msg']}")
    return f"invalid {what}: " + "; ".join(parts)


def decode_asset_message(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Asset | AssetUpdate:
    """One live payload: a whole ``Asset`` (it has a ``type``) or an ``AssetUpdate``; else ``Rejected``."""
    raw, text = payload_text(raw, max_bytes)
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        return _decode_cot(raw)
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Rejected(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Rejected(f"not a JSON object: got {type(document).__name__}")
    model, what = (Asset, "asset") if "type" in document else (AssetUpdate, "asset update")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise Rejected(_validation_reason(exc, what)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise Rejected(f"invalid {what}: {exc}") from None


def _decode_cot(raw: bytes) -> AssetUpdate:
    """A Cursor-on-Target position report (see ``alerts.cot.decode_cot_position``)."""
    from alerts.cot import decode_cot_position
    from alerts.decode import parse_xml_payload

    root = parse_xml_payload(raw)
    if root.tag != "event":
        raise Rejected(f"XML asset messages must be CoT <event> position reports, not <{root.tag}>")
    return decode_cot_position(root)


def apply_update(current: Asset, update: AssetUpdate, now: datetime) -> Asset | None:
    """``current`` with ``update`` applied, or None if the update is older than the record.

    Tasking belongs to the dashboard: while an asset is assigned, a feed cannot
    make it anything but committed, and it never changes ``assigned_to``.
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


# --- import files ----------------------------------------------------------------------------------

def _import_defaults(props: dict, lat: float, lon: float, now: datetime) -> dict:
    doc = dict(props)
    doc.setdefault("position", {"lat": lat, "lon": lon})
    doc.setdefault("home_base", {"lat": lat, "lon": lon})
    doc.setdefault("updated_at", now.isoformat())
    return doc


def parse_import(data: bytes | str, filename: str = "", now: datetime | None = None
                 ) -> tuple[list[Asset], list[tuple[int, str]]]:
    """Assets from a GeoJSON FeatureCollection of Points or a CSV with ``lat``/``lon`` columns.

    Returns ``(assets, errors)``; each error is ``(item number from 1, reason)``.
    In CSV, ``capabilities`` and ``releasable_to`` are separated by ``;`` or ``|``;
    ``home_lat``/``home_lon`` give the home base (default: the position).
    """
    now = now or datetime.now(UTC)
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    stripped = text.lstrip()
    if filename.lower().endswith((".json", ".geojson")) or stripped.startswith("{"):
        return _parse_geojson(text, now)
    return _parse_csv(text, now)


def _validate(document: dict, number: int, assets: list, errors: list) -> None:
    try:
        assets.append(Asset.model_validate(document))
    except ValidationError as exc:
        errors.append((number, _validation_reason(exc, "asset")))


def _parse_geojson(text: str, now: datetime) -> tuple[list[Asset], list[tuple[int, str]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [(0, f"not JSON: {exc}")]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [(0, "not a GeoJSON FeatureCollection")]
    assets: list[Asset] = []
    errors: list[tuple[int, str]] = []
    for number, feature in enumerate(document.get("features") or [], start=1):
        geometry = (feature or {}).get("geometry") or {}
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            errors.append((number, "feature geometry is not a Point"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.append((number, "feature properties are not an object"))
            continue
        _validate(_import_defaults(props, coords[1], coords[0], now), number, assets, errors)
    return assets, errors


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", value) if part.strip()]


def _parse_csv(text: str, now: datetime) -> tuple[list[Asset], list[tuple[int, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or [])
    if not {"lat", "lon"} <= fields:
        return [], [(0, f"CSV needs lat and lon columns (found: {sorted(fields)})")]
    assets: list[Asset] = []
    errors: list[tuple[int, str]] = []
    for number, row in enumerate(reader, start=1):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        try:
            lat, lon = float(row.pop("lat")), float(row.pop("lon"))
        except ValueError:
            errors.append((number, "lat/lon are not numbers"))
            continue
        doc: dict[str, Any] = {k: v for k, v in row.items() if v and k not in ("home_lat", "home_lon")}
        if row.get("home_lat") and row.get("home_lon"):
            try:
                doc["home_base"] = {"lat": float(row["home_lat"]), "lon": float(row["home_lon"])}
            except ValueError:
                errors.append((number, "home_lat/home_lon are not numbers"))
                continue
        for key in ("capabilities", "releasable_to"):
            if key in doc:
                doc[key] = _split(doc[key])
        _validate(_import_defaults(doc, lat, lon, now), number, assets, errors)
    return assets, errors


# --- nearest suitable assets -------------------------------------------------------------------------

class AssetTable:
    """Column arrays over a fixed list of assets, built once and queried many times."""

    def __init__(self, assets: list[Asset]):
        self.assets = list(assets)
        n = len(self.assets)
        self.lon = np.fromiter((a.position.lon for a in self.assets), float, n)
        self.lat = np.fromiter((a.position.lat for a in self.assets), float, n)
        self.speed = np.fromiter((a.speed_kmh for a in self.assets), float, n)
        self.ready = np.fromiter((a.status is AssetStatus.READY for a in self.assets), bool, n)
        self.type = np.array([a.type.value for a in self.assets], dtype=object)
        self._capable: dict[str, np.ndarray] = {}
        self._visible: dict[str | None, np.ndarray] = {}
        self._suits: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.assets)

    def visible(self, nation: str | None) -> np.ndarray:
        if nation not in self._visible:
            self._visible[nation] = np.fromiter((a.visible_to(nation) for a in self.assets), bool, len(self))
        return self._visible[nation]

    def suits(self, incident: AlertType) -> np.ndarray:
        if incident.value not in self._suits:
            self._suits[incident.value] = np.fromiter((a.suits(incident) for a in self.assets), bool, len(self))
        return self._suits[incident.value]

    def capable(self, capability: str) -> np.ndarray:
        if capability not in self._capable:
            self._capable[capability] = np.fromiter(
                (a.has_capability(capability) for a in self.assets), bool, len(self))
        return self._capable[capability]


def suggest(table: AssetTable, incident: AlertType | str, lon: float, lat: float,
            nation: str | None, limit: int = 10) -> list[dict]:
    """The nearest ready, releasable, suitable assets, nearest first, with distance and ETA.

    Distances are geodesic on WGS84 (one vectorised ``Geod.inv`` over the candidates).
    """
    incident = AlertType(incident)
    candidates = np.flatnonzero(table.ready & table.visible(nation) & table.suits(incident))
    if not len(candidates):
        return []
    _, _, metres = GEOD.inv(np.full(len(candidates), lon), np.full(len(candidates), lat),
                            table.lon[candidates], table.lat[candidates])
    km = np.asarray(metres) / 1000.0
    take = np.argsort(km, kind="stable")[:limit]
    return [
        {"asset": table.assets[candidates[i]], "distance_km": float(km[i]),
         "eta_minutes": float(km[i] / table.speed[candidates[i]] * 60.0)}
        for i in take
    ]
