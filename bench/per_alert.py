"""What one alert costs a server process: the read model's memory and one live frame (``--per-alert`` of
``python -m bench.soak``).

In this process: ``n`` bench alerts ingested by the real pipeline on a throw-away prefix, read back as
``StoredAlert`` objects (``tracemalloc``: the objects), loaded into an ``AlertIndex`` (its rows, maps and
table), and each turned into a live frame (``alert_data``, ``json.dumps``, ``sse_frame``: done once per
event per group of viewers with the same filters, nation and clearance). Results: ``bench/README.md``,
section 6.
"""
from __future__ import annotations

import random
import time
import uuid

from alerts.store.keys import Keys
from bench.common import client_for, delete_prefix, encode, load_places, make_alerts, print_table


def per_alert(url: str, n: int = 5000) -> dict:
    """What one alert costs (module docstring, ``--per-alert``): bytes per alert of the ``StoredAlert``
    objects and of the index over them, and microseconds per live frame; prints and returns them."""
    import gc
    import json
    import tracemalloc

    from alerts.core.geography import RegionIndex
    from alerts.core.index import AlertIndex
    from alerts.core.model import StoredAlert
    from dashboard.live.payloads import alert_data
    from dashboard.live.sse import sse_frame
    from tests.conftest import ROOT, alert_pipeline

    prefix, redis = f"bench-{uuid.uuid4().hex[:8]}:per-alert", client_for(url)
    try:
        pipeline = alert_pipeline(redis, Keys(prefix), RegionIndex.from_assets(ROOT / "assets"))
        raws = encode(make_alerts(n, "pa", random.Random(1), load_places(), spread_minutes=60))
        documents = [s.model_dump_json() for s in pipeline.process([("bench", r) for r in raws]).accepted]
    finally:
        delete_prefix(redis, prefix)
        redis.close()
    gc.collect()
    tracemalloc.start()
    stored = [StoredAlert.model_validate_json(d) for d in documents]
    objects = tracemalloc.get_traced_memory()[0]
    index = AlertIndex()
    index.load(stored, "0-0")
    index.table()
    indexed = tracemalloc.get_traced_memory()[0] - objects
    tracemalloc.stop()
    started = time.perf_counter()
    for alert in stored:
        sse_frame("alert", json.dumps(alert_data(alert)), "1-0")
    figures = {"alerts": len(stored), "json_bytes": sum(map(len, documents)) / len(documents),
               "object_bytes": objects / len(stored), "index_bytes": indexed / len(stored),
               "frame_us": (time.perf_counter() - started) / len(stored) * 1e6}
    print_table(f"per alert ({len(stored):,} bench alerts)", ["measure", "value"], [
        ["stored JSON", f"{figures['json_bytes']:,.0f} B"],
        ["StoredAlert objects (tracemalloc)", f"{figures['object_bytes']:,.0f} B"],
        ["index rows, maps and table (tracemalloc)", f"{figures['index_bytes']:,.0f} B"],
        ["one live frame (alert_data + json.dumps + sse_frame)", f"{figures['frame_us']:.0f} us"]])
    return figures
