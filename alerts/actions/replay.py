"""Replay as use cases: the timeline of the record and the picture at a moment, as one viewer could see them.

The record is ``alerts.core.record`` (three streams merged); each process keeps it in memory
(``RecordCache``: a ``Replay`` with checkpoints), reading only what is new on each call, so a seek costs
merging the checkpoints (C dict updates) and at most ``EVERY`` events applied. Who may see an alert is
decided from the routing each alert event keeps; only the records shown are parsed.

Who sees what (the alerts' own rule, ``alerts.actions.visibility.restricted``: released to the viewer's
nation and within its clearance, decided per record, never rewritten here):

- an **alert** is shown at a moment when it was releasable to the viewer as it stood *then* and is still
  releasable as it stands *now* (the newest record): released later, it does not appear before its release;
  narrowed later, it does not appear at all (when in doubt, hide);
- an **asset** likewise (``Asset.visible_to``); tasked to an alert the viewer may not see, it shows as
  committed to nothing named (as ``alerts.actions.visibility.shown_asset``);
- an **audit event** (who acknowledged, tasked, changed releasability...) is shown when every alert and
  asset it names is shown at that moment; one naming a multi-nation inject's copies (``exercise.inject_fire``:
  one copy per playing nation) when the viewer sees one of them, narrowed to those (exercise control and
  evaluators: every firing, whole); exercise control events when the viewer may know of the exercise
  (``alerts.actions.exercises.plays_in``); observations, objective ratings and improvement items to exercise
  control and evaluators only; an event naming nothing it can be judged by is not shown.
"""
from __future__ import annotations

import heapq
import json
import logging
import secrets
import threading
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from alerts.actions.centre import Centre, utc_now
from alerts.actions.errors import Invalid
from alerts.actions.exercises import controls, exercise, plays_in
from alerts.actions.visibility import asset_released, require, restricted
from alerts.core.assets import Asset
from alerts.core.events import stream_id_key
from alerts.core.model import StoredAlert
from alerts.core.record import (
    EVALUATION_ACTIONS,
    STREAMS,
    Ack,
    RecordEvent,
    Replay,
    State,
    instant_of,
    merge,
    names_exercise,
    parsed_alert,
)
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from alerts.store.record import RecordStreams

log = logging.getLogger(__name__)

#: The most events one timeline call returns.
MAX_EVENTS = 50_000
#: The most alerts one picture holds (``state_at``'s ``limit``).
MAX_ALERTS = 100_000


#: How long the first read of the record waits for the record archive's lock (seconds, polled every 0.1 s).
FIRST_READ_WAIT = 30.0


class RecordCache:
    """The record of one centre in memory, brought up to date on each ``refresh()`` (thread-safe): it holds
    what the streams hold (their length caps and retention bound it); what they no longer hold is folded into
    the base state, so a seek before that answers the picture as of the oldest event held.

    The first ``refresh`` reads the archive first (``archive``: the record's and the audit trail's archive
    folders, ``seed_from_archive``), then the streams, holding the record archive's lock meanwhile
    (``alerts.actions.record_retention``) so no retention run trims what is between the two reads.
    ``last_used`` is when it was last refreshed (``clock``), for ``forget_idle``."""

    def __init__(self, streams: RecordStreams, archive: tuple[Path, Path] | None = None,
                 clock: Callable[[], datetime] = utc_now):
        self.streams = streams
        self.archive = archive
        self.clock = clock
        self.replay = Replay()
        self.cursors = {name: "0-0" for name in STREAMS}
        self.read = False
        self.last_used = clock()
        #: Held while the record is read or changed; a seek holds it too, so no seek sees a half-made change.
        self.lock = threading.RLock()

    def refresh(self) -> Replay:
        """Read what each stream holds after what was read before; the ``Replay`` over everything read."""
        with self.lock:
            self.last_used = self.clock()
            token = None if self.read else self._hold_archive()
            try:
                if not self.read and self.archive is not None:
                    _seed(self, *self.archive)
                batches = []
                for name in STREAMS:
                    events, self.cursors[name] = self.streams.read(name, after=self.cursors[name])
                    batches.append(events)
                self.replay.extend(merge(*batches))  # in order: appended, not inserted
                self.read = True
            finally:
                if token is not None:
                    self.streams.unlock(token)
            oldest = [i for i in (self.streams.oldest_id(name) for name in STREAMS) if i is not None]
            if oldest:  # what the streams no longer hold (archived, trimmed) is folded into the base state
                self.replay.drop_before(min(oldest, key=stream_id_key))
            self.replay.checkpoint()  # every checkpoint built now, not during a seek
            return self.replay

    def _hold_archive(self) -> str | None:
        """The record archive's lock, taken (its token), or None when another holder kept it ``FIRST_READ_WAIT``
        seconds (the read goes on: a trim in between folds what it took into the base state, as later)."""
        from alerts.actions.record_retention import LOCK_SECONDS

        token, waited = secrets.token_hex(8), threading.Event()
        for _ in range(int(FIRST_READ_WAIT / 0.1)):
            if self.streams.lock(token, LOCK_SECONDS):
                return token
            waited.wait(0.1)
        log.warning("the record archive stayed locked for %.0f s; reading the record without the lock",
                    FIRST_READ_WAIT)
        return None


