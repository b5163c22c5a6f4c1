"""Joint exercises as data: the exercise, its injects (MSEL rows), its states, and when each inject is due.

Vocabulary (HSEEP; NATO exercise control): the **MSEL** (Master Scenario Events List) is the list of
**injects** the exercise control cell (EXCON, the white cell) feeds the training audience; **STARTEX** and
**ENDEX** start and end play. An inject is due at ``STARTEX + offset / speed`` plus every pause so far
(``paused_for``): pausing shifts every pending inject by exactly the paused time, so resuming after a long
pause never fires a burst of overdue injects. Expected actions run on the same play clock
(``play_elapsed``): their ``within`` windows stop while paused and are exercise time, so a ``speed`` of 15
makes ``within 15m`` one wall-clock minute. A **backup** inject (``backup_for``) stands by until the
expected action of the inject it backs up is missed; it is then due at once, and goes only to those of its
``to`` nations that missed it (expected actions are scored per nation), plus any of its nations the backed-up
inject did not go to.

States: ``planned`` -> ``running`` <-> ``paused`` -> ``ended`` (``end`` also from ``planned``: cancelled).
Each transition is a method returning a new frozen ``Exercise``; an impossible one raises
``ExerciseStateError``. Inject states: ``pending``, ``standby`` (a backup not yet triggered), ``fired``,
``skipped``; once an exercise has ended, unfired injects are ``expired``.

Time is always passed in (aware UTC datetimes): nothing here reads a clock. Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from alerts.core.expected_actions import Clause, parse
from alerts.core.model import AlertType, Area, Severity
from alerts.core.nations import is_alpha2
from alerts.core.refusals import N_, Refused

#: Bounds that keep one exercise a sensible size (a 500-inject MSEL is a large one).
MAX_INJECTS = 2_000
MAX_SPEED = 3_600.0
#: The slowest play (exercise seconds per second): a hundred times slower than written.
MIN_SPEED = 0.01


class ExerciseState(StrEnum):
    """Where an exercise is in its life."""

    PLANNED = "planned"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class InjectState(StrEnum):
    """Where one inject is: see the module docstring."""

    PENDING = "pending"
    STANDBY = "standby"
    FIRED = "fired"
    SKIPPED = "skipped"
    EXPIRED = "expired"


class ExerciseStateError(Refused):
    """A control action the exercise's state does not allow (e.g. resume a running exercise); the message
    says the state and what is allowed (``Refusal``). The API maps it to 409."""


#: The longest exercise name (it is shown in the EXERCISE band of every page).
MAX_NAME = 200


def exercise_name(text: str | None) -> str:
    """``text`` as an exercise's name: runs of spaces made one, ends trimmed, 1 to ``MAX_NAME`` characters.

    Raises ``Refused`` (a ValueError) for an empty name, or one holding a control character (Unicode Cc: NUL, newline,
    tab...), a format character (Cf: the bidirectional controls such as U+202E, which could reverse the
    EXERCISE band's text; zero-width ones) or a line/paragraph separator (Zl, Zp). Checked when a MSEL is
    loaded (``alerts.actions.exercises.load``), not when a stored record is read, so no record already kept
    can stop the exercise list from loading."""
    text = text or ""
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        code, called = f"U+{ord(bad):04X}", unicodedata.name(bad, "")
        if not called:
            raise Refused(N_("%(code)s (a control character) is not allowed in a name: control and "
                             "bidirectional-control characters could hide or reverse it"), {"code": code})
        raise Refused(N_("%(code)s (%(name)s) is not allowed in a name: control and bidirectional-control "
                         "characters could hide or reverse it"), {"code": code, "name": called})
    text = " ".join(text.split())
    if not text:
        raise Refused(N_("give the exercise a name"))
    if len(text) > MAX_NAME:
        raise Refused(N_("at most %(most)s characters"), {"most": MAX_NAME})
    return text


def _nations(values: Any) -> tuple[str, ...]:
    codes = [values] if isinstance(values, str) else list(values)
    out: list[str] = []
    for raw in codes:
        code = str(raw).strip().upper()
        if not is_alpha2(code):
            raise ValueError(f"{raw!r} is not an ISO 3166-1 alpha-2 code (Kosovo: XK)")
        if code not in out:
            out.append(code)
    if not out:
        raise ValueError("at least one nation is required")
    return tuple(out)


class Inject(BaseModel):
    """One MSEL row: inject ``number`` due ``offset`` after STARTEX (exercise time), from ``sender`` (the
    cell or nation it simulates) to the ``to`` nations (ISO2; the alert is releasable to them), delivered by
    ``method``. ``type``/``severity``/``title``/``description`` and ``lat``/``lon`` or ``area`` (a GeoJSON
    Polygon or MultiPolygon) build the alert, unless ``payload`` holds a whole CAP, CoT or JSON message to send instead.
    ``expected_action`` follows ``alerts.core.expected_actions``; ``backup_for`` names the inject this one
    backs up (a contingency inject, HSEEP)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    number: int = Field(ge=1, le=1_000_000)
    offset: timedelta
    sender: str = Field(default="EXCON", max_length=100)
    to: tuple[str, ...]
    method: str = Field(default="", max_length=100)
    type: AlertType
    severity: Severity
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5_000)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    area: Area | None = None
    expected_action: str | None = Field(default=None, max_length=1_000)
    objective: str = Field(default="", max_length=500)
    notes: str = Field(default="", max_length=2_000)
    backup_for: int | None = None
    payload: str | None = Field(default=None, max_length=1_000_000)

    _validate_to = field_validator("to", mode="before")(lambda cls, v: _nations(v))

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: timedelta) -> timedelta:
        if value < timedelta(0) or value > timedelta(days=30):
            raise ValueError("an offset is between 0:00:00 and 30 days after STARTEX")
        return value

    @field_validator("expected_action")
    @classmethod
    def _expected(cls, value: str | None) -> str | None:
        if value:
            parse(value)  # raises ExpectedActionError (a ValueError) naming the bad clause
        return value or None

    @model_validator(mode="after")
    def _placed(self) -> Inject:
        if self.payload is None and self.area is None and (self.lat is None or self.lon is None):
            raise ValueError("an inject needs lat and lon, an area, or a payload message")
        if self.backup_for == self.number:
            raise ValueError("an inject cannot back itself up")
        return self

    @property
    def clauses(self) -> tuple[Clause, ...]:
        """The parsed expected action (empty when there is none)."""
        return parse(self.expected_action) if self.expected_action else ()


