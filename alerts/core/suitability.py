"""Which assets suit which incident, and the quickest suitable ready assets for one.

An asset suits an incident when its type is listed for the incident type in
``SUITABLE_TYPES``, or when it has one of the capabilities listed in
``SUITABLE_CAPABILITIES`` (the README carries the same table). Suggestions
leave out the assets that cannot reach the incident at all (vessels inland,
ground units across open sea: ``alerts.core.reach``) and rank the rest by
ETA, distance / speed, with distances geodesic on WGS84
(``alerts.core.crs.GEOD``).

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import numpy as np

from alerts.core.assets import Asset, AssetStatus, AssetType
from alerts.core.crs import GEOD
from alerts.core.model import AlertType
from alerts.core.reach import DOMAIN_OF, Reach

#: Which asset types suit which incident type.
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


def suits(asset: Asset, incident: AlertType | str) -> bool:
    """Whether ``asset`` suits an incident of type ``incident`` (by type, or by a capability)."""
    incident = AlertType(incident)
    return asset.type in SUITABLE_TYPES[incident] or bool(
        SUITABLE_CAPABILITIES[incident].intersection(asset.capabilities))


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
        self.domain = np.array([DOMAIN_OF[a.type].value for a in self.assets], dtype=object)
        self._capable: dict[str, np.ndarray] = {}
        self._visible: dict[str | None, np.ndarray] = {}
        self._suits: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.assets)

    def visible(self, nation: str | None) -> np.ndarray:
        """Boolean mask: the assets released to ``nation`` (cached per nation)."""
        if nation not in self._visible:
            self._visible[nation] = np.fromiter((a.visible_to(nation) for a in self.assets), bool, len(self))
        return self._visible[nation]

    def suits(self, incident: AlertType) -> np.ndarray:
        """Boolean mask: the assets suitable for ``incident`` (cached per type)."""
        if incident.value not in self._suits:
            self._suits[incident.value] = np.fromiter((suits(a, incident) for a in self.assets), bool, len(self))
        return self._suits[incident.value]

    def capable(self, capability: str) -> np.ndarray:
        """Boolean mask: the assets with ``capability`` (or of that type)."""
        if capability not in self._capable:
            self._capable[capability] = np.fromiter(
                (a.has_capability(capability) for a in self.assets), bool, len(self))
        return self._capable[capability]


def suggest(table: AssetTable, incident: AlertType | str, lon: float, lat: float,
            nation: str | None, limit: int = 10, reach: Reach | None = None) -> list[dict]:
    """The ready, releasable, suitable assets that can reach the incident, quickest first.

    Returns up to ``limit`` dicts ``{"asset": Asset, "distance_km": float,
    "eta_minutes": float}``, by ETA (= distance / ``speed_kmh``), then
    distance; distances are geodesic on WGS84 (one vectorised ``Geod.inv``
    over the candidates). With ``reach`` (``alerts.core.reach.Reach``) the
    assets that cannot reach ``lon``, ``lat`` are left out; without it every
    asset is taken as reachable.
    """
    incident = AlertType(incident)
    candidates = np.flatnonzero(table.ready & table.visible(nation) & table.suits(incident))
    if len(candidates) and reach is not None:
        candidates = candidates[reach.reachable(table.domain[candidates], table.lon[candidates],
                                                table.lat[candidates], lon, lat)]
    if not len(candidates):
        return []
    _, _, metres = GEOD.inv(np.full(len(candidates), lon), np.full(len(candidates), lat),
                            table.lon[candidates], table.lat[candidates])
    km = np.asarray(metres) / 1000.0
    minutes = km / table.speed[candidates] * 60.0
    take = np.lexsort((km, minutes))[:limit]
    return [
        {"asset": table.assets[candidates[i]], "distance_km": float(km[i]), "eta_minutes": float(minutes[i])}
        for i in take
    ]
