"""7. Replay: ``state?at=`` latency over a 6-hour, 50,000-event record, and the AAR build time.

The record (``alerts.core.record``) is written straight into the three streams of the run's prefix with
explicit stream ids spread evenly over the 6 hours before now, each entry exactly as the stores write it:
2,000 ``alert.created`` (releasable to all, or to one nation), 8,000 ``alert.updated`` (status acknowledged,
in progress, resolved), 30,000 ``asset.updated`` (200 assets moving) and 10,000 audit entries
(acknowledgments, steps, resolutions, taskings by users of five nations).

Figures: the read a server does when replay is first used (``replay.record_of``: the record read into memory,
checkpoints built), the first seek after it, then ``state_at`` at
``seeks`` random moments for a duty officer of one nation, p50/p95, each the whole answer of
``GET /api/v1/state`` without HTTP (``dashboard.api.replay.get_state``: rebuild, releasability, JSON of every
alert and asset shown, encoded); and an incident AAR over the 6 hours (``alerts.actions.aar.incident_report``).
Baseline, same run: a full read of the record, raw ``XRANGE`` of the three streams (no parsing). Target:
``state?at=`` under 1 s.
"""
from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bench.common import ROOT, client_for, fmt_ms, p50_p95_max, print_table

HOURS = 6
TARGET_MS = 1000.0
NATIONS = ("RS", "BA", "HR", "ME", "MK")
MIX = {"created": 2_000, "updated": 8_000, "assets": 30_000, "audit": 10_000}


def _alert(i: int, at: datetime, rng: random.Random, status: str = "new") -> dict:
    nation = NATIONS[i % len(NATIONS)]
    lat, lon = 42 + rng.random() * 4, 19 + rng.random() * 4
    return {"key": f"rb-{i}", "identity": f"json|bench|rb-{i}",
            "alert": {"id": f"rb-{i}", "type": "hazmat", "severity": "high", "title": f"Bench alert {i}",
                      "description": "Synthetic replay alert.", "location": {"lat": lat, "lon": lon},
                      "reported_at": at.isoformat(), "source": nation, "exercise": False},
            "placement": {"country": nation}, "received_at": at.isoformat(), "status": status,
            "lon": lon, "lat": lat,
            "routing": {"nation": nation, "releasable_to": ["ALL"] if i % 4 else [nation]}}


def _asset(i: int, at: datetime, rng: random.Random) -> dict:
    lat, lon = 42 + rng.random() * 4, 19 + rng.random() * 4
    return {"id": f"rb-asset-{i}", "name": f"Unit {i}", "nation": NATIONS[i % len(NATIONS)], "type": "medical_team",
            "capabilities": [], "status": "ready", "home_base": {"lat": lat, "lon": lon},
            "position": {"lat": lat, "lon": lon}, "speed_kmh": 60, "releasable_to": ["ALL"],
            "updated_at": at.isoformat()}


def build_record(client, keys, seed: int = 11, scale: float = 1.0) -> tuple[datetime, datetime, int]:
    """Write the synthetic record (module docstring; ``scale`` times each count of ``MIX``); returns (start, end,
    events written)."""
    from alerts.core.model import StoredAlert

    rng = random.Random(seed)
    end = datetime.now(UTC) - timedelta(seconds=1)
    start = end - timedelta(hours=HOURS)
    mix = {kind: max(1, round(count * scale)) for kind, count in MIX.items()}
    kinds = (["created"] * mix["created"] + ["updated"] * mix["updated"] + ["assets"] * mix["assets"]
             + ["audit"] * mix["audit"])
    rng.shuffle(kinds)
    kinds.sort(key=lambda k: k != "created")  # the first alerts exist before anything names them
    kinds[mix["created"]:] = rng.sample(kinds[mix["created"]:], len(kinds) - mix["created"])
    step_ms = HOURS * 3600 * 1000 // len(kinds)
    pipe, created = client.pipeline(transaction=False), 0
    statuses = ("acknowledged", "in_progress", "resolved")
    for n, kind in enumerate(kinds):
        ms = int(start.timestamp() * 1000) + n * step_ms
        at = datetime.fromtimestamp(ms / 1000, UTC)
        eid = f"{ms}-0"
        if kind == "created" or created == 0:
            doc = _alert(created, at, rng)
            StoredAlert.model_validate(doc)  # the shape the store writes
            pipe.xadd(keys.events, {"kind": "alert.created", "alert": json.dumps(doc)}, id=eid)
            created += 1
        elif kind == "updated":
            doc = _alert(rng.randrange(created), at, rng, rng.choice(statuses))
            pipe.xadd(keys.events, {"kind": "alert.updated", "alert": json.dumps(doc)}, id=eid)
        elif kind == "assets":
            pipe.xadd(keys.assets_events, {"kind": "asset.updated", "asset": json.dumps(_asset(rng.randrange(200), at, rng))},
                      id=eid)
        else:
            action = rng.choice(("alert.acknowledge", "checklist.step_done", "alert.resolve", "asset.assign"))
            target = f"rb-{rng.randrange(created)}"
            detail = {"step": 1} if action == "checklist.step_done" else {"alert_id": target} \
                if action == "asset.assign" else {}
            pipe.xadd(keys.audit, {"at": at.isoformat(), "actor": f"duty-{NATIONS[n % 5].lower()}", "action": action,
                                   "object": f"rb-asset-{rng.randrange(200)}" if action == "asset.assign" else target,
                                   "detail": json.dumps(detail), "ip": ""}, id=eid)
        if n % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    return start, end, len(kinds)


