"""The loop of every periodic job of a server process (escalation, the exercise scheduler): one pass every
``interval`` seconds until stopped; a failed pass (a lost connection, a bad record) is logged and the next
one runs, so no single failure stops the job for good. While Redis is unreachable, which fails every pass
alike, that is said once (and its return once), not twice a second with a traceback."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from alerts.store.client import UNAVAILABLE


def run_every(stop: threading.Event, interval: float, step: Callable[[], object], what: str,
              log: logging.Logger) -> None:
    """Call ``step()`` every ``interval`` seconds until ``stop`` is set; log a failed pass as ``what``."""
    unreachable = False
    while not stop.is_set():
        try:
            step()
            if unreachable:
                log.info("%s: Redis answers again", what)
                unreachable = False
        except UNAVAILABLE as error:
            if not unreachable:
                log.warning("%s: Redis unreachable (%s); retrying every %.1f s", what, error, interval)
                unreachable = True
        except Exception:  # noqa: BLE001  see the module docstring
            log.exception("%s failed; retrying", what)
        stop.wait(interval)
