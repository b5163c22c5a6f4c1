"""Whether this process can reach Redis now, and since when it cannot: what degraded mode is keyed on.

One ``Outage`` per process (``Services.outage``). It learns of a failure from
the store layer only: the live feed's follower reports each failed and
successful read (``alerts.store.follow.StreamFollower``'s ``on_state``), and
``dashboard.degraded.DegradedMiddleware`` reports a request that failed with
one of ``alerts.store.client.STORE_UNAVAILABLE`` (the store client's errors,
never a browser gone or another ``OSError``). It is back ``live`` when the
follower reads again (it retries with back-off up to 5 s, so within about 5 s
of Redis returning).

Each change of state is handed to the listeners (``listen``) from the thread
that noticed it: the live feed turns it into an SSE ``status`` event for every
open page. ``snapshot`` is ``{"state": "live" | "disconnected", "since": ISO
8601 UTC or null, "since_label": "HH:MM UTC" or "", "reason": text}``. Time is
injectable (``clock``: epoch seconds). ``message`` is the state in words for
machines and logs (English); ``banner`` the same for people, in the current
language (``alerts.i18n``).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.core.time_labels import epoch_label
from alerts.i18n import gettext as _

log = logging.getLogger(__name__)

LIVE, DISCONNECTED = "live", "disconnected"


def label(epoch: float) -> str:
    """``HH:MM UTC`` of an epoch time (seconds), as the banner shows it."""
    return epoch_label(epoch)


@dataclass(frozen=True)
class LiveStatus:
    """A change of state as the live feed hands it to the open streams: ``Outage.snapshot`` as ``data``."""

    data: dict


class Outage:
    """The process's view of Redis: live, or disconnected since a time (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.since: float | None = None
        self.reason = ""
        self._listeners: list[Callable[[dict], None]] = []
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """Whether Redis is known to be unreachable now."""
        return self.since is not None

    def listen(self, listener: Callable[[dict], None]) -> None:
        """Call ``listener(snapshot)`` on every change of state (from the thread that noticed it)."""
        self._listeners.append(listener)

    def failed(self, reason: str) -> None:
        """Redis could not be reached (``reason`` names the error); the first failure starts the outage."""
        with self._lock:
            if self.since is not None:
                return
            self.since, self.reason = self.clock(), reason[:300]
        log.warning("live data unavailable since %s: %s", label(self.since), reason)
        self._announce()

    def recovered(self) -> None:
        """Redis answered again: the outage (if any) is over."""
        with self._lock:
            if self.since is None:
                return
            started, self.since, self.reason = self.since, None, ""
        log.warning("live data back after %.1f s", self.clock() - started)
        self._announce()

    def snapshot(self) -> dict:
        """The state as plain data (module docstring)."""
        since, reason = self.since, self.reason
        if since is None:
            return {"state": LIVE, "since": None, "since_label": "", "reason": ""}
        return {"state": DISCONNECTED, "since": datetime.fromtimestamp(since, UTC).isoformat(),
                "since_label": label(since), "reason": reason}

    def message(self) -> str:
        """What the banner says: ``live data unavailable since HH:MM UTC, retrying`` ("" while live)."""
        return f"live data unavailable since {label(self.since)}, retrying" if self.since is not None else ""

    def banner(self) -> str:
        """What the banner shows people, in the current language: ``Live data unavailable since HH:MM UTC,
        retrying`` in English ("" while live)."""
        since = self.since
        return "" if since is None else _("Live data unavailable since %(since)s, retrying") % {"since": label(since)}

    def _announce(self) -> None:
        snapshot = self.snapshot()
        for listener in list(self._listeners):
            try:
                listener(snapshot)
            except Exception:  # noqa: BLE001  a listener must not stop the others
                log.exception("outage listener failed")
