"""Rates such as ``20/minute``: how many events a limiter lets through per period.

Written ``<count>/<unit>`` with unit ``second``, ``minute``, ``hour`` or
``day`` (the notation of the ``limits`` library, so operators who know it
read ours), or ``<count>/<seconds>s``. A limiter on a rate lets a burst of
``count`` through at once, then one more every ``period / count`` seconds
(the generic cell rate algorithm: ``alerts.store.throttle``).

Domain core: standard library only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d{1,9})\s*/\s*(?:(second|minute|hour|day)s?|(\d{1,9})\s*s)\s*$")


@dataclass(frozen=True)
class Rate:
    """``count`` events per ``period`` seconds (both > 0)."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"20/minute"``, ``"600/hour"``, ``"5/30s"`` -> a ``Rate``; raises ``ValueError`` saying the form."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1 or (match.group(3) is not None and int(match.group(3)) < 1):
            raise ValueError(f"{text!r} is not a rate: write <count>/<second|minute|hour|day> or <count>/<N>s")
        period = UNITS[match.group(2)] if match.group(2) else int(match.group(3))
        return cls(int(match.group(1)), float(period))

    @property
    def interval(self) -> float:
        """Seconds between two events at the sustained rate (``period / count``)."""
        return self.period / self.count

    def __str__(self) -> str:
        return f"{self.count}/{int(self.period)}s"