_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_of(centre: Centre) -> RecordCache:
    """The centre's in-memory record (one per centre per process; read when first refreshed)."""
    with _caches_lock:
        cache = _caches.get(centre.audit)
        if cache is None:
            archive = ((centre.record_archive, centre.audit_archive)
                       if centre.record_archive is not None and centre.audit_archive is not None else None)
            cache = _caches[centre.audit] = RecordCache(RecordStreams(centre.audit.client, centre.audit.keys),
                                                        archive, centre.clock)
    return cache


def record_of(centre: Centre) -> Replay:
    """The centre's record, up to date (read into memory first when this process has not, or has forgotten it)."""
    return cache_of(centre).refresh()


def forget_idle(centre: Centre) -> bool:
    """Forget the centre's in-memory record when no seek, timeline or AAR used it for ``centre.record_idle``
    (by ``centre.clock``; None: never), so a process that does not replay holds no record (bench/README.md
    section 10), nor the records a seek parsed (``parsed_alert``); the next use reads it again. True when it was
    forgotten. A read or seek under way keeps it."""
    if centre.record_idle is None:
        return False
    with _caches_lock:
        cache = _caches.get(centre.audit)
        if cache is None or centre.clock() - cache.last_used < centre.record_idle:
            return False
        if not cache.lock.acquire(blocking=False):
            return False
        try:
            del _caches[centre.audit]
        finally:
            cache.lock.release()
    parsed_alert.cache_clear()  # the records it parsed go with it
    return True


def seed_from_archive(centre: Centre, record_dir: Path, audit_dir: Path) -> int:
    """Before the first read: take the archived events into the centre's in-memory record (alert and asset
    events from ``record_dir``, ``alerts.actions.record_retention``; audit entries from ``audit_dir``,
    ``alerts.actions.audit_retention``), so what was already trimmed from the streams is in the picture (folded
    into its base state by the read that follows: seeks reach back to the oldest event the streams hold). Events
    the streams still hold are not taken twice. Returns how many were taken (0 once the record was read).
    (A centre with ``record_archive`` and ``audit_archive`` set is seeded by its first read.)"""
    cache = cache_of(centre)
    with cache.lock:
        if cache.read or len(cache.replay):
            return 0
        return _seed(cache, record_dir, audit_dir)


