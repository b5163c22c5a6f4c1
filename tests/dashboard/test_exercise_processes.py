"""One exercise, two ``crisisdash serve`` processes on the same Redis: every inject fires exactly once, and
killing one process (SIGKILL) mid-exercise and starting it again loses and repeats nothing."""
from __future__ import annotations

import json
import uuid

import httpx
import redis

from alerts.store.keys import Keys
from tests.conftest import _delete_prefix, add_user, start_server, stop_server, wait_for

INJECTS = 20


def _msel() -> bytes:
    rows = ["inject,offset,to,type,severity,title,lat,lon"]
    rows += [f"{n},0:{n // 2:02d}:{30 * (n % 2):02d},{('RS', 'HR', 'BA')[n % 3]},other,low,Inject {n},44.0,20.0"
             for n in range(1, INJECTS + 1)]
    return "\n".join(rows).encode()  # one every 30 exercise seconds: at speed 30, one a second


def test_exp001_two_processes_fire_each_inject_once_through_a_kill_and_restart(redis_url):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(redis_url)
    servers = [start_server(redis_url, prefix), start_server(redis_url, prefix)]
    try:
        excon = add_user(redis_url, prefix, "exp-excon", "exercise_control", "RS")
        loaded = httpx.post(f"{servers[0].url}/api/v1/exercises", params={"name": "TWIN PROCESS", "speed": 30},
                            content=_msel(), headers=excon.headers, timeout=20)
        assert loaded.status_code == 201, loaded.text
        exercise_id = loaded.json()["id"]
        started = httpx.post(f"{servers[1].url}/api/v1/exercises/{exercise_id}/start", headers=excon.headers,
                             timeout=20)
        assert started.status_code == 200, started.text

        def fired() -> int:
            body = servers[1].api(f"/exercises/{exercise_id}", excon).json()
            return sum(1 for i in body["injects"] if i["state"] == "fired")

        wait_for(lambda: fired() >= 6, 60, "a third of the injects to fire")
        for server in servers:  # each process in turn dies mid-exercise and comes back
            server.kill()
            server.restart()
        wait_for(lambda: fired() == INJECTS, 90, "every inject to fire")

        sent = [json.loads(fields[b"payload"]) for _, fields in client.xrange(Keys(prefix).inbox)]
        numbers = sorted(d["inject"] for d in sent if d.get("exercise_id") == exercise_id)
        assert numbers == list(range(1, INJECTS + 1))  # each exactly once through the inbox
        rs = add_user(redis_url, prefix, "exp-duty-rs", "duty_officer", "RS")
        wait_for(lambda: len(servers[0].alert_ids(rs, exercise="exercise")) == len(
            [n for n in range(1, INJECTS + 1) if n % 3 == 0]) or None, 30, "RS's injects in the API")
        assert servers[0].alert_ids(rs, exercise="exercise") == {
            f"{exercise_id}.inject-{n}.RS" for n in range(1, INJECTS + 1) if n % 3 == 0}
    finally:
        for server in servers:
            stop_server(server)
        _delete_prefix(client, prefix)
