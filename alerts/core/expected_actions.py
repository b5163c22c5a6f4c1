"""Expected actions of an exercise inject: a small grammar over workflow facts, and its scoring.

An inject's ``expected_action`` (a MSEL column, HSEEP's "expected player action") is written as one or
more clauses joined by ``and``::

    acknowledge within 5m
    assign cbrn_team within 20m          # an asset of that type, or with that capability, or that asset id
    step 2 within 15m                    # checklist step 2 done
    resolve within 60m
    acknowledge within 5m and assign medical_team within 30m

A duration is a whole number with a unit: ``s``, ``m`` (minutes), ``h``; ``1h30m`` combines them. Keywords
are case-insensitive. Deadlines count from the moment the inject fired, in exercise time: the caller's
``elapsed`` clock leaves paused time out and applies the exercise's speed (``Exercise.play_elapsed``).

Scoring (``score``) reads *facts*: what a nation's users did to the inject's alert, taken from the events and
audit record by the caller. An expected action is **met** when every clause has a matching fact within its
deadline (the time taken is that of the last clause met), **missed** as soon as one clause's deadline has
passed without one, **ended** when play ended (ENDEX, a real-world stop) before a clause's deadline and
it was not met (final: the training audience had no chance to miss it), else **pending**.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ActionKind(StrEnum):
    """What a clause asks of the training audience; the same names label the facts."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    STEP = "step"
    RESOLVE = "resolve"


class Outcome(StrEnum):
    """The score of an expected action (HSEEP's evaluation: did the players do what was expected, in time)."""

    MET = "met"
    MISSED = "missed"
    PENDING = "pending"
    ENDED = "ended"


class ExpectedActionError(ValueError):
    """An ``expected_action`` text that does not follow the grammar; the message says which part and why."""


@dataclass(frozen=True)
class Clause:
    """One ``<kind> [argument] within <duration>``: ``argument`` is the step number or the asset's type,
    capability or id for ``step`` and ``assign``; ``None`` for the others."""

    kind: ActionKind
    argument: str | None
    within: timedelta

    def text(self) -> str:
        """The clause as written in the grammar (normalised), e.g. ``"step 2 within 15m"``."""
        middle = f" {self.argument}" if self.argument is not None else ""
        return f"{self.kind.value}{middle} within {_duration_text(self.within)}"


@dataclass(frozen=True)
class Fact:
    """Something a user did to the inject's alert: ``kind`` at ``at`` (aware UTC), by a user of ``nation``;
    ``matches`` holds what an ``assign``/``step`` clause may name (the asset's id, type and capabilities; the
    step number as text)."""

    kind: ActionKind
    at: datetime
    nation: str
    matches: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Score:
    """An expected action's outcome for one nation; ``taken`` is from firing to the last clause met (None
    unless met); ``clauses`` gives each clause's own outcome, in the order written."""

    outcome: Outcome
    taken: timedelta | None
    clauses: tuple[tuple[str, Outcome], ...]


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CLAUSE = re.compile(r"^(acknowledge|resolve|assign|step)(?:\s+(\S+))?\s+within\s+(\S+)$")
_ARGUMENT = re.compile(r"^[a-z0-9_.:-]{1,100}$")
MAX_CLAUSES = 10
#: The longest deadline a clause may give (30 days, the longest an exercise inject may wait).
MAX_DEADLINE_HOURS = 720


def parse(text: str) -> tuple[Clause, ...]:
    """Parse an ``expected_action``: the clauses, in order.

    Raises ``ExpectedActionError`` naming the clause for an unknown action, a missing or extra argument
    (``assign`` and ``step`` take one, the others none), a step that is not a positive number, a duration
    that is not ``<n>h<n>m<n>s`` or is zero, or more than ``MAX_CLAUSES`` clauses.
    """
    parts = [p.strip() for p in re.split(r"\s+and\s+", text.strip().lower())]
    if not parts or not parts[0]:
        raise ExpectedActionError("an expected action is empty; write e.g. 'acknowledge within 5m'")
    if len(parts) > MAX_CLAUSES:
        raise ExpectedActionError(f"at most {MAX_CLAUSES} clauses joined by 'and'")
    return tuple(_clause(p) for p in parts)