def _seed(cache: RecordCache, record_dir: Path, audit_dir: Path) -> int:
    from alerts.actions.record_retention import read_archive
    from alerts.store.record import parse

    batches = [[e for e in (parse(name, i, f) for i, f in read_archive(record_dir, name)) if e is not None]
               for name in ("alerts", "assets")]
    audit = []
    for path in sorted(Path(audit_dir).glob("audit-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                audit.append(parse("audit", entry["id"], {**entry, "detail": json.dumps(entry.get("detail"))}))
    batches.append(sorted((e for e in audit if e is not None), key=lambda e: e.order))
    cache.replay.extend(merge(*batches))
    return len(cache.replay)


@dataclass(frozen=True)
class Picture:
    """What a viewer could see at ``at`` (aware): ``alerts`` (record as it stood, its ``Ack`` or None), newest
    report first, at most the ``limit`` asked for; ``assets`` by id; ``record_from``: the time of the oldest
    event held (None: empty record); ``total``: how many alerts the viewer could see then (a count of alerts,
    before the ``limit``: ``len(alerts)`` unless truncated); ``truncated``: more alerts were shown then than
    the ``limit`` asked for (``total > len(alerts)``; the newest reports are kept)."""

    at: datetime
    alerts: list[tuple[StoredAlert, Ack | None]]
    assets: list[Asset]
    record_from: datetime | None
    total: int
    truncated: bool = False


@dataclass(frozen=True)
class Timeline:
    """The events a viewer may see, oldest first; ``truncated`` when more than ``limit`` matched."""

    events: list[RecordEvent]
    truncated: bool
    record_from: datetime | None


class Sight:
    """What one viewer may see of the record (the module docstring), against the record's newest state."""

    def __init__(self, centre: Centre, viewer: Viewer, latest: State):
        self.centre = centre
        self.viewer = viewer
        self.query = restricted(centre, viewer)
        self.latest = latest
        self._exercises: dict[str, bool] = {}

    def alert(self, then: RecordEvent | None) -> bool:
        """Whether the alert, as the event ``then`` recorded it, is shown (releasable then and now)."""
        if then is None or then.routing is None:
            return False
        now = self.latest.events.get(then.object, then)
        return self.query.releases(then.routing) and (now is then or self.query.releases(now.routing))

    def asset(self, then: Asset | None) -> bool:
        """Whether the asset, as ``then``, is shown (released to the viewer then and now)."""
        if then is None:
            return False
        now = self.latest.assets.get(then.id, then)
        return asset_released(self.viewer, then) and asset_released(self.viewer, now)

    def shown_asset(self, asset: Asset, state: State) -> Asset:
        """``asset`` with ``assigned_to`` dropped unless that alert is shown in ``state``."""
        if asset.assigned_to is None or self.alert(state.events.get(asset.assigned_to)):
            return asset
        return asset.model_copy(update={"assigned_to": None})

    def event(self, event: RecordEvent, state: State) -> bool:
        """Whether ``event`` is shown, ``state`` being the picture right after it."""
        if event.packed is not None:
            return self.alert(event)
        if event.asset is not None:
            return self.asset(event.asset)
        if event.kind.startswith("exercise."):
            if event.kind in EVALUATION_ACTIONS:
                return controls(self.viewer)
            if not self._exercise(event.object):
                return False
        if len(event.copies) > 1:  # a multi-nation inject: its firing is shown to whoever sees one of its copies
            return controls(self.viewer) or bool(self.copies_seen(event, state))
        named = [a for a in event.alert_ids if a in state.events or a in event.copies]
        # an alert named before it was recorded (an inject fired, ingested a moment later): as recorded since
        verdicts = [self.alert(state.events.get(a) or self.latest.events.get(a)) for a in named]
        if event.object in state.assets:
            verdicts.append(self.asset(state.assets[event.object]))
        if event.kind.startswith("exercise.") and not event.detail.get("alert_id"):
            verdicts.append(True)
        return bool(verdicts) and all(verdicts)

    def copies_seen(self, event: RecordEvent, state: State) -> list[str]:
        """The copies ``event`` names (``RecordEvent.copies``) that the viewer sees, as recorded by ``state``
        or, when not yet recorded (an inject fired, ingested a moment later), as recorded since."""
        return [a for a in event.copies if self.alert(state.events.get(a) or self.latest.events.get(a))]

    def shown(self, event: RecordEvent, state: State) -> RecordEvent:
        """``event`` as the viewer is shown it (``event`` being shown): an asset tasked to an alert it may not
        see as committed to nothing named; a multi-nation inject's firing naming only the copies it sees
        (exercise control and evaluators: every copy)."""
        if event.asset is not None:
            return replace(event, asset=self.shown_asset(event.asset, state))
        if len(event.copies) > 1 and not controls(self.viewer):
            return replace(event, detail={**event.detail, "alert_id": ",".join(self.copies_seen(event, state))})
        return event

    def _exercise(self, exercise_id: str) -> bool:
        if exercise_id not in self._exercises:
            found = self.centre.exercises.get(exercise_id) if self.centre.exercises is not None else None
            self._exercises[exercise_id] = found is not None and plays_in(self.viewer, found)
        return self._exercises[exercise_id]


def _record_from(replay: Replay) -> datetime | None:
    return instant_of(replay.events[0].id) if replay.events else None


def state_at(centre: Centre, viewer: Viewer, at: datetime, limit: int = MAX_ALERTS) -> Picture:
    """The alerts (with their status and acknowledgment; the ``limit`` newest reports, ``Picture.truncated``
    when there were more, ``Picture.total`` how many there were) and assets as ``viewer`` could see them at
    ``at`` (aware), rebuilt from the record; only the records shown are parsed. ``Invalid`` for a naive
    ``at``, one before the oldest event the streams still hold when older ones were trimmed (they are in the
    archive), or ``limit`` not 1 to ``MAX_ALERTS``."""
    require(viewer, Permission.VIEW)
    if at.tzinfo is None:
        raise Invalid(N_("at: give a time with its offset (e.g. 2026-01-01T10:00:00Z)"))
    if not 1 <= limit <= MAX_ALERTS:
        raise Invalid(N_("limit is 1 to %(most)s"), values={"most": MAX_ALERTS})
    cache = cache_of(centre)
    with cache.lock:
        replay = cache.refresh()
        if replay.folded_until is not None and at < replay.folded_until:
            raise Invalid(N_("at: the record held starts at %(start)s; older events are in the record archive"),
                          values={"start": replay.folded_until.isoformat()})
        state = replay.state_at(at)
        sight = Sight(centre, viewer, replay.state_through(len(replay)))
        record_from = _record_from(replay)
    shown = [e for e in state.events.values() if sight.alert(e)]
    newest = heapq.nlargest(limit, shown, key=lambda e: e.reported)  # = sorted(..., reverse=True)[:limit]
    alerts = [e.alert for e in newest]
    assets = [sight.shown_asset(a, state) for _, a in sorted(state.assets.items()) if sight.asset(a)]
    return Picture(at, [(a, state.acks.get(a.id)) for a in alerts], assets, record_from,
                   total=len(shown), truncated=len(shown) > limit)


def timeline(centre: Centre, viewer: Viewer, since: datetime | None = None, until: datetime | None = None,
             exercise_id: str | None = None, limit: int = MAX_EVENTS,
             streams: Collection[str] | None = None) -> Timeline:
    """The record's events from ``since`` to ``until`` (both included, aware; None: no bound), oldest first,
    those of ``exercise_id`` only when given, of ``streams`` (names of ``STREAMS``) only when given, each
    shown only if ``viewer`` may see it (module docstring); at most ``limit`` of them.

    Raises ``Invalid`` when ``since`` is after ``until`` or ``limit`` is not 1 to ``MAX_EVENTS``;
    ``NotFound`` for an exercise the viewer may not know of."""
    require(viewer, Permission.VIEW)
    if since is not None and until is not None and since > until:
        raise Invalid(N_("since is after until"))
    if not 1 <= limit <= MAX_EVENTS:
        raise Invalid(N_("limit is 1 to %(most)s"), values={"most": MAX_EVENTS})
    if exercise_id is not None:
        exercise(centre, viewer, exercise_id)  # NotFound when the viewer may not know of it
    cache = cache_of(centre)
    with cache.lock:
        replay = cache.refresh()
        start, stop = replay.between(since, until)
        state = replay.state_through(start)
        sight = Sight(centre, viewer, replay.state_through(len(replay)))
        window = replay.events[start:stop]
        record_from = _record_from(replay)
    shown: list[RecordEvent] = []
    for event in window:
        state.apply(event)
        if exercise_id is not None and not names_exercise(event, exercise_id):
            continue
        if streams is not None and event.stream not in streams:
            continue
        if sight.event(event, state):
            if len(shown) == limit:
                return Timeline(shown, True, record_from)
            shown.append(sight.shown(event, state))
    return Timeline(shown, False, record_from)
