"""5. Acknowledgment latency under concurrent responders: ``POST /api/v1/alerts/{id}/ack`` over HTTP.

A ``crisisdash serve`` (``tests.conftest.start_server``) on its own prefix,
``responders`` responder users with API tokens, ``responders x per_responder``
alerts of their own plus ``per_responder`` shared ones, ingested through the
inbox stream (the run waits for their checklists). Then every responder
acknowledges its own alerts, all starting together (one keep-alive client
each); then all of them race for the shared alerts (one 200 per alert, the
rest 409). Times in ms, p50/p95. Baselines, same run: ``GET /api/v1/me`` from
the same clients (authentication + HTTP alone) and a raw ``HSETNX`` from as
many threads.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

from alerts.store.keys import Keys
from bench.common import HEADERS, client_for, fmt_ms, pct, print_table


def _race(server_url: str, users: list, work: list[list[str]], method: str, path: str) -> tuple[list, list]:
    """One HTTP client per entry of ``work`` (as ``users[i]``), all starting together; each requests
    ``path`` for each of its ids. Returns (latencies in ms, status codes)."""
    import httpx

    latencies: list[float] = []
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(work))

    def responder(user, ids):
        with httpx.Client(base_url=server_url, headers=user.headers, timeout=30) as web:
            web.get("/api/v1/me")  # connect first
            start.wait()
            for alert_id in ids:
                t0 = time.perf_counter()
                response = web.request(method, path.format(alert_id))
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(dt)
                    codes.append(response.status_code)

    threads = [threading.Thread(target=responder, args=(users[i], ids)) for i, ids in enumerate(work)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, codes


def _raw_hsetnx(url: str, key: str, workers: int, per_worker: int) -> list[float]:
    """Baseline: ``HSETNX`` from ``workers`` threads (own client each), ``per_worker`` each; ms per call."""
    latencies: list[float] = []

    def raw(worker: int) -> None:
        client = client_for(url)
        for k in range(per_worker):
            t0 = time.perf_counter()
            client.hsetnx(key, f"{worker}-{k}", "x")
            latencies.append((time.perf_counter() - t0) * 1000)
        client.close()

    threads = [threading.Thread(target=raw, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def bench_ack(url: str, prefix: str, responders: int = 50, per_responder: int = 10) -> dict:
    """``POST /api/v1/alerts/{id}/ack`` from ``responders`` concurrent clients, each acknowledging its own
    alerts, then all of them racing for the same alerts (one wins, the rest get 409): ms p50/p95 and
    status counts, beside ``GET /api/v1/me`` and a raw ``HSETNX``."""
    from alerts.store.producer import send_to_stream
    from tests.conftest import add_user, start_server, stop_server

    sub = f"{prefix}:ack"
    server = start_server(url, sub)
    try:
        users = [add_user(url, sub, f"resp{i:02d}", "responder", "RS") for i in range(responders)]
        client = client_for(url)
        keys = Keys(sub)
        now = datetime.now(UTC).isoformat()
        own = [[f"ack-{u}-{k}" for k in range(per_responder)] for u in range(responders)]
        shared = [f"race-{k}" for k in range(per_responder)]
        documents = [{"id": i, "type": "cyber", "severity": "high", "title": "bench", "location": {"lat": 44.8, "lon": 20.4},
                      "reported_at": now, "source": "RS", "releasable_to": ["ALL"]}
                     for i in [*(i for ids in own for i in ids), *shared]]
        send_to_stream(client, keys, [json.dumps(d) for d in documents])
        wait_until = time.monotonic() + 60
        while time.monotonic() < wait_until:
            if all(client.exists(keys.checklist(d["id"])) for d in documents[-3:]) and \
                    client.exists(keys.checklist(documents[0]["id"])):
                break
            time.sleep(0.05)

        ack_path = "/api/v1/alerts/{}/ack"
        own_lat, own_codes = _race(server.url, users, own, "POST", ack_path)
        race_lat, race_codes = _race(server.url, users, [shared] * responders, "POST", ack_path)
        me_lat, _ = _race(server.url, users, [["x"] * per_responder] * responders, "GET", "/api/v1/me")
        raw_lat = _raw_hsetnx(url, f"{sub}:raw-acks", responders, per_responder)
        client.close()
        return {
            "responders": responders, "per_responder": per_responder,
            "own": {"p50": pct(own_lat, 50), "p95": pct(own_lat, 95), "ok": own_codes.count(200), "n": len(own_codes)},
            "race": {"p50": pct(race_lat, 50), "p95": pct(race_lat, 95), "ok": race_codes.count(200),
                     "conflict": race_codes.count(409), "n": len(race_codes)},
            "me": {"p50": pct(me_lat, 50), "p95": pct(me_lat, 95)},
            "raw": {"p50": pct(raw_lat, 50), "p95": pct(raw_lat, 95)},
        }
    finally:
        stop_server(server)


def report_ack(r: dict) -> None:
    """Print section 5: own and racing acknowledgments p50/p95 beside ``GET /api/v1/me`` and raw ``HSETNX``."""
    own, race, me, raw = r["own"], r["race"], r["me"], r["raw"]
    print_table(
        f"5. Acknowledgment latency ({r['responders']} concurrent responders x {r['per_responder']} alerts each)",
        HEADERS,
        [
            ["ack, own alerts p50", fmt_ms(own["p50"]), "GET /api/v1/me p50 (auth + HTTP only)", fmt_ms(me["p50"]),
             f"{own['ok']}/{own['n']} answered 200"],
            ["ack, own alerts p95", fmt_ms(own["p95"]), "GET /api/v1/me p95", fmt_ms(me["p95"]), ""],
            ["ack, all racing for the same p50", fmt_ms(race["p50"]),
             f"raw HSETNX p50 ({r['responders']} threads)", fmt_ms(raw["p50"]),
             f"{race['ok']} x 200 (one per alert), {race['conflict']} x 409"],
            ["ack, all racing for the same p95", fmt_ms(race["p95"]), "raw HSETNX p95", fmt_ms(raw["p95"]), ""],
        ])
