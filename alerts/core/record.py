"""The centre's one ordered record, and the picture rebuilt from it at any moment (replay).

**One record, derived, not a fourth stream.** Every state change is already written, atomically with the
change itself, to one of three Redis streams: ``{p}:events`` (an alert created, updated - status
acknowledged / in progress / resolved / cancelled / expired - or re-routed, with the whole record),
``{p}:assets:events`` (an asset's position, status or tasking, with the whole record) and ``{p}:audit``
(who did it: acknowledgment, step, resolution, escalation, tasking, release and releasability change,
exercise control, inject fired, observation). Writing a fourth copy would add a write that can fail apart
from the change; so the record is *derived*: the three streams merged in the order of their stream ids
(``merge``). Their ids come from the one Redis server clock, so they are comparable; on an equal id the
stream order ``STREAMS`` decides (the change before the audit entry that names it). The record's time of
an event is its stream id's milliseconds (the Redis clock, UTC); an audit entry keeps its own ``at`` (the
centre's injectable clock) in ``detail["at"]``. Sign-ins, token use and exports are not state changes and
stay out (``RECORDED_ACTIONS``). Retention: ``alerts.actions.record_retention``.

**Replay.** ``state_at(events, at)`` is the pure rebuild: the alerts (each as last recorded, so with its
status), the asset positions and the acknowledgments as they stood at ``at`` (events at or before it).
``Replay`` does the same over a growing record with a checkpoint every ``every`` events, so a seek applies
at most ``every`` events after the checkpoint before it.

**Memory** (the scale issue: a server holds the whole record from its start). A checkpoint holds only what its
``every`` events changed (each event is in at most one checkpoint), and a seek merges them (``dict.update``,
in C): before, each checkpoint was a copy of the whole picture, quadratic in the number of alerts (160 MB at
100,000). An alert event holds its record as the JSON it was stored as (about 0.6-1.1 KB), packed
(``alerts.core.packing``: about 0.15 KB), and its routing (who may see it; equal routings are one object), not a
``StoredAlert`` (about 5.4 KB); ``RecordEvent.alert`` parses the record when asked, and the last
``PARSED_MOST`` parsed are kept (``parsed_alert``).

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from alerts.core.assets import Asset
from alerts.core.events import stream_id_key
from alerts.core.model import Routing, StoredAlert
from alerts.core.packing import pack, unpack

#: The streams the record is merged from, in the order that breaks a tie on an equal stream id.
STREAMS = ("alerts", "assets", "audit")
_RANK = {name: rank for rank, name in enumerate(STREAMS)}
#: Audit actions that are part of the record (state changes); any other audit entry stays out.
RECORDED_ACTIONS = frozenset({
    "alert.acknowledge", "checklist.step_done", "alert.resolve", "alert.escalate", "alert.unrouted",
    "alert.release", "alert.releasability", "releasability.request", "releasability.decide",
    "asset.assign", "asset.release", "asset.import",
    "exercise.load", "exercise.start", "exercise.pause", "exercise.resume", "exercise.end",
    "exercise.inject_fire", "exercise.inject_skip", "exercise.observe", "exercise.rate", "exercise.improvement",
})
#: Recorded actions only exercise control and evaluators see (evaluation, not play).
EVALUATION_ACTIONS = frozenset({"exercise.observe", "exercise.rate", "exercise.improvement"})
#: Checkpoint spacing of ``Replay`` (events).
EVERY = 1000
#: Parsed alert records kept for reuse (``parsed_alert``): at about 5.4 KB each, at most about 54 MB.
PARSED_MOST = 10_000


@lru_cache(maxsize=PARSED_MOST)
def parsed_alert(packed: bytes) -> StoredAlert:
    """An alert event's record (the ``StoredAlert`` JSON its stream entry holds, ``packed``) parsed; the last
    ``PARSED_MOST`` are kept, so a seek or timeline that shows the same records again parses them once.
    Raises ``pydantic.ValidationError`` (a record the store wrote always parses)."""
    return StoredAlert.from_json(unpack(packed))


def instant_of(event_id: str) -> datetime:
    """The time a stream id stands for (its milliseconds, UTC): ``"1700000000000-3"`` -> 2023-11-14T22:13:20Z."""
    return datetime.fromtimestamp(stream_id_key(event_id)[0] / 1000, UTC)


def millis(at: datetime) -> int:
    """``at`` (aware) as Unix milliseconds, the unit of stream ids."""
    return int(at.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """One event of the record.

    ``id``: the stream id (``<ms>-<seq>``) on its ``stream`` (one of ``STREAMS``); ``kind``: ``alert.created``,
    ``alert.updated``, ``alert.routed``, ``asset.updated`` or the audit action; ``actor``: who (audit only;
    the alert and asset streams carry no actor: the audit entry beside them says who); ``object``: the
    alert id (in the centre), asset id or audit subject; ``detail``: the audit entry's detail (with its
    ``at``); ``record``: an alert event's whole record after the change, the ``StoredAlert`` JSON as stored
    (``alert`` parses it; the event holds it packed, ``packed``: ``alerts.core.packing``), and ``routing`` its
    routing; ``asset``: an asset event's whole record after the change; ``previous``: the routing before an
    ``alert.routed``; ``reported``: an alert event's ``reported_at`` (Unix seconds: a picture lists the newest
    reports first without parsing every record). ``of_alert`` makes an alert event from a ``StoredAlert``.
    """

    id: str
    stream: str
    kind: str
    actor: str = ""
    object: str = ""
    detail: dict = field(default_factory=dict)
    packed: bytes | None = None
    routing: Routing | None = None
    asset: Asset | None = None
    previous: Routing | None = None
    reported: float = 0.0

    @classmethod
    def of_alert(cls, event_id: str, kind: str, stored: StoredAlert, previous: Routing | None = None
                 ) -> RecordEvent:
        """The event of the alerts stream ``event_id`` recording ``stored`` (``kind``: ``alert.created``...)."""
        record = stored.model_dump_json().encode("utf-8")
        return cls(event_id, "alerts", kind, object=stored.id, packed=pack(record),
                   routing=stored.routing, previous=previous, reported=stored.alert.reported_at.timestamp())

    @property
    def record(self) -> bytes | None:
        """An alert event's record, the ``StoredAlert`` JSON as stored; None for any other event."""
        return unpack(self.packed) if self.packed is not None else None

    @property
    def alert(self) -> StoredAlert | None:
        """An alert event's record, parsed (``parsed_alert``); None for any other event."""
        return parsed_alert(self.packed) if self.packed is not None else None

    @property
    def order(self) -> tuple[int, int, int]:
        """The sort key of the record: stream id, then stream rank."""
        ms, seq = stream_id_key(self.id)
        return ms, seq, _RANK.get(self.stream, len(STREAMS))

    @property
    def at(self) -> datetime:
        """The event's time on the record (UTC, from its stream id)."""
        return instant_of(self.id)

    @property
    def alert_ids(self) -> tuple[str, ...]:
        """The alerts this event names: its alert, its audit object (may be an alert id) and ``alert_id``."""
        if self.packed is not None:
            return (self.object,)
        if self.asset is not None:
            return (self.asset.assigned_to,) if self.asset.assigned_to else ()
        named = [self.object] if self.object else []
        return tuple(dict.fromkeys([*named, *self.copies]))

    @property
    def copies(self) -> tuple[str, ...]:
        """The alert ids of the audit detail's ``alert_id``: one, or a multi-nation inject's copies, one per
        playing nation, comma-joined (``exercise.inject_fire``)."""
        value = str(self.detail.get("alert_id") or "")
        return tuple(part for part in (p.strip() for p in value.split(",")) if part)


