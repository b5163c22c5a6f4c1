"""The loop of the periodic jobs: a failed pass never ends the job; Redis being away is said once, not each pass."""
from __future__ import annotations

import logging
import threading

import redis

from alerts.actions.periodic import run_every


def test_per001_redis_away_is_logged_once_and_its_return_once_other_failures_each_time(caplog):
    stop, passes = threading.Event(), []
    outcomes = [redis.ConnectionError("refused")] * 4 + [None, ValueError("bad record"), None]

    def step():
        outcome = outcomes[len(passes)]
        passes.append(outcome)
        if len(passes) == len(outcomes):
            stop.set()
        if outcome is not None:
            raise outcome

    log = logging.getLogger("test.periodic")
    with caplog.at_level(logging.INFO, logger="test.periodic"):
        run_every(stop, 0, step, "job", log)
    messages = [r.getMessage() for r in caplog.records]
    assert len(passes) == len(outcomes)  # every pass ran: no failure ended the loop
    assert sum("Redis unreachable" in m for m in messages) == 1
    assert sum("Redis answers again" in m for m in messages) == 1
    assert sum("job failed" in m for m in messages) == 1
