"""A server with open live streams stops cleanly: the streams end first, nothing is cancelled."""
from __future__ import annotations

import signal
import threading

import httpx

from tests.conftest import add_user, server_log, serving


def test_shd001_sigterm_with_open_live_streams_ends_them_and_stops_cleanly(redis_url):
    """Breaker: with map tabs open, SIGTERM waited out uvicorn's graceful timeout, then logged
    'Cancel 4 running task(s)' and a traceback per stream."""
    running = serving(redis_url)
    server = next(running)
    try:
        viewer = add_user(redis_url, server.prefix, "srv-duty", "duty_officer", "RS")
        opened, ended = threading.Barrier(4), []

        def hold(path: str) -> None:
            with httpx.stream("GET", f"{server.url}{path}", headers=viewer.headers,
                              timeout=httpx.Timeout(60, read=60)) as response:
                assert response.status_code == 200
                lines = response.iter_lines()
                next(lines)  # the stream is open
                opened.wait()
                for _ in lines:  # read to the end of the body
                    continue
            ended.append(path)  # the body ended normally (no reset, no timeout)

        holders = [threading.Thread(target=hold, args=(p,)) for p in ("/live/map", "/live/alerts", "/live/assets")]
        for holder in holders:
            holder.start()
        opened.wait(timeout=60)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0 or server.process.returncode in (0, -signal.SIGTERM)
        for holder in holders:
            holder.join(timeout=30)
        assert sorted(ended) == ["/live/alerts", "/live/assets", "/live/map"]
        log = server_log(server.process)
        assert "Cancel" not in log and "Traceback" not in log and "ERROR" not in log, log
    finally:
        running.close()
