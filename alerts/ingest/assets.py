"""The asset pipeline: live positions and status in, asset records and dead letters out.

A payload is a whole asset (JSON with a ``type``: created or replaced) or an
update ``{"id", "position"?, "status"?, "speed_kmh"?, "updated_at"?}`` (JSON,
or a CoT position report) merged into the stored asset. Every report is
dated by ``alerts.core.assets.received``: a time up to ``max_skew`` (the
``max_clock_skew`` setting, default ``MAX_CLOCK_SKEW``, 2 min) ahead of the
centre's clock is clamped to it; one further ahead, or outside 1900-2200,
goes to ``{p}:assets:dead`` with the raw payload and the reason (a device
with a wrong clock would otherwise freeze its asset: later, correct reports
would look older and be skipped). Updates older than the record are then
skipped, logged and counted (``BatchResult.stale``, the worker's
``skipped_older``), so a replay or an out-of-order report never moves an
asset back. Anything invalid and an update for an asset nobody imported are
dead letters too. Whole assets are written in arrival order with the
updates between them.

An update that arrived on a network listener (``via`` ``feed:<name>``: a CoT
position report from a TAK device, forwarded by alert ingest) moves only an
asset of the nation of the feed it speaks for (``FeedRegistry.sender``: the
listener's feed, or for a ``relay`` feed the one its uid names); one for
another nation's asset is a dead letter with the reason, so a device on one
nation's listener cannot move another nation's units. Updates from the
internal streams (untagged) are trusted as before.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from alerts.core.assets import MAX_CLOCK_SKEW, Asset, AssetUpdate, apply_update, received
from alerts.core.feeds import Feed, FeedRegistry, Origin
from alerts.formats.assets import decode_asset_message
from alerts.formats.payload import DEFAULT_MAX_BYTES
from alerts.ingest.pipeline import BatchResult, DeadLettering, arrived_on, decode_each, utc_now
from alerts.store.assets import AssetStore
from alerts.store.dead_letters import DeadLetter, DeadLetters

log = logging.getLogger(__name__)

#: The default of ``max_skew`` (``alerts.core.assets.MAX_CLOCK_SKEW``).
DEFAULT_MAX_SKEW = MAX_CLOCK_SKEW


class _OtherNation(Exception):
    """A position report from one nation's feed for another nation's asset (the message is the reason)."""


class AssetPipeline(DeadLettering):
    """Decode, merge, store, dead-letter (the contract of ``alerts.ingest.pipeline``)."""

    def __init__(self, store: AssetStore, dead_letters: DeadLetters, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], datetime] = utc_now, max_skew: timedelta = DEFAULT_MAX_SKEW,
                 feeds: FeedRegistry | None = None):
        super().__init__(dead_letters, max_bytes, clock)
        self.store = store
        self.max_skew = max_skew
        self.feeds = feeds if feeds is not None else FeedRegistry()

    def process(self, payloads: list[tuple[str, bytes]]) -> BatchResult[Asset]:
        """Handle a batch of ``(via, raw payload)``; never raises for bad input."""
        result: BatchResult[Asset] = BatchResult()
        dead: list[DeadLetter] = []
        whole: dict[str, Asset] = {}
        decode = lambda _via, raw: decode_asset_message(raw, self.max_bytes)  # noqa: E731
        for via, raw, message in decode_each(payloads, decode, dead):
            try:
                message = received(message, self.clock(), self.max_skew)
            except ValueError as exc:
                dead.append(DeadLetter(via, raw, str(exc)))
                continue
            if isinstance(message, Asset):
                whole[message.id] = message
                continue
            self._write(whole, result)  # keep the order: whole assets before this update are written first
            listener = arrived_on(via)
            sender = self.feeds.sender(Origin("cot", cot_uid=message.id), listener) if listener else None
            if listener and sender is None:
                dead.append(DeadLetter(via, raw, f"position report from feed {listener!r}, which is not registered: "
                                                 "it may move no asset"))
                continue
            try:
                outcome = self._update(message, sender)
            except _OtherNation as exc:
                dead.append(DeadLetter(via, raw, str(exc)))
                continue
            except Exception as exc:  # noqa: BLE001  one bad update must not sink the batch
                log.exception("could not apply an asset update")
                dead.append(DeadLetter(via, raw, f"could not apply the update: {type(exc).__name__}: {exc}"))
                continue
            if outcome is None:
                dead.append(DeadLetter(via, raw, f"unknown asset {message.id!r}: import it first or send the whole asset"))
            elif outcome is False:
                log.info("asset %r: update dated %s is older than the record; skipped", message.id,
                         message.updated_at.isoformat() if message.updated_at else "now")
                result.stale.append(message.id)
            else:
                result.accepted.append(outcome)
        self._write(whole, result)
        if dead:
            self.dead_letter(dead)
            result.dead = [(letter.via, letter.reason) for letter in dead]
        return result

    def _write(self, whole: dict[str, Asset], result: BatchResult[Asset]) -> None:
        if whole:
            self.store.put_many(whole.values())
            result.accepted += list(whole.values())
            whole.clear()

    def _update(self, update: AssetUpdate, sender: Feed | None) -> Asset | bool | None:
        """The asset after ``update``; False: stale (skipped); None: no such asset; ``_OtherNation`` when
        ``sender`` (the feed the report speaks for; None: trusted) is of another nation than the asset."""
        now = self.clock()

        def change(current: Asset) -> Asset:
            if sender is not None and current.nation != sender.nation:
                raise _OtherNation(f"position report for asset {current.id!r} of {current.nation} arrived from feed "
                                   f"{sender.name!r} of {sender.nation}: only the asset's own nation moves it")
            return apply_update(current, update, now)

        changed = self.store.change(update.id, change)
        if changed is None:
            return None
        before, after = changed
        return False if after is before else after
