"""The alert pipeline: decode, place, record by identity, apply references, open checklists, dead-letter.

Per batch:

1. every payload is decoded on its own (``decode_each``; what a TAK listener
   read, ``via`` ``feed:<name>``, as CoT only: ``decode_tak_alert``); only the exercise
   scheduler's signed injects (``via`` ``INJECT_VIA``) keep an exercise id and
   inject number (``_unmarked``);
2. a CoT event dated beyond the clock skew is dead-lettered
   (``alerts.core.validity.dated_ahead``); each alert is routed (``alerts.core.routing``; a payload that came
   ``via`` ``feed:<name>``, a listener's tagged stream entry, is of that feed
   when its content matches none: reporting nation,
   releasability, markings; unrouted when undecidable; markings that cannot
   be honoured dead-letter it); the points of the decoded alerts are placed
   in one vectorised call per chunk (step 4); areas one by one, within the geometry budget
   (``alerts.core.shapes``); an unlocated alert (no location, no area) is
   kept without a position;
3. each alert gets its status on receipt (``alerts.core.validity``: expired,
   or a stale CoT emergency) and is serialised on its own (one that cannot be
   stored, e.g. text that is not valid Unicode, is dead-lettered, not the batch);
4. the batch is recorded by producer identity (``alerts.store.identities``):
   new, duplicate, or a repeat report; in order, one atomic call per chunk of
   ``RECORD_CHUNK`` alerts, each call sent before the next chunk is routed,
   placed and serialised and read after, so Redis and Python work at once
   (``AlertStore.record_encoded_sent``); every step's dead letters keep the
   arrival order, as if the batch were one chunk;
5. the updates and cancels among the alerts close what they reference, and
   the references that arrived before their alert are applied to it;
6. ``on_recorded`` runs (it opens checklists) before the worker acknowledges
   the batch.

CoT position reports (``ForAssets``) are not alerts: with ``to_assets`` they are
handed to asset ingest (its inbox stream, with the feed of the listener they
arrived on, which decides whose assets they may move) as step 1 meets them, counted in
``BatchResult.forwarded``; without it they are dead-lettered like any refusal.

Duplicates run steps 5 and 6 again, so work a crash interrupted is finished;
both are idempotent. Every payload ends in exactly one place: recorded
(``accepted``), a duplicate or repeat (``duplicates``), handed to asset ingest
(``forwarded``), or a dead letter with the reason. Only an unreachable store escapes (the worker retries the
batch); any other failure of the batch call is narrowed down to the message
that caused it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from alerts.core.assets import MAX_CLOCK_SKEW
from alerts.core.feeds import FeedRegistry
from alerts.core.geography import RegionIndex
from alerts.core.identity import identity_of, referenced_identities, scope_of
from alerts.core.injects import is_inject_alert_id, unmarked
from alerts.core.markings import Classifications, MarkingError
from alerts.core.model import Alert, Placement, Routing, Status, StoredAlert
from alerts.core.references import closed_by, lapsed, refreshed
from alerts.core.routing import Router
from alerts.core.shapes import bounded
from alerts.core.validity import dated_ahead, expires_at, on_receipt
from alerts.formats.decode import decode_alert, decode_tak_alert
from alerts.formats.payload import DEFAULT_MAX_BYTES
from alerts.ingest.pipeline import INJECT_VIA, BatchResult, DeadLettering, arrived_on, decode_each, utc_now
from alerts.store.alerts import AlertStore, recordable
from alerts.store.client import UNAVAILABLE
from alerts.store.dead_letters import DeadLetter, DeadLetters
from alerts.store.identities import Recordable, RecordResult, SentRecord

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def stored_alert(alert: Alert, placement: Placement, now: datetime, point: tuple[float, float] | None,
                 routing: Routing | None = None, identity: str = "", key: str | None = None) -> StoredAlert:
    """An accepted alert as recorded: routed, placed, received ``now``, its status on receipt, recognised by
    ``identity`` (default: ``alerts.core.identity.identity_of`` the alert), with ``key`` (its key in the
    centre, None until recording gives it one).

    A cancel is born cancelled; an alert whose validity already ended is born
    expired; a CoT emergency already stale is open but ``stale``.
    """
    status, stale = on_receipt(alert, now)
    if alert.msg_type == "cancel":
        status = Status.CANCELLED
    lon, lat = point if point is not None else (None, None)
    return StoredAlert(alert=alert, placement=placement, received_at=now, status=status or Status.NEW,
                       lon=lon, lat=lat, expires_at=expires_at(alert), stale=stale, routing=routing,
                       identity=identity, key=key)


def keyed(stored: StoredAlert, outcome: RecordResult) -> StoredAlert:
    """``stored`` with the key recording gave it (itself when it has that key already, as most have: their
    producer id, set before recording, which leaves ``key`` out of the JSON it records)."""
    return stored if stored.key == outcome.key else stored.model_copy(update={"key": outcome.key})


class AlertPipeline(DeadLettering):
    """Decode, place, store, dead-letter: the work shared by every way in (see the module docstring)."""

    #: Alerts recorded per script call (step 4 of the module docstring).
    RECORD_CHUNK = 100

    def __init__(
        self,
        store: AlertStore,
        regions: RegionIndex,
        dead_letters: DeadLetters,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = utc_now,
        on_recorded: Callable[[list[StoredAlert]], object] | None = None,
        feeds: FeedRegistry | None = None,
        scheme: Classifications | None = None,
        to_assets: Callable[[list[tuple[str | None, bytes]]], object] | None = None,
        max_skew: timedelta = MAX_CLOCK_SKEW,
    ):
        super().__init__(dead_letters, max_bytes, clock)
        #: How far ahead of the clock a CoT event may be dated (``alerts.core.validity.dated_ahead``).
        self.max_skew = max_skew
        self.store = store
        self.regions = regions
        self.feeds = feeds if feeds is not None else FeedRegistry()
        self.scheme = scheme or Classifications()
        #: ``route`` for ``feeds`` and ``scheme``, remembering the routing of JSON alerts alike (``Router``).
        self._router = Router(self.feeds, self.scheme)
        #: Called with the alerts of each batch (new and duplicate), before the batch is
        #: acknowledged. It must be idempotent: a replayed batch calls it again.
        self.on_recorded = on_recorded
        #: Where asset messages that came in as alerts go (CoT position reports, e.g. from the TAK
        #: listener): asset ingest's inbox stream. None: they are dead-lettered.
        self.to_assets = to_assets

    def process(self, payloads: list[tuple[str, bytes]]) -> BatchResult[StoredAlert]:
        """Handle a batch of ``(via, raw payload)``; never raises for bad input."""
        result: BatchResult[StoredAlert] = BatchResult()
        dead: list[DeadLetter] = []
        for_assets: list[tuple[str, bytes]] | None = [] if self.to_assets is not None else None
        decoded = self._unmarked(
            list(decode_each(payloads, self._decode, dead, for_assets)), dead)
        if for_assets:
            # before the batch is acknowledged; a replay sends them again
            self.to_assets([(arrived_on(via), raw) for via, raw in for_assets])
            result.forwarded = len(for_assets)
        now = self.clock()  # one moment for the whole batch
        steps: tuple[list[DeadLetter], ...] = ([], [], [], [])  # routing, placing, serialising, recording
        recorded = self._chunked(decoded, now, *steps)
        for letters in steps:
            dead += letters
        if recorded:
            for stored, outcome in recorded:
                if outcome.duplicate:
                    result.duplicates.append(stored.id)
                else:
                    result.accepted.append(stored)
            batch = [stored for stored, _ in recorded]
            self._refresh_repeats(recorded)
            self._mark_lapsed(recorded)
            self._apply_references(batch)
            self._apply_pending(recorded)
            if self.on_recorded is not None:
                self.on_recorded(batch)
        if dead:
            self.dead_letter(dead)
            result.dead = [(letter.via, letter.reason) for letter in dead]
        return result

    def _chunked(self, decoded: list[tuple[str, bytes, Alert]], now: datetime, routing: list[DeadLetter],
                 placing: list[DeadLetter], serialising: list[DeadLetter], recording: list[DeadLetter]
                 ) -> list[tuple[StoredAlert, RecordResult]]:
        """Steps 2-4 of the module docstring, ``RECORD_CHUNK`` alerts at a time: a chunk's recording is sent
        (``_send``), the next chunk routed, placed and serialised while Redis records, then the answer read
        (``_recorded``); one chunk is recorded at a time, in order. Each step's dead letters go to its own list.
        A batch of one chunk is recorded as it is serialised."""
        if len(decoded) <= self.RECORD_CHUNK:  # one chunk: nothing to do while Redis records it
            return self._record(self._encode(self._place(self._route(decoded, routing, now), placing, now),
                                             serialising), recording)
        recorded: list[tuple[StoredAlert, RecordResult]] = []
        sent: tuple[list, SentRecord | None] | None = None
        try:
            for start in range(0, len(decoded), self.RECORD_CHUNK):
                chunk = decoded[start:start + self.RECORD_CHUNK]
                encoded = self._encode(self._place(self._route(chunk, routing, now), placing, now), serialising)
                if sent is not None:
                    recorded += self._recorded(*sent, recording)
                    sent = None
                if encoded:
                    sent = (encoded, self._send(encoded))
            if sent is not None:
                recorded += self._recorded(*sent, recording)
                sent = None
        finally:
            if sent is not None and sent[1] is not None:  # something here failed: the call's answer is not read
                sent[1].close()
        return recorded

    def _send(self, encoded: list[tuple[str, bytes, StoredAlert, Recordable]]) -> SentRecord | None:
        """The recording of ``encoded`` sent ahead, or None (``_recorded`` records it then, as ``_record``)."""
        try:
            return self.store.record_encoded_sent([item for *_, item in encoded])
        except UNAVAILABLE:
            raise
        except Exception:  # noqa: BLE001  _record tries again, then one by one
            log.exception("sending a batch to record failed")
            return None

    def _recorded(self, encoded: list[tuple[str, bytes, StoredAlert, Recordable]], sent: SentRecord | None,
                  dead: list[DeadLetter]) -> list[tuple[StoredAlert, RecordResult]]:
        """The outcome of the recording ``sent`` of ``encoded`` (``_record``'s, and as it narrows a failure down)."""
        if sent is None:
            return self._record(encoded, dead)
        try:
            outcomes = sent.result()
        except UNAVAILABLE:
            raise
        except Exception:  # noqa: BLE001
            log.exception("recording a batch failed; recording its alerts one by one")
            return self._record_each(encoded, dead)
        return [(keyed(s, o), o) for (_, _, s, _), o in zip(encoded, outcomes)]

    # --- steps ----------------------------------------------------------------------------

    def _decode(self, via: str, raw: bytes) -> Alert:
        """A payload a TAK listener read (``via`` ``feed:<name>``) is CoT only (``decode_tak_alert``)."""
        if arrived_on(via):
            return decode_tak_alert(raw, self.max_bytes)
        return decode_alert(raw, self.max_bytes)

    @staticmethod
    def _unmarked(decoded: list[tuple[str, bytes, Alert]], dead: list[DeadLetter]) -> list[tuple[str, bytes, Alert]]:
        """Only payloads the exercise scheduler signed (``INJECT_VIA``) are an exercise's injects: others lose
        ``exercise_id``/``inject`` (``alerts.core.injects.unmarked``), and one taking an inject's reserved id
        is dead-lettered (it would take the key the real inject's alert is scored by)."""
        kept = []
        for via, raw, alert in decoded:
            if via != INJECT_VIA:
                if is_inject_alert_id(alert.id):
                    dead.append(DeadLetter(via, raw, f"the id {alert.id!r} has the form reserved for exercise "
                                                     "injects (<exercise>.inject-<n>.<ISO2>); only the exercise "
                                                     "scheduler sends those"))
                    continue
                alert = unmarked(alert)
            kept.append((via, raw, alert))
        return kept

    def _route(self, decoded: list[tuple[str, bytes, Alert]], dead: list[DeadLetter], now: datetime
               ) -> list[tuple[str, bytes, Alert, Routing]]:
        routed = []
        for via, raw, alert in decoded:
            ahead = dated_ahead(alert, now, self.max_skew)
            if ahead is not None:
                dead.append(DeadLetter(via, raw, ahead))
                continue
            try:
                routed.append((via, raw, alert, self._router.route(alert, arrived_on(via))))
            except MarkingError as exc:
                dead.append(DeadLetter(via, raw, f"markings cannot be honoured: {exc}"))
        return routed

    def _place(self, decoded: list[tuple[str, bytes, Alert, Routing]], dead: list[DeadLetter], now: datetime
               ) -> list[tuple[str, bytes, StoredAlert]]:
        if not decoded:
            return []
        located = [(i, alert.location.lon, alert.location.lat) for i, (_, _, alert, _) in enumerate(decoded)
                   if alert.location is not None]
        placements = dict(zip((i for i, _, _ in located), self.regions.place_points(
            np.array([lon for _, lon, _ in located]), np.array([lat for _, _, lat in located])))) if located else {}
        placed = []
        for i, (via, raw, alert, routing) in enumerate(decoded):
            try:
                if alert.location is not None:
                    placement, point = placements[i], (alert.location.lon, alert.location.lat)
                elif alert.area is not None:
                    geometry, approximate = bounded(alert.area.shape())
                    spot = geometry.representative_point()
                    placement, point = self.regions.place_area(geometry, approximate), (spot.x, spot.y)
                else:
                    placement, point = Placement(), None  # unlocated
                # see alerts.core.identity; a feed relayed_by a relay shares the relay's scope
                scope = self.feeds.identity_scope(arrived_on(via) or routing.feed)
                placed.append((via, raw, stored_alert(alert, placement, now, point, routing,
                                                      identity_of(alert, scope), alert.id)))
            except Exception as exc:  # noqa: BLE001  one odd geometry must not sink the batch
                log.exception("could not place alert %r", alert.id)
                dead.append(DeadLetter("placement", raw, f"could not place the alert: {type(exc).__name__}: {exc}"))
        return placed

    @staticmethod
    def _encode(placed: list[tuple[str, bytes, StoredAlert]], dead: list[DeadLetter]
                ) -> list[tuple[str, bytes, StoredAlert, Recordable]]:
        encoded = []
        for via, raw, stored in placed:
            try:
                encoded.append((via, raw, stored, recordable(stored, stored.model_dump_json(exclude={"key"})
                                                             .encode("utf-8"))))
            except Exception as exc:  # noqa: BLE001  e.g. a lone surrogate that passed validation
                dead.append(DeadLetter(via, raw, f"cannot be stored: {type(exc).__name__}: {exc}"))
        return encoded

    def _record(self, encoded: list[tuple[str, bytes, StoredAlert, Recordable]], dead: list[DeadLetter]
                ) -> list[tuple[StoredAlert, RecordResult]]:
        """Record the batch in one call; if the call fails for a reason other than an unreachable
        store, record one by one so only the message that fails is dead-lettered."""
        if not encoded:
            return []
        try:
            outcomes = self.store.record_encoded([item for *_, item in encoded])
            return [(keyed(s, o), o) for (_, _, s, _), o in zip(encoded, outcomes)]
        except UNAVAILABLE:
            raise
        except Exception:  # noqa: BLE001
            log.exception("recording a batch failed; recording its alerts one by one")
        return self._record_each(encoded, dead)

    def _record_each(self, encoded: list[tuple[str, bytes, StoredAlert, Recordable]], dead: list[DeadLetter]
                     ) -> list[tuple[StoredAlert, RecordResult]]:
        """Record the alerts of ``encoded`` one by one: only one that fails is dead-lettered."""
        recorded = []
        for via, raw, stored, item in encoded:
            try:
                (outcome,) = self.store.record_encoded([item])
                recorded.append((keyed(stored, outcome), outcome))
            except UNAVAILABLE:
                raise
            except Exception as exc:  # noqa: BLE001
                dead.append(DeadLetter(via, raw, f"cannot be stored: {type(exc).__name__}: {exc}"))
        return recorded

    def _change(self, key: str, change: Callable[[StoredAlert], StoredAlert | None], what: str) -> bool:
        """Apply ``change`` to a stored alert; True if it changed. A failure is logged, never raised."""
        try:
            changed = self.store.change(key, change)
        except UNAVAILABLE:
            raise
        except Exception:  # noqa: BLE001  the alert is stored; the batch replay will try again
            log.exception("could not %s alert %r", what, key)
            return False
        return changed is not None and changed[1] is not changed[0]

    def _refresh_repeats(self, recorded: list[tuple[StoredAlert, RecordResult]]) -> None:
        """A fresh (not stale) repeat report of an open CoT emergency brings it up to date (its position, its
        stale time) and clears its ``stale`` mark (``alerts.core.references.refreshed``)."""
        for stored, outcome in recorded:
            if outcome.outcome == "repeat" and not stored.stale:
                self._change(outcome.key, lambda current, fresh=stored: refreshed(current, fresh), "refresh")

    def _mark_lapsed(self, recorded: list[tuple[StoredAlert, RecordResult]]) -> None:
        """The open alert a new report of a CoT emergency replaced after it lapsed is marked stale
        (``alerts.core.references.lapsed``)."""
        for _, outcome in recorded:
            if outcome.lapsed:
                self._change(outcome.lapsed, lapsed, "mark stale")

    def _apply_references(self, batch: list[StoredAlert]) -> None:
        """Close what each update or cancel names (kept for later when it is not here yet)."""
        pairs = [(identity, {"by": newer.id, "at": int(self.clock().timestamp())}, newer)
                 for newer in batch for identity in referenced_identities(newer.alert, scope_of(newer.identity))]
        if not pairs:
            return
        targets = self.store.resolve_references([(identity, entry) for identity, entry, _ in pairs],
                                                self.clock().timestamp())
        for (_, _, newer), target in zip(pairs, targets):
            if target is not None:
                self._change(target, lambda earlier, newer=newer: closed_by(earlier, newer), "close")

    def _apply_pending(self, recorded: list[tuple[StoredAlert, RecordResult]]) -> None:
        """Apply the updates and cancels that arrived before their alert."""
        for stored, outcome in recorded:
            if not outcome.pending:
                continue
            for entry in outcome.pending:
                newer = self.store.get(entry.get("by", ""))
                if newer is not None:
                    self._change(outcome.key, lambda earlier, newer=newer: closed_by(earlier, newer), "close")
            self.store.forget_pending(stored.identity)