def merge(*streams: Iterable[RecordEvent]) -> list[RecordEvent]:
    """The events of several streams (each oldest first) as one ordered list (see the module docstring)."""
    return list(heapq.merge(*streams, key=lambda e: e.order))


@dataclass(frozen=True)
class Ack:
    """Who acknowledged an alert, and when (the record's time)."""

    by: str
    at: datetime


class Alerts(Mapping[str, StoredAlert]):
    """A ``State``'s alerts, alert id -> record as last recorded (parsed when read: ``RecordEvent.alert``)."""

    __slots__ = ("_events",)

    def __init__(self, events: dict[str, RecordEvent]):
        self._events = events

    def __getitem__(self, alert_id: str) -> StoredAlert:
        return self._events[alert_id].alert  # type: ignore[return-value]  # an alert event has a record

    def __contains__(self, alert_id: object) -> bool:
        return alert_id in self._events

    def __iter__(self) -> Iterator[str]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)


@dataclass
class State:
    """The picture at ``at``: ``events`` (alert id -> the alert event that recorded it last; ``alerts``: the
    same as records), ``assets`` (id -> record) and ``acks`` (alert id -> ``Ack``: the first acknowledgment);
    ``applied``: how many events of the record it holds."""

    at: datetime | None = None
    events: dict[str, RecordEvent] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)
    acks: dict[str, Ack] = field(default_factory=dict)
    applied: int = 0

    @property
    def alerts(self) -> Alerts:
        """Alert id -> record as last recorded (each parsed when read)."""
        return Alerts(self.events)

    def copy(self) -> State:
        """A copy whose dicts may change without changing this one (the records themselves are frozen)."""
        return State(self.at, dict(self.events), dict(self.assets), dict(self.acks), self.applied)

    def take(self, changes: State) -> None:
        """Take in what a later stretch of the record changed (a ``Replay`` checkpoint): its records replace
        these; an acknowledgment counts only for an alert not acknowledged here (the first stands)."""
        self.events.update(changes.events)
        self.assets.update(changes.assets)
        for alert_id, ack in changes.acks.items():
            self.acks.setdefault(alert_id, ack)
        self.applied += changes.applied

    def apply(self, event: RecordEvent) -> None:
        """Take ``event`` into the picture."""
        if event.packed is not None:
            self.events[event.object] = event
        elif event.asset is not None:
            self.assets[event.asset.id] = event.asset
        elif event.kind == "alert.acknowledge" and event.object not in self.acks:
            self.acks[event.object] = Ack(event.actor, event.at)
        self.applied += 1


