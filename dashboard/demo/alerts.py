"""A short scripted exercise scenario for ``crisisdash serve --demo`` and ``crisisdash demo play`` (fictional,
all marked exercise): played once per start and on demand, never in a loop."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from alerts.store.client import Client
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream

log = logging.getLogger(__name__)

# (seconds after start, type, severity, lat, lon, source, releasable_to, title, description)
SCENARIO = [
    (0, "natural_disaster", "high", 44.28, 19.89, "RS", ["ALL"], "Flash flooding along the Kolubara",
     "EXERCISE. Rising water in Valjevo; two settlements cut off; request for helicopter evacuation."),
    (3, "border_incident", "medium", 42.02, 20.97, "MK", ["MK", "AL", "XK"], "Armed group sighted near border crossing",
     "EXERCISE. Border police report 6-8 armed persons moving towards the crossing at night."),
    (6, "cyber", "high", 42.70, 23.32, "BG", ["ALL"], "DDoS against national grid operator",
     "EXERCISE. SCADA front-ends degraded; CERT engaged; partner CERTs asked for indicators."),
    (9, "hazmat", "critical", 45.80, 15.97, "HR", ["ALL"], "Chlorine leak at rail yard",
     "EXERCISE. Tank wagon damaged in Zagreb marshalling yard; 1 km shelter-in-place ordered."),
    (12, "terrorism", "critical", 37.98, 23.73, "GR", ["GR", "AL", "BG", "RO"], "Explosion reported at metro station",
     "EXERCISE. Unconfirmed reports of an explosion; casualties unknown; EOD requested."),
    (15, "organized_crime", "medium", 42.44, 19.26, "ME", ["ME", "RS", "HR"], "Weapons cache found in warehouse",
     "EXERCISE. Police raid finds military-grade weapons; links to trafficking network suspected."),
    (18, "mass_casualty", "critical", 44.43, 26.10, "RO", ["ALL"], "Multi-vehicle collision, coach involved",
     "EXERCISE. A1 motorway; 40+ casualties; regional hospitals alerted."),
    (21, "civil_unrest", "medium", 42.66, 21.17, "XK", ["ALL"], "Large demonstration turning violent",
     "EXERCISE. Crowd of 3,000; clashes with police reported in the centre of Pristina."),
    (24, "military_activity", "low", 46.05, 14.51, "SI", ["ALL"], "Unannounced air activity near airspace",
     "EXERCISE. Two unidentified fast movers tracked briefly near the northern border."),
    (27, "natural_disaster", "critical", 40.64, 22.94, "GR", ["ALL"], "Earthquake M6.1 near Thessaloniki",
     "EXERCISE. Damage to older buildings; USAR teams requested from partner nations."),
    (30, "hazmat", "high", 43.85, 18.39, "BA", ["BA", "HR", "RS", "ME"], "Ammonia release at industrial site",
     "EXERCISE. Plant near Sarajevo; downwind villages being warned."),
    (33, "border_incident", "low", 41.33, 19.82, "AL", ["AL"], "Migrant group intercepted",
     "EXERCISE. 35 persons intercepted; humanitarian needs assessed."),
    (36, "cyber", "medium", 44.82, 20.46, "RS", ["RS", "HU"], "Phishing campaign against ministries",
     "EXERCISE. Credential harvesting pages imitating the government portal."),
    (39, "other", "low", 42.00, 21.43, "MK", ["ALL"], "Communications exercise check-in",
     "EXERCISE. Scheduled comms check from the national crisis cell."),
]


#: Markings of some scenario alerts (by offset): what sharing looks like with classified traffic.
MARKINGS = {
    12: {"classification": "CONFIDENTIAL", "tlp": "AMBER", "caveats": ["EXERCISE"]},
    15: {"classification": "RESTRICTED", "tlp": "AMBER+STRICT"},
    36: {"classification": "RESTRICTED", "tlp": "GREEN"},
}

#: A TAK emergency from a device no feed is registered for: it waits in the admins' Unrouted view.
UNROUTED_OFFSET = 42


def _unrouted_emergency(run: int, now: datetime) -> bytes:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stale = (now + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (f"<?xml version='1.0' encoding='UTF-8'?><event version='2.0' uid='ANDROID-demo{run}-9-1-1' "
            f"type='b-a-o-tbl' time='{stamp}' start='{stamp}' stale='{stale}' how='h-e' opex='e'>"
            "<point lat='42.43' lon='19.26' hae='50' ce='15' le='9999999'/><detail>"
            "<contact callsign='EXERCISE Patrol 7'/><emergency type='911 Alert'>EXERCISE Patrol 7</emergency>"
            "<remarks>EXERCISE. Patrol vehicle rolled over; two injured.</remarks></detail></event>").encode()


def scenario_payloads(run: int, now: datetime) -> list[tuple[int, bytes]]:
    """``(seconds after start, payload)`` for each alert of the scenario, ids unique to ``run``: JSON alerts
    (some with markings), then a TAK emergency of an unregistered device (unrouted until an admin releases it)."""
    payloads = []
    for offset, type_, severity, lat, lon, source, releasable, title, description in SCENARIO:
        alert = {
            "id": f"demo-{run}-{offset:03d}",
            "type": type_,
            "severity": severity,
            "title": title,
            "description": description,
            "location": {"lat": lat, "lon": lon},
            "reported_at": now.isoformat(),
            "source": source,
            "releasable_to": releasable,
            "exercise": True,
            **MARKINGS.get(offset, {}),
        }
        payloads.append((offset, json.dumps(alert).encode()))
    payloads.append((UNROUTED_OFFSET, _unrouted_emergency(run, now)))
    return payloads


def play_scenario(client: Client, keys: Keys, run: int, wait: Callable[[float], bool],
                  on_sent: Callable[[bytes], object] = lambda payload: None) -> bool:
    """Play the scenario once into the inbox stream, ids unique to ``run``, paced by ``wait(seconds)`` (which
    returns True to stop early). Playing the same ``run`` again adds nothing new: ingest drops the
    duplicates. Returns whether it played to the end."""
    previous = 0
    for offset, payload in scenario_payloads(run, datetime.now(UTC)):
        if wait(offset - previous):
            return False
        previous = offset
        send_to_stream(client, keys, [payload])
        on_sent(payload)
    log.info("demo scenario run %s played", run)
    return True


def run_demo(client: Client, keys: Keys, stop: threading.Event, run: int,
             wait: Callable[[float], bool] | None = None) -> None:
    """``serve --demo``'s demo thread: play the scenario once (run ``run``, paced by ``wait``, default
    ``stop.wait``), then idle until ``stop``.

    Restarted after a failure (Redis gone), it plays the same run again, which adds only what the failed
    attempt did not send. More runs on demand: ``crisisdash demo play``."""
    if play_scenario(client, keys, run, wait or stop.wait):
        stop.wait()


def new_run() -> int:
    """A run number no earlier run of this deployment used (the current Unix time, seconds)."""
    return int(datetime.now(UTC).timestamp())
