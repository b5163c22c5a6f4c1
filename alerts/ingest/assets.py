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
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from alerts.core.assets import MAX_CLOCK_SKEW, Asset, AssetUpdate, apply_update, received
from alerts.formats.assets import decode_asset_message
from alerts.formats.payload import DEFAULT_MAX_BYTES
from alerts.ingest.pipeline import BatchResult, DeadLettering, decode_each, utc_now
from alerts.store.assets import AssetStore
from alerts.store.dead_letters import DeadLetter, DeadLetters

log = logging.getLogger(__name__)

#: The default of ``max_skew`` (``alerts.core.assets.MAX_CLOCK_SKEW``).
DEFAULT_MAX_SKEW = MAX_CLOCK_SKEW


class AssetPipeline(DeadLettering):
    """Decode, merge, store, dead-letter (the contract of ``alerts.ingest.pipeline``)."""

    def __init__(self, store: AssetStore, dead_letters: DeadLetters, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], datetime] = utc_now, max_skew: timedelta = DEFAULT_MAX_SKEW):
        super().__init__(dead_letters, max_bytes, clock)
        self.store = store
        self.max_skew = max_skew

    def process(self, payloads: list[tuple[str, bytes]]) -> BatchResult[Asset]:
        """Handle a batch of ``(via, raw payload)``; never raises for bad input."""
        result: BatchResult[Asset] = BatchResult()
        dead: list[DeadLetter] = []
        whole: dict[str, Asset] = {}
        for via, raw, message in decode_each(payloads, lambda raw: decode_asset_message(raw, self.max_bytes), dead):
            try:
                message = received(message, self.clock(), self.max_skew)
            except ValueError as exc:
                dead.append(DeadLetter(via, raw, str(exc)))
                continue
            if isinstance(message, Asset):
                whole[message.id] = message
                continue
            self._write(whole, result)  # keep the order: whole assets before this update are written first
            try:
                outcome = self._update(message)
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

    def _update(self, update: AssetUpdate) -> Asset | bool | None:
        """The asset after ``update``; False: stale (skipped); None: no such asset."""
        now = self.clock()
        changed = self.store.change(update.id, lambda current: apply_update(current, update, now))
        if changed is None:
            return None
        before, after = changed
        return False if after is before else after
