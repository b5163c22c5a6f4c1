"""Is the centre working: Redis, every ingest worker, what the inboxes owe. ``GET /api/v1/health``.

The answer is ``ok``, or ``degraded`` with the reasons, when:

- Redis does not answer;
- a worker's last heartbeat is older than ``WORKER_SILENT_SECONDS`` (it died
  or hangs), or it is retrying after a failure (the error is named);
- the oldest entry an inbox's consumer group owes has been pending for more
  than ``PENDING_STUCK_SECONDS`` (a consumer died and nobody claimed its work);
- an inbox has undelivered entries and no live worker reads it.

Anonymous callers get only ``status`` and ``reasons``; the figures (workers,
inboxes, read model, and who holds each job lease: ``leases``, ``alerts.store.lease``) are for
administrators (``figures``).
"""
from __future__ import annotations

from collections.abc import Callable

from alerts.store import heartbeats
from alerts.store.client import Client, StoreError
from alerts.store.keys import Keys
from alerts.store.lease import holder

#: The job leases health reports (``dashboard.services.Services.lease``).
LEASES = ("escalation", "exercises")

WORKER_SILENT_SECONDS = 15.0
PENDING_STUCK_SECONDS = 300.0


def check(client: Client, keys: Keys, now: Callable[[], float], *, silent_after: float = WORKER_SILENT_SECONDS,
          stuck_after: float = PENDING_STUCK_SECONDS) -> dict:
    """``{"status", "reasons", "redis", "workers", "inboxes", "leases"}`` (see the module docstring; ``leases``:
    job name -> ``{"fencing", "holder"}``, or None while free); never raises.

    ``now`` gives epoch seconds; the thresholds are in seconds.
    """
    try:
        client.ping()
        workers = heartbeats.workers(client, keys)
        inboxes = {"alerts": heartbeats.inbox_figures(client, keys.inbox, keys.ingest_group),
                   "assets": heartbeats.inbox_figures(client, keys.assets_inbox, keys.assets_ingest_group)}
        held = {name: holder(client, keys.lease(name)) for name in LEASES}
    except StoreError as exc:
        return {"status": "degraded", "reasons": [f"Redis unavailable: {exc}"], "redis": f"down: {exc}",
                "workers": {}, "inboxes": {}, "leases": {}}
    leases = {name: None if found is None else {"fencing": found[0], "holder": found[1]}
              for name, found in held.items()}
    reasons = []
    at = now()
    live_streams = set()
    for name, worker in sorted(workers.items()):
        silent = at - float(worker.get("beat", 0))
        worker["silent_s"] = round(silent, 1)
        if silent > silent_after:
            reasons.append(f"worker {name} silent for {silent:.0f} s")
        elif worker.get("state") != "running":
            reasons.append(f"worker {name} {worker.get('state')}: {worker.get('error') or 'no detail'}")
        else:
            live_streams.add(worker.get("stream"))
    for label, stream in (("alerts", keys.inbox), ("assets", keys.assets_inbox)):
        figures = inboxes[label]
        if figures["oldest_pending_s"] > stuck_after:
            reasons.append(f"{label} inbox: an entry has been pending for {figures['oldest_pending_s']:.0f} s")
        if figures["lag"] and stream not in live_streams:
            reasons.append(f"{label} inbox: {figures['lag']} entries waiting and no live worker reads it")
    return {"status": "degraded" if reasons else "ok", "reasons": reasons, "redis": "ok", "workers": workers,
            "inboxes": inboxes, "leases": leases}