def bench_replay(url: str, prefix: str, seeks: int = 50, scale: float = 1.0) -> dict:
    """The figures of the module docstring (ms); ``scale`` sizes the record (``build_record``; 0.1 for a smoke
    run: 5,000 events)."""
    from alerts.actions import aar, replay
    from alerts.actions.centre import Centre
    from alerts.core.asset_index import AssetIndex
    from alerts.core.checklists import Templates
    from alerts.core.coverage import Places
    from alerts.core.index import AlertIndex
    from alerts.core.viewer import Viewer
    from alerts.store.alerts import AlertStore
    from alerts.store.assets import AssetStore
    from alerts.store.audit import AuditLog
    from alerts.store.keys import Keys
    from alerts.store.sharing import ReleasabilityRequests
    from alerts.store.workflow import WorkflowStore
    from dashboard.api.replay import DEFAULT_ALERTS, get_state

    client, keys = client_for(url), Keys(f"{prefix}:replay")
    start, end, written = build_record(client, keys, scale=scale)
    alerts = AlertStore(client, keys)
    centre = Centre(alerts=alerts, index=AlertIndex(),
                    workflow=WorkflowStore(client, keys, alerts, Templates.load(ROOT / "checklists")),
                    assets=AssetStore(client, keys), asset_index=AssetIndex(), audit=AuditLog(client, keys),
                    places=Places.from_assets(ROOT / "assets"), requests=ReleasabilityRequests(client, keys),
                    nation_of=lambda name: name.rsplit("-", 1)[-1].upper() if name.startswith("duty-") else None)
    viewer = Viewer("duty-rs", "duty_officer", "RS", via="session", clearance="SECRET")
    services = SimpleNamespace(centre=centre)

    t0 = time.perf_counter()
    for stream in (keys.events, keys.assets_events, keys.audit):
        client.xrange(stream)
    baseline_ms = (time.perf_counter() - t0) * 1000

    def answer(at: datetime) -> int:
        return len(get_state(at.isoformat(), DEFAULT_ALERTS, viewer, services).body)  # the JSON answer, encoded

    t0 = time.perf_counter()
    replay.record_of(centre)  # what a server does on the first replay use (alerts.actions.replay.RecordCache)
    warm_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    answer(start + timedelta(hours=HOURS / 2))
    first_ms = (time.perf_counter() - t0) * 1000
    rng, times, sizes = random.Random(5), [], []
    for _ in range(seeks):
        at = start + timedelta(seconds=rng.uniform(0, HOURS * 3600))
        t0 = time.perf_counter()
        sizes.append(answer(at))
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    report = aar.incident_report(centre, viewer, start, end)
    aar_ms = (time.perf_counter() - t0) * 1000
    result = {"events": written, "held": len(replay.record_of(centre)), "hours": HOURS, "seeks": seeks,
              "warm_up_ms": warm_ms, "first_seek_ms": first_ms, "state_ms": p50_p95_max(times), "answer_bytes_median": sorted(sizes)[len(sizes) // 2],
              "aar_ms": aar_ms, "aar_alerts": len(report["alerts"]), "baseline_full_read_ms": baseline_ms,
              "target_ms": TARGET_MS}
    client.close()
    return result


def report_replay(r: dict) -> None:
    """Print the replay table."""
    s = r["state_ms"]
    print_table(f"7. Replay over a {r['hours']}-hour record of {r['events']:,} events (target: state?at= under 1 s)",
                ["figure", "ms", "baseline: full XRANGE of the record (ms)"],
                [["first use: record read into memory, checkpoints", fmt_ms(r["warm_up_ms"]),
                  fmt_ms(r["baseline_full_read_ms"])],
                 ["first seek after the warm-up", fmt_ms(r["first_seek_ms"]), fmt_ms(r["baseline_full_read_ms"])],
                 [f"state?at= p50 / p95 / max ({r['seeks']} seeks)",
                  f"{fmt_ms(s['p50'])} / {fmt_ms(s['p95'])} / {fmt_ms(s['max'])}", fmt_ms(r["baseline_full_read_ms"])],
                 [f"incident AAR over the record ({r['aar_alerts']:,} alerts)", fmt_ms(r["aar_ms"]),
                  fmt_ms(r["baseline_full_read_ms"])]])
