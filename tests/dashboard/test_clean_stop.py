"""A clean stop logs no warnings: ``crisisdash serve --demo`` with live streams open, stopped by SIGTERM (as
systemd and docker stop it), exits 0 and its log has no WARNING, ERROR or traceback."""
from __future__ import annotations

import signal
import threading
import uuid

import httpx
import redis

from tests.conftest import _delete_prefix, add_user, start_server, stop_server


def test_stp001_a_clean_stop_with_live_streams_open_logs_no_warning(redis_url):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    server = start_server(redis_url, prefix, "--demo")
    try:
        user = add_user(redis_url, prefix, "stopper", "duty_officer", "RS")
        opened = {path: threading.Event() for path in ("/live/map?alarm=true", "/live/alerts?alarm=true",
                                                       "/live/alarm")}

        def follow(path):
            try:
                with httpx.stream("GET", f"{server.url}{path}", headers=user.headers, timeout=60) as answer:
                    for _chunk in answer.iter_bytes():
                        opened[path].set()
            except httpx.HTTPError:
                pass  # the server went away: what this test does to it

        threads = [threading.Thread(target=follow, args=(path,), daemon=True) for path in opened]
        for thread in threads:
            thread.start()
        for path, event in opened.items():
            assert event.wait(30), f"{path} sent nothing"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        server.process.log.seek(0)
        log = server.process.log.read().decode(errors="replace")
        noisy = [line for line in log.splitlines() if any(word in line for word in ("WARNING", "ERROR", "Traceback"))]
        assert noisy == [], "\n".join(noisy)
        assert "demo order of battle" in log  # (the log is the server's)
    finally:
        stop_server(server)
        _delete_prefix(redis.Redis.from_url(redis_url), prefix)