class Exercise(BaseModel):
    """An exercise: ``id``, ``name``, participating ``nations``, ``objectives``, its ``injects`` (numbers
    unique; every ``backup_for`` names another inject), its state and what has happened: ``startex`` /
    ``endex`` (set when it starts and ends), ``paused_at`` (while paused) and ``paused_for`` (all pauses
    so far), ``speed`` (exercise seconds per wall-clock second, for dry runs), ``fired`` (inject number ->
    when), ``skipped``, ``triggered`` (backups called, number -> when), ``decided`` (injects whose backups
    were decided: called, or not needed), ``backup_to`` (a called backup -> the nations it goes to),
``pauses`` (every pause that ended, ``(from, to)``), ``end_reason`` (set by a real-world stop) and ``audit_from`` /
    ``audit_to``, the audit stream ids of STARTEX and ENDEX (``audit_window``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=MAX_NAME)
    nations: tuple[str, ...]
    objectives: tuple[str, ...] = ()
    injects: tuple[Inject, ...] = Field(max_length=MAX_INJECTS)
    state: ExerciseState = ExerciseState.PLANNED
    startex: AwareDatetime | None = None
    endex: AwareDatetime | None = None
    paused_at: AwareDatetime | None = None
    paused_for: timedelta = timedelta(0)
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False)
    fired: dict[int, AwareDatetime] = Field(default_factory=dict)
    skipped: frozenset[int] = frozenset()
    triggered: dict[int, AwareDatetime] = Field(default_factory=dict)
    decided: frozenset[int] = frozenset()
    backup_to: dict[int, tuple[str, ...]] = Field(default_factory=dict)
    pauses: tuple[tuple[AwareDatetime, AwareDatetime], ...] = ()
    end_reason: str | None = Field(default=None, max_length=500)
    audit_from: str | None = Field(default=None, max_length=40, pattern=r"^\d+-\d+$")
    audit_to: str | None = Field(default=None, max_length=40, pattern=r"^\d+-\d+$")

    _validate_nations = field_validator("nations", mode="before")(lambda cls, v: _nations(v))

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        numbers = [i.number for i in self.injects]
        if len(set(numbers)) != len(numbers):
            raise ValueError("inject numbers repeat: " + ", ".join(
                str(n) for n in sorted({n for n in numbers if numbers.count(n) > 1})))
        for inject in self.injects:
            if inject.backup_for is not None and inject.backup_for not in numbers:
                raise ValueError(f"inject {inject.number} backs up inject {inject.backup_for}, which is not in the MSEL")
            seen, current = {inject.number}, inject.backup_for
            while current is not None:  # a backup chain must end: in a cycle no inject would ever fire
                if current in seen:
                    raise ValueError(f"inject {inject.number}'s backups go round in a circle ({current})")
                seen.add(current)
                current = next((i.backup_for for i in self.injects if i.number == current), None)
            outside = set(inject.to) - set(self.nations)
            if outside:
                raise ValueError(f"inject {inject.number} goes to {', '.join(sorted(outside))}, "
                                 "which do not take part in the exercise")
        return self

    # --- reading ------------------------------------------------------------------------------------

    def inject(self, number: int) -> Inject:
        """The inject numbered ``number``; ``KeyError`` when there is none."""
        for inject in self.injects:
            if inject.number == number:
                return inject
        raise KeyError(number)

    def inject_state(self, number: int) -> InjectState:
        """The state of inject ``number`` (``KeyError`` when there is none)."""
        inject = self.inject(number)
        if number in self.fired:
            return InjectState.FIRED
        if number in self.skipped:
            return InjectState.SKIPPED
        if self.state is ExerciseState.ENDED:
            return InjectState.EXPIRED
        if inject.backup_for is not None and number not in self.triggered:
            return InjectState.STANDBY
        return InjectState.PENDING

    def due_at(self, number: int, now: datetime) -> datetime | None:
        """When inject ``number`` is due (aware UTC), as things stand at ``now``; None when it will not fire
        (fired, skipped, ended, a backup on standby) or the exercise has not started. While paused, the
        answer already includes the pause so far."""
        if self.inject_state(number) is not InjectState.PENDING or self.startex is None:
            return None
        if number in self.triggered:
            return self.triggered[number]
        paused = self.paused_for + (now - self.paused_at if self.paused_at is not None else timedelta(0))
        return self.startex + paused + self.inject(number).offset / self.speed

    def due(self, now: datetime) -> list[Inject]:
        """The injects to fire at ``now``: pending, due at or before ``now``, while running; in due order."""
        if self.state is not ExerciseState.RUNNING:
            return []
        ready = [(self.due_at(i.number, now), i.number, i) for i in self.injects]
        return [i for at, _, i in sorted((r for r in ready if r[0] is not None and r[0] <= now),
                                         key=lambda r: (r[0], r[1]))]

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest time any pending inject is due (None when none will be, or not running)."""
        if self.state is not ExerciseState.RUNNING:
            return None
        times = [t for t in (self.due_at(i.number, now) for i in self.injects) if t is not None]
        return min(times, default=None)

    def audit_window(self) -> tuple[str, str]:
        """The audit stream ids between which play happened, for ``XRANGE``: STARTEX's entry (``-`` when not
        known) to ENDEX's (``+`` while in play)."""
        return self.audit_from or "-", self.audit_to or "+"

    def sent_to(self, number: int) -> tuple[str, ...]:
        """The nations inject ``number`` goes (or went) to: a called backup's ``backup_to``, else its ``to``."""
        return self.backup_to.get(number) or self.inject(number).to

    def paused_between(self, since: datetime, until: datetime) -> timedelta:
        """How much of ``since`` .. ``until`` play was paused (ended pauses, and the one in progress)."""
        spans = [*self.pauses, *([(self.paused_at, until)] if self.paused_at is not None else [])]
        return sum((max(timedelta(0), min(b, until) - max(a, since)) for a, b in spans), timedelta(0))

    def play_elapsed(self, since: datetime, until: datetime) -> timedelta:
        """Exercise time from ``since`` to ``until`` (wall clock): paused time left out, times ``speed``.
        The clock expected actions are scored on (negative when ``until`` is before ``since``)."""
        return (until - since - self.paused_between(since, until)) * self.speed

    def backups_of(self, number: int) -> list[Inject]:
        """The injects that back up inject ``number``."""
        return [i for i in self.injects if i.backup_for == number]

    # --- control ------------------------------------------------------------------------------------

    def _require(self, refusal: str, *allowed: ExerciseState) -> None:
        """``ExerciseStateError`` with ``refusal`` (a message naming the exercise, its state and each of
        ``allowed`` as ``allowed1``, ``allowed2``...) unless the state is one of ``allowed``."""
        if self.state not in allowed:
            raise ExerciseStateError(refusal, {"exercise": repr(self.id), "state": self.state.value,
                                               **{f"allowed{i}": s.value for i, s in enumerate(allowed, 1)}})

    def start(self, now: datetime) -> Exercise:
        """STARTEX at ``now``: planned -> running."""
        self._require(N_("cannot start exercise %(exercise)s: it is %(state)s (allowed when %(allowed1)s)"),
                      ExerciseState.PLANNED)
        return self.model_copy(update={"state": ExerciseState.RUNNING, "startex": now})

    def pause(self, now: datetime) -> Exercise:
        """Running -> paused at ``now``: no inject fires until resumed."""
        self._require(N_("cannot pause exercise %(exercise)s: it is %(state)s (allowed when %(allowed1)s)"),
                      ExerciseState.RUNNING)
        return self.model_copy(update={"state": ExerciseState.PAUSED, "paused_at": now})

    def resume(self, now: datetime) -> Exercise:
        """Paused -> running: every pending inject moves later by exactly ``now - paused_at``."""
        self._require(N_("cannot resume exercise %(exercise)s: it is %(state)s (allowed when %(allowed1)s)"),
                      ExerciseState.PAUSED)
        return self.model_copy(update={"state": ExerciseState.RUNNING, "paused_at": None,
                                       "paused_for": self.paused_for + (now - self.paused_at),
                                       "pauses": (*self.pauses, (self.paused_at, now))})

    def end(self, now: datetime, reason: str | None = None) -> Exercise:
        """ENDEX at ``now``, from any state but ended: unfired injects expire. ``reason`` says why play
        stopped early (a real-world stop)."""
        self._require(N_("cannot end exercise %(exercise)s: it is %(state)s (allowed when %(allowed1)s or "
                         "%(allowed2)s or %(allowed3)s)"),
                      ExerciseState.PLANNED, ExerciseState.RUNNING, ExerciseState.PAUSED)
        paused_for = self.paused_for + (now - self.paused_at if self.paused_at is not None else timedelta(0))
        pauses = (*self.pauses, (self.paused_at, now)) if self.paused_at is not None else self.pauses
        return self.model_copy(update={"state": ExerciseState.ENDED, "endex": now, "paused_at": None,
                                       "paused_for": paused_for, "pauses": pauses, "end_reason": reason})

    def mark_fired(self, number: int, now: datetime) -> Exercise:
        """Inject ``number`` fired at ``now`` (on schedule, or "fire now" from EXCON, a standby backup
        included). Raises ``ExerciseStateError`` unless running or paused, or if it was fired or skipped."""
        self._require(N_("cannot fire an inject of exercise %(exercise)s: it is %(state)s (allowed when "
                         "%(allowed1)s or %(allowed2)s)"),
                      ExerciseState.RUNNING, ExerciseState.PAUSED)
        if self.inject_state(number) not in (InjectState.PENDING, InjectState.STANDBY):
            raise ExerciseStateError(N_("inject %(inject)s is %(state)s"),
                                     {"inject": number, "state": self.inject_state(number).value})
        return self.model_copy(update={"fired": {**self.fired, number: now}})

    def skip(self, number: int) -> Exercise:
        """EXCON drops inject ``number``: it will not fire. Same errors as ``mark_fired``."""
        self._require(N_("cannot skip an inject of exercise %(exercise)s: it is %(state)s (allowed when "
                         "%(allowed1)s or %(allowed2)s or %(allowed3)s)"),
                      ExerciseState.PLANNED, ExerciseState.RUNNING, ExerciseState.PAUSED)
        if self.inject_state(number) not in (InjectState.PENDING, InjectState.STANDBY):
            raise ExerciseStateError(N_("inject %(inject)s is %(state)s"),
                                     {"inject": number, "state": self.inject_state(number).value})
        return self.model_copy(update={"skipped": self.skipped | {number}})

    def undecided(self, now: datetime) -> list[Inject]:
        """Fired injects with backups whose expected action can be scored by ``now`` (its last deadline
        has passed, on the play clock: ``play_elapsed``) and has not been: the scheduler scores them and
        calls ``decide``."""
        return [i for i in self.injects if i.number in self.fired and i.number not in self.decided
                and self.backups_of(i.number) and i.clauses
                and self.play_elapsed(self.fired[i.number], now) > max(c.within for c in i.clauses)]

    def decide(self, number: int, missed: bool | Iterable[str], now: datetime) -> Exercise:
        """Record the backup decision for inject ``number``: ``missed`` names the nations that missed its
        expected action (True: all its ``to`` nations). Each standby backup is due at ``now``, to those of its
        ``to`` nations that missed (and any the inject did not go to), if there are any; either way the
        inject is not decided again."""
        original = self.inject(number).to
        nations = set(original if missed is True else () if missed is False else missed)
        triggered, backup_to = dict(self.triggered), dict(self.backup_to)
        for backup in self.backups_of(number):
            to = tuple(n for n in backup.to if n in nations or n not in original)
            if nations and to and self.inject_state(backup.number) is InjectState.STANDBY:
                triggered[backup.number], backup_to[backup.number] = now, to
        return self.model_copy(update={"triggered": triggered, "backup_to": backup_to,
                                       "decided": self.decided | {number}})