def state_at(events: Iterable[RecordEvent], at: datetime) -> State:
    """The picture at ``at`` (aware) from the ordered ``events``: every event at or before it applied."""
    state, limit = State(at), millis(at)
    for event in events:
        if event.order[0] > limit:
            break
        state.apply(event)
    return state


class Replay:
    """An ordered, growing record with a checkpoint every ``every`` events, for fast ``state_at`` (each
    checkpoint holds what its events changed: the module docstring)."""

    def __init__(self, every: int = EVERY):
        self.every = every
        self.events: list[RecordEvent] = []
        self._keys: list[tuple[int, int, int]] = []
        #: The picture before the first event held (what ``drop_before`` folded in).
        self._base = State()
        #: ``_changes[k]``: what events ``k * every`` to ``(k + 1) * every - 1`` changed (applied to an empty state).
        self._changes: list[State] = []
        #: The time of the newest event folded into the base state by ``drop_before`` (None: none dropped):
        #: the picture before it cannot be rebuilt from what is held.
        self.folded_until: datetime | None = None

    def __len__(self) -> int:
        return len(self.events)

    def extend(self, events: Iterable[RecordEvent]) -> None:
        """Add events (any order; one that sorts before those held drops the checkpoints from its own on)."""
        for event in events:
            key = event.order
            if not self._keys or key > self._keys[-1]:
                self._keys.append(key)
                self.events.append(event)
                continue
            index = bisect_right(self._keys, key)
            if index and self._keys[index - 1] == key:
                continue  # already held
            insort(self._keys, key)
            self.events.insert(index, event)
            del self._changes[index // self.every:]

    def drop_before(self, event_id: str) -> None:
        """Forget the events before ``event_id`` (memory bound); later seeks start from the first kept."""
        index = bisect_right(self._keys, (*stream_id_key(event_id), -1))
        if index:
            base = self.state_through(index)
            self.folded_until = instant_of(self.events[index - 1].id)
            del self.events[:index], self._keys[:index]
            base.applied = 0
            self._base, self._changes = base, []

    def index_at(self, at: datetime) -> int:
        """How many events are at or before ``at``."""
        return bisect_right(self._keys, (millis(at), 1 << 62, 1 << 62))

    def checkpoint(self) -> None:
        """Make every checkpoint the events held allow (so no seek has to)."""
        while len(self._changes) < len(self.events) // self.every:
            start = len(self._changes) * self.every
            changes = State()
            for event in self.events[start:start + self.every]:
                changes.apply(event)
            self._changes.append(changes)

    def state_through(self, count: int) -> State:
        """The picture after the first ``count`` events."""
        k = count // self.every
        self.checkpoint()
        state = self._base.copy()
        for changes in self._changes[:k]:
            state.take(changes)
        for event in self.events[k * self.every:count]:
            state.apply(event)
        return state

    def state_at(self, at: datetime) -> State:
        """The picture at ``at`` (aware): as ``state_at`` over the held events."""
        state = self.state_through(self.index_at(at))
        state.at = at
        return state

    def between(self, since: datetime | None, until: datetime | None) -> tuple[int, int]:
        """The index range ``[start, stop)`` of the events from ``since`` up to ``until`` (both included)."""
        start = 0 if since is None else bisect_left(self._keys, (millis(since), 0, 0))
        stop = len(self.events) if until is None else self.index_at(until)
        return start, max(start, stop)


def names_exercise(event: RecordEvent, exercise_id: str) -> bool:
    """Whether ``event`` is part of exercise ``exercise_id``: its control (audit subject), or about one of its
    inject alerts (``<exercise id>.inject-<n>``, ``alerts.core.injects``), or an asset tasked to one."""
    if event.stream == "audit" and event.object == exercise_id:
        return True
    mark = f"{exercise_id}.inject-"
    return any(alert_id.startswith(mark) for alert_id in event.alert_ids)
