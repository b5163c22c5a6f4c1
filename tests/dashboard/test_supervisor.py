"""A supervised thread that dies is logged, restarted with back-off, and its state is visible meanwhile."""
from __future__ import annotations

import logging
import threading

from dashboard.supervisor import Backoff, Supervisor
from tests.conftest import wait_for


class Waits:
    """The supervisor's back-off waits, recorded; each is held until the test releases it (time injected)."""

    def __init__(self):
        self.delays: list[float] = []
        self.go = threading.Semaphore(0)

    def __call__(self, stop: threading.Event, seconds: float) -> bool:
        self.delays.append(seconds)
        self.go.acquire()
        return stop.is_set()


def test_sup001_a_dying_thread_is_restarted_with_growing_back_off_and_reported_meanwhile(caplog):
    waits, stop, runs = Waits(), threading.Event(), []
    ran_again = threading.Event()

    def target(stop_event: threading.Event) -> None:
        runs.append(1)
        if len(runs) <= 3:
            raise ConnectionError(f"boom {len(runs)}")
        ran_again.set()
        stop_event.wait()

    supervisor = Supervisor(Backoff(first=0.5, most=1.5), wait=waits)
    with caplog.at_level(logging.ERROR, "dashboard.supervisor"):
        supervisor.start("demo", target, stop)
        wait_for(lambda: len(waits.delays) == 1, what="the first back-off")
        state = supervisor.report()["demo"]
        assert state["state"] == "restarting" and state["restarts"] == 1 and state["retry_in"] == 0.5
        assert state["error"] == "ConnectionError: boom 1"
        assert supervisor.problems() == ["thread demo restarting after 1 failure(s): ConnectionError: boom 1"]
        for _ in range(3):
            waits.go.release()
        assert ran_again.wait(10)
    assert waits.delays == [0.5, 1.0, 1.5]  # doubling, capped at `most`
    assert supervisor.report()["demo"]["state"] == "running" and supervisor.problems() == []
    assert "thread demo died (ConnectionError: boom 1)" in caplog.text
    stop.set()
    supervisor.join()
    assert supervisor.report()["demo"]["state"] == "stopped"


def test_sup002_a_thread_that_returns_by_itself_is_restarted_and_a_non_critical_one_does_not_degrade():
    waits, stop, calls = Waits(), threading.Event(), []
    supervisor = Supervisor(Backoff(first=2.0), wait=waits)
    supervisor.start("asset-demo", lambda s: calls.append(1), stop, critical=False)
    wait_for(lambda: waits.delays, what="a back-off")
    assert supervisor.report()["asset-demo"]["error"] == "ended unexpectedly"
    assert supervisor.problems() == []
    waits.go.release()
    wait_for(lambda: len(calls) == 2, what="the second run")
    stop.set()
    waits.go.release()
    supervisor.join()


def test_sup003_a_long_healthy_run_starts_the_back_off_again():
    clock = [0.0]
    waits, stop, runs = Waits(), threading.Event(), []

    def target(_stop):
        runs.append(1)
        clock[0] += 100 if len(runs) == 3 else 0  # the third run lasts 100 s before failing
        raise RuntimeError("x")

    supervisor = Supervisor(Backoff(first=1.0, most=30.0, healthy_after=60.0), wait=waits, monotonic=lambda: clock[0])
    supervisor.start("ingest-stream", target, stop)
    for _ in range(3):
        wait_for(lambda: len(waits.delays) == len(runs), what="a back-off")
        waits.go.release()
    wait_for(lambda: len(waits.delays) == 4, what="the fourth back-off")
    stop.set()
    waits.go.release()
    supervisor.join()
    assert waits.delays == [1.0, 2.0, 1.0, 2.0]
