"""A fictional order of battle for ``crisisdash serve --demo``: ~5 assets in each of the 11 core nations.

Names are invented; bases are real-ish towns. Most assets are releasable to
ALL, some to neighbours only, a few national only. While the demo runs, a
handful of them move (positions sent to the asset inbox stream like any feed).
"""
from __future__ import annotations

import json
import logging
import math
import threading
from datetime import UTC, datetime

from alerts.store.client import UNAVAILABLE, Client
from alerts.store.keys import Keys
from alerts.store.producer import send_assets

log = logging.getLogger(__name__)

# nation, (base name, lat, lon) ... ; each nation gets the same five roles at its bases.
BASES = {
    "AL": [("Tirana", 41.33, 19.82), ("Durrës", 41.32, 19.45), ("Kuçova", 40.77, 19.90)],
    "BA": [("Sarajevo", 43.86, 18.41), ("Tuzla", 44.54, 18.67), ("Banja Luka", 44.77, 17.19)],
    "BG": [("Sofia", 42.70, 23.32), ("Plovdiv", 42.14, 24.75), ("Varna", 43.21, 27.91)],
    "HR": [("Zagreb", 45.81, 15.98), ("Split", 43.51, 16.44), ("Zadar", 44.12, 15.23)],
    "GR": [("Athens", 37.98, 23.73), ("Thessaloniki", 40.64, 22.94), ("Larissa", 39.64, 22.42)],
    "XK": [("Pristina", 42.66, 21.17), ("Prizren", 42.21, 20.74), ("Mitrovica", 42.89, 20.87)],
    "ME": [("Podgorica", 42.44, 19.26), ("Bar", 42.09, 19.10), ("Nikšić", 42.77, 18.94)],
    "MK": [("Skopje", 41.99, 21.43), ("Bitola", 41.03, 21.33), ("Štip", 41.74, 22.20)],
    "RO": [("Bucharest", 44.43, 26.10), ("Constanța", 44.18, 28.63), ("Cluj-Napoca", 46.77, 23.60)],
    "RS": [("Belgrade", 44.82, 20.46), ("Niš", 43.32, 21.90), ("Kraljevo", 43.72, 20.69)],
    "SI": [("Ljubljana", 46.06, 14.51), ("Cerklje", 45.90, 15.53), ("Koper", 45.55, 13.73)],
}
COASTAL = {"AL", "HR", "GR", "ME", "RO", "BG", "SI"}
NEIGHBOURS = {
    "AL": ["AL", "XK", "MK", "ME", "GR"], "BA": ["BA", "HR", "RS", "ME"], "BG": ["BG", "RO", "GR", "MK", "RS"],
    "HR": ["HR", "SI", "BA", "RS"], "GR": ["GR", "AL", "MK", "BG"], "XK": ["XK", "AL", "MK", "ME"],
    "ME": ["ME", "BA", "RS", "AL", "XK", "HR"], "MK": ["MK", "AL", "BG", "GR", "RS", "XK"],
    "RO": ["RO", "BG", "RS"], "RS": ["RS", "BA", "HR", "ME", "MK", "RO", "BG"], "SI": ["SI", "HR"],
}
CALLSIGNS = ["Falcon", "Lynx", "Kestrel", "Bison", "Heron", "Otter", "Wolf", "Stork", "Marten", "Ibex", "Raven"]

# (type, capabilities, speed km/h, base index, releasability: all | neighbours | national)
ROLES = [
    ("infantry_company", ["border_security", "crowd_control"], 60, 0, "all"),
    ("medical_team", ["trauma_care"], 70, 0, "all"),
    ("utility_helicopter", ["medevac", "search_and_rescue"], 220, 1, "all"),
    ("eod_team", ["eod"], 70, 2, "neighbours"),
    ("engineer_unit", ["bridging", "search_and_rescue"], 45, 2, "national"),
]
SPECIAL = {  # extra capabilities some nations contribute
    "GR": ("firefighting_aircraft", ["firefighting"], 300),
    "HR": ("firefighting_aircraft", ["firefighting"], 300),
    "RO": ("cbrn_team", ["cbrn", "decontamination"], 70),
    "RS": ("cbrn_team", ["cbrn", "decontamination"], 70),
    "BG": ("cyber_response_team", ["cyber_forensics", "incident_response"], 80),
    "SI": ("field_hospital", ["trauma_care"], 40),
    "MK": ("military_police", ["law_enforcement", "crowd_control"], 70),
}


def order_of_battle(now: datetime | None = None) -> list[dict]:
    """The demo assets as import documents (asset schema v1), positions near their bases."""
    now = now or datetime.now(UTC)
    assets = []
    for n, (nation, bases) in enumerate(BASES.items()):
        callsign = CALLSIGNS[n]
        roles = list(ROLES)
        if nation in SPECIAL:
            type_, caps, speed = SPECIAL[nation]
            roles.append((type_, caps, speed, 1, "all"))
        if nation in COASTAL:
            roles.append(("coast_guard_vessel", ["border_security", "search_and_rescue"], 45, 2, "neighbours"))
        for k, (type_, caps, speed, base, release) in enumerate(roles):
            name, lat, lon = bases[base]
            releasable = {"all": ["ALL"], "neighbours": NEIGHBOURS[nation], "national": None}[release]
            asset = {
                "id": f"demo-{nation.lower()}-{type_.replace('_', '-')}",
                "name": f"{callsign} {k + 1} ({type_.replace('_', ' ')}, {name})",
                "nation": nation, "type": type_, "capabilities": caps, "status": "ready",
                "home_base": {"lat": lat, "lon": lon},
                "position": {"lat": lat + 0.02 * (k % 3), "lon": lon + 0.02 * (k % 2)},
                "speed_kmh": speed, "updated_at": now.isoformat(),
            }
            if releasable is not None:
                asset["releasable_to"] = releasable
            if k == 4 and n % 4 == 0:
                asset["status"] = "maintenance"
            assets.append(asset)
    return assets


MOVERS = ["demo-rs-utility-helicopter", "demo-gr-utility-helicopter", "demo-hr-utility-helicopter",
          "demo-ro-utility-helicopter"]


def run_asset_demo(client: Client, keys: Keys, stop: threading.Event, step_seconds: float = 3.0) -> None:
    """Load the order of battle, then fly a few helicopters in slow circles around their bases."""
    start = datetime.now(UTC)
    bases = {a["id"]: a["home_base"] for a in order_of_battle(start)}
    existing = {k.decode() for k in client.hkeys(keys.asset_state)}
    fresh = [a for a in order_of_battle(start) if a["id"] not in existing]
    send_assets(client, keys, [json.dumps(a) for a in fresh])
    log.info("demo order of battle: %d assets loaded", len(fresh))
    tick = 0
    while not stop.wait(step_seconds):
        tick += 1
        updates = []
        for n, asset_id in enumerate(MOVERS):
            base = bases[asset_id]
            angle = tick / 20 * 2 * math.pi + n
            updates.append(json.dumps({
                "id": asset_id, "updated_at": datetime.now(UTC).isoformat(),
                "position": {"lat": round(base["lat"] + 0.25 * math.sin(angle), 5),
                             "lon": round(base["lon"] + 0.35 * math.cos(angle), 5)},
            }))
        try:
            send_assets(client, keys, updates)
        except UNAVAILABLE as exc:
            log.warning("asset demo could not send positions: %s", exc)
