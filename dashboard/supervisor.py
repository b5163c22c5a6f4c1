"""Supervision of a process's background threads: a thread that dies is logged and restarted with back-off.

``Supervisor.start(name, target, stop)`` runs ``target(stop)`` in a daemon
thread named ``name``. If ``target`` raises, or returns while ``stop`` is not
set, the failure is logged (with its traceback) and recorded, and ``target``
is called again after a back-off: ``Backoff.first`` seconds, doubling to
``Backoff.most``; a run that lasted ``Backoff.healthy_after`` seconds starts
the back-off again from ``first``. ``report()`` gives every thread's state
(``GET /api/v1/health`` shows it), ``problems()`` one reason per thread that
is not running.

Time is injectable: ``clock`` (epoch seconds, what ``since`` is stamped with)
and ``wait(stop, seconds)`` (how a back-off is waited out: by default
``stop.wait``, so a stop ends the wait at once; returns True when stopped).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: States of a supervised thread.
RUNNING, RESTARTING, STOPPED = "running", "restarting", "stopped"


@dataclass(frozen=True)
class Backoff:
    """Restart delays in seconds: ``first``, doubling to ``most``; reset after a run of ``healthy_after``."""

    first: float = 0.5
    most: float = 30.0
    healthy_after: float = 60.0

    def after(self, delay: float | None) -> float:
        """The delay that follows ``delay`` (None: the first failure)."""
        return self.first if delay is None else min(max(delay * 2, self.first), self.most)


@dataclass
class ThreadState:
    """What ``report`` shows of one thread: ``state`` (running, restarting, stopped), ``since`` (epoch s, when it
    entered that state), ``restarts`` (failures so far), ``error`` (the last failure, "" if none), ``retry_in``
    (the back-off being waited out, seconds), ``critical`` (health is degraded while it is not running)."""

    state: str = RUNNING
    since: float = 0.0
    restarts: int = 0
    error: str = ""
    retry_in: float = 0.0
    critical: bool = True

    def as_dict(self) -> dict:
        """The state as JSON-able data (the fields above)."""
        return {"state": self.state, "since": round(self.since, 3), "restarts": self.restarts, "error": self.error,
                "retry_in": self.retry_in, "critical": self.critical}


def _wait(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


@dataclass
class Supervisor:
    """Starts and restarts a process's background threads (see the module docstring)."""

    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.time
    wait: Callable[[threading.Event, float], bool] = _wait
    monotonic: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._states: dict[str, ThreadState] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, name: str, target: Callable[[threading.Event], object], stop: threading.Event, *,
              critical: bool = True) -> threading.Thread:
        """Run ``target(stop)`` supervised in a daemon thread ``name`` (unique in this supervisor).

        ``critical`` threads (ingest, followers, the embedded Valkey) make health degraded while they are not
        running; others (the demo) are reported without degrading it.
        """
        with self._lock:
            self._states[name] = ThreadState(since=self.clock(), critical=critical)
        thread = threading.Thread(target=self._loop, args=(name, target, stop), name=name, daemon=True)
        self._threads[name] = thread
        thread.start()
        return thread

    def _set(self, name: str, **changes) -> None:
        with self._lock:
            state = self._states[name]
            if changes.get("state", state.state) != state.state:
                state.since = self.clock()
            for key, value in changes.items():
                setattr(state, key, value)

    def _loop(self, name: str, target: Callable[[threading.Event], object], stop: threading.Event) -> None:
        delay: float | None = None
        while not stop.is_set():
            started = self.monotonic()
            self._set(name, state=RUNNING, retry_in=0.0)
            try:
                target(stop)
            except BaseException as exc:  # noqa: BLE001  whatever kills the thread is logged and restarted
                error = f"{type(exc).__name__}: {exc}"
                log.exception("thread %s died (%s); restarting with back-off", name, error)
            else:
                if stop.is_set():
                    break
                error = "ended unexpectedly"
                log.error("thread %s ended unexpectedly; restarting with back-off", name)
            if self.monotonic() - started >= self.backoff.healthy_after:
                delay = None
            delay = self.backoff.after(delay)
            with self._lock:
                restarts = self._states[name].restarts + 1
            self._set(name, state=RESTARTING, restarts=restarts, error=error[:500], retry_in=delay)
            if self.wait(stop, delay):
                break
        self._set(name, state=STOPPED, retry_in=0.0)

    def report(self) -> dict[str, dict]:
        """Every supervised thread's state by name (``ThreadState.as_dict``)."""
        with self._lock:
            return {name: state.as_dict() for name, state in sorted(self._states.items())}

    def problems(self) -> list[str]:
        """One reason per critical thread that is waiting to be restarted, naming it and its last error (a thread
        stopped on purpose is none)."""
        return [f"thread {name} {state['state']} after {state['restarts']} failure(s): {state['error'] or 'no detail'}"
                for name, state in self.report().items() if state["critical"] and state["state"] == RESTARTING]

    def join(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout`` seconds each) for the threads to end once their ``stop`` is set."""
        for thread in list(self._threads.values()):
            thread.join(timeout=timeout)