def _clause(text: str) -> Clause:
    found = _CLAUSE.match(re.sub(r"\s+", " ", text))
    if found is None:
        raise ExpectedActionError(
            f"{text!r} is not '<acknowledge|resolve> within <duration>', 'assign <asset type, capability or id> "
            f"within <duration>' or 'step <number> within <duration>'")
    kind, argument, duration = ActionKind(found.group(1)), found.group(2), found.group(3)
    if kind in (ActionKind.ASSIGN, ActionKind.STEP) and argument is None:
        raise ExpectedActionError(f"{text!r}: '{kind.value}' needs what to {kind.value}")
    if kind in (ActionKind.ACKNOWLEDGE, ActionKind.RESOLVE) and argument is not None:
        raise ExpectedActionError(f"{text!r}: '{kind.value}' takes no argument")
    if kind is ActionKind.STEP and not (argument.isdigit() and int(argument) > 0):
        raise ExpectedActionError(f"{text!r}: a step is a positive number")
    if argument is not None and not _ARGUMENT.match(argument):
        raise ExpectedActionError(f"{text!r}: {argument!r} is not an asset type, capability or id")
    return Clause(kind, argument, parse_duration(duration))


def parse_duration(text: str) -> timedelta:
    """``"1h30m"`` -> 90 minutes. Raises ``ExpectedActionError`` for another form or a zero duration."""
    found = _DURATION.match(text.strip().lower())
    if found is None or not any(found.groups()):
        raise ExpectedActionError(f"{text!r} is not a duration such as 90s, 5m, 1h or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in found.groups())
    if hours > MAX_DEADLINE_HOURS or minutes > 60 * MAX_DEADLINE_HOURS or seconds > 3600 * MAX_DEADLINE_HOURS:
        raise ExpectedActionError(f"{text!r}: a deadline is at most {MAX_DEADLINE_HOURS} hours")
    duration = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if not duration:
        raise ExpectedActionError(f"{text!r}: a deadline must be longer than zero")
    if duration > timedelta(hours=MAX_DEADLINE_HOURS):
        raise ExpectedActionError(f"{text!r}: a deadline is at most {MAX_DEADLINE_HOURS} hours")
    return duration


def _duration_text(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (seconds, "s")) if v) or "0s"


def deadline(clauses: tuple[Clause, ...]) -> timedelta:
    """The longest deadline of the clauses: after ``fired + deadline`` the score can no longer change."""
    return max(c.within for c in clauses)


def score(clauses: tuple[Clause, ...], fired_at: datetime, facts: list[Fact], now: datetime, *,
          elapsed: Callable[[datetime], timedelta] | None = None, ended_at: datetime | None = None) -> Score:
    """Score ``clauses`` against one nation's ``facts`` about the inject's alert, at ``now``.

    ``elapsed(t)`` is the exercise time from firing to ``t`` (default: wall clock, ``t - fired_at``). A fact
    counts for a clause when its kind matches, its ``matches`` hold the clause's argument (if any), and
    ``0 <= elapsed(fact.at) <= within``; with ``ended_at`` (ENDEX), only facts up to it. A clause not met
    is missed once ``elapsed(now)`` (capped at ENDEX) passes ``within``; ended if play ended first. Facts
    need not be sorted; ``taken`` is exercise time.
    """
    elapsed = elapsed or (lambda at: at - fired_at)
    until = min(now, ended_at) if ended_at is not None else now
    results: list[tuple[str, Outcome]] = []
    last_met: timedelta | None = None
    for clause in clauses:
        times = [elapsed(f.at) for f in facts if f.kind is clause.kind and f.at <= until
                 and timedelta(0) <= elapsed(f.at) <= clause.within
                 and (clause.argument is None or clause.argument in f.matches)]
        if times:
            results.append((clause.text(), Outcome.MET))
            last_met = min(times) if last_met is None else max(last_met, min(times))
        elif elapsed(until) > clause.within:
            results.append((clause.text(), Outcome.MISSED))
        elif ended_at is not None and now >= ended_at:
            results.append((clause.text(), Outcome.ENDED))
        else:
            results.append((clause.text(), Outcome.PENDING))
    outcomes = {o for _, o in results}
    overall = next((o for o in (Outcome.MISSED, Outcome.PENDING, Outcome.ENDED) if o in outcomes), Outcome.MET)
    return Score(overall, last_met if overall is Outcome.MET else None, tuple(results))
