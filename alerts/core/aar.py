"""After-action review (AAR) figures, in the shape HSEEP gives the after-action report.

- **Response times** (``response_times``): per nation, seconds from the start (an inject's firing, or an
  alert's arrival) to the first acknowledgment, first checklist step, first asset tasked and resolution by a
  user of that nation (the facts ``alerts.actions.evaluation.facts`` reads from the audit trail); None for
  what that nation never did.
- **Summary** (``summary``): per nation and measure, how many, the median and the 90th percentile
  (nearest-rank: the smallest value at or above 90 % of the values; a percentile of nothing is None).
- **Objectives**: each rated P / S / M / U by an evaluator (``Rating``: HSEEP's Performed without
  challenges, performed with Some challenges, with Major challenges, Unable to be performed).
- **Strengths and areas for improvement** (``findings``): observations rated P are strengths; S, M and U
  are areas for improvement; unrated ones are notes.
- **Improvement plan**: ``Improvement`` items, each with an owner, a due date and a status; the due date
  within ``DUE_BEFORE`` before and ``DUE_AFTER`` after the day it is entered (``check_due``), and within the
  range of ``alerts.core.times`` (a placeholder such as 1900-01-01 or 9999-12-31 is a mistake, not a plan).

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from alerts.core.expected_actions import ActionKind, Fact
from alerts.core.refusals import N_, Refused
from alerts.core.times import check_range

#: The measures, in report order: (name, what ends the clock).
MEASURES = (("acknowledge", ActionKind.ACKNOWLEDGE), ("first_step", ActionKind.STEP),
            ("assign", ActionKind.ASSIGN), ("resolve", ActionKind.RESOLVE))
RATINGS = ("P", "S", "M", "U")
#: How far before / after the day it is entered an improvement may be due.
DUE_BEFORE = timedelta(days=366)
DUE_AFTER = timedelta(days=10 * 366)
RATING_MEANING = {"P": "Performed without challenges", "S": "Performed with some challenges",
                  "M": "Performed with major challenges", "U": "Unable to be performed"}


def response_times(start: datetime, facts: Iterable[Fact]) -> dict[str, dict[str, float | None]]:
    """``nation -> measure -> seconds`` from ``start`` to the first fact of each measure's kind (None: none)."""
    firsts: dict[str, dict[str, float | None]] = {}
    for fact in sorted(facts, key=lambda f: f.at):
        row = firsts.setdefault(fact.nation, {name: None for name, _ in MEASURES})
        for name, kind in MEASURES:
            if fact.kind is kind and row[name] is None:
                row[name] = max((fact.at - start).total_seconds(), 0.0)
    return firsts


def check_due(due: date, today: date) -> date:
    """``due`` unchanged, or ``Refused`` (a ValueError) saying the accepted range: from ``today - DUE_BEFORE`` to
    ``today + DUE_AFTER``, and within ``alerts.core.times.EARLIEST`` .. ``LATEST``."""
    check_range(datetime.combine(due, time(), UTC), "due", due.isoformat())
    if not today - DUE_BEFORE <= due <= today + DUE_AFTER:
        raise Refused(N_("due %(due)s is outside %(first)s to %(last)s (a year back to ten years ahead)"),
                      {"due": due.isoformat(), "first": (today - DUE_BEFORE).isoformat(),
                       "last": (today + DUE_AFTER).isoformat()})
    return due


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0 < q <= 100) of ``values``; None when there are none."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[max(math.ceil(q / 100 * len(ranked)) - 1, 0)]


def summary(rows: Iterable[dict[str, dict[str, float | None]]]) -> dict[str, dict[str, dict]]:
    """Per nation and measure over ``rows`` (each a ``response_times`` result): ``{"n", "median", "p90"}``
    (seconds; None when no value)."""
    values: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        for nation, measures in row.items():
            for name, seconds in measures.items():
                bucket = values.setdefault(nation, {n: [] for n, _ in MEASURES})[name]
                if seconds is not None:
                    bucket.append(seconds)
    return {nation: {name: {"n": len(v), "median": statistics.median(v) if v else None, "p90": percentile(v, 90)}
                     for name, v in measures.items()}
            for nation, measures in sorted(values.items())}


def findings(observations: Iterable[dict]) -> dict[str, list[dict]]:
    """Observations sorted into ``strengths`` (rated P), ``areas_for_improvement`` (S, M, U) and ``notes``."""
    found: dict[str, list[dict]] = {"strengths": [], "areas_for_improvement": [], "notes": []}
    for item in observations:
        rating = item.get("rating")
        found["strengths" if rating == "P" else "areas_for_improvement" if rating in RATINGS else "notes"].append(item)
    return found


class Rating(BaseModel):
    """An evaluator's HSEEP rating of one exercise objective (``objective``: its number, from 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    objective: int = Field(ge=1)
    rating: str = Field(pattern=r"^[PSMU]$")
    note: str = Field(default="", max_length=2000)
    by: str = ""
    at: datetime | None = None


class ImprovementStatus(StrEnum):
    """Where an improvement plan item stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Improvement(BaseModel):
    """An item of the improvement plan: the ``area`` for improvement it answers, the corrective ``action``,
    its ``owner`` (a person or organisation), ``due`` date and ``status``; ``id`` is given when stored."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = ""
    area: str = Field(min_length=1, max_length=500)
    action: str = Field(min_length=1, max_length=2000)
    owner: str = Field(min_length=1, max_length=200)
    due: date
    status: ImprovementStatus = ImprovementStatus.OPEN
    by: str = ""
    at: datetime | None = None
