"""The alert pipeline: decode, place, record, apply updates and cancels, open checklists, dead-letter.

Per batch: every payload is decoded on its own (``decode_each``); the points
of the decoded alerts are placed in one vectorised call, areas one by one;
each placed alert is serialised on its own (an alert that cannot be stored,
e.g. text that is not valid Unicode, is dead-lettered, not the batch); the
batch is recorded in one atomic call (exactly once per id, see
``alerts.store.alerts``); then the updates and cancels among them close the
alerts they reference, and ``on_recorded`` runs (it opens checklists) before
the worker acknowledges the batch. Replayed duplicates run those two steps
again, so work a crash interrupted is finished; both are idempotent.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np

from alerts.core.geography import RegionIndex
from alerts.core.model import Alert, Placement, Status, StoredAlert
from alerts.core.references import closed_by, referenced_ids
from alerts.formats.decode import decode_alert
from alerts.formats.payload import DEFAULT_MAX_BYTES
from alerts.ingest.pipeline import BatchResult, DeadLettering, decode_each, utc_now
from alerts.store.alerts import AlertStore
from alerts.store.dead_letters import DeadLetter, DeadLetters

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def stored_alert(alert: Alert, placement: Placement, now: datetime, lon: float, lat: float) -> StoredAlert:
    """An accepted alert as recorded: placed, received ``now``; a cancel is born cancelled."""
    status = Status.CANCELLED if alert.msg_type == "cancel" else Status.NEW
    return StoredAlert(alert=alert, placement=placement, received_at=now, status=status, lon=lon, lat=lat)


class AlertPipeline(DeadLettering):
    """Decode, place, store, dead-letter: the work shared by every way in (see the module docstring)."""

    def __init__(
        self,
        store: AlertStore,
        regions: RegionIndex,
        dead_letters: DeadLetters,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = utc_now,
        on_recorded: Callable[[list[StoredAlert]], object] | None = None,
    ):
        super().__init__(dead_letters, max_bytes, clock)
        self.store = store
        self.regions = regions
        #: Called with the alerts of each batch (new and duplicate), before the batch is
        #: acknowledged. It must be idempotent: a replayed batch calls it again.
        self.on_recorded = on_recorded

    def process(self, payloads: list[tuple[str, bytes]]) -> BatchResult[StoredAlert]:
        """Handle a batch of ``(via, raw payload)``; never raises for bad input."""
        result: BatchResult[StoredAlert] = BatchResult()
        dead: list[DeadLetter] = []
        decoded = list(decode_each(payloads, lambda raw: decode_alert(raw, self.max_bytes), dead))
        encoded = self._encode(self._place(decoded, dead), dead)
        if encoded:
            stored = [alert for alert, _ in encoded]
            outcomes = self.store.record_encoded([(alert.id, raw) for alert, raw in encoded])
            for outcome, alert in zip(outcomes, stored):
                if outcome.duplicate:
                    result.duplicates.append(alert.id)
                else:
                    result.accepted.append(alert)
            self._close_referenced(stored)
            if self.on_recorded is not None:
                self.on_recorded(stored)
        if dead:
            self.dead_letter(dead)
            result.dead = [(letter.via, letter.reason) for letter in dead]
        return result

    def _place(self, decoded: list[tuple[str, bytes, Alert]], dead: list[DeadLetter]
               ) -> list[tuple[str, bytes, StoredAlert]]:
        if not decoded:
            return []
        points = [alert.point() for _, _, alert in decoded]
        placements = self.regions.place_points(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
        now = self.clock()
        placed = []
        for (via, raw, alert), (lon, lat), placement in zip(decoded, points, placements):
            try:
                if alert.area is not None:
                    placement = self.regions.place_area(alert.area.geometry())
                placed.append((via, raw, stored_alert(alert, placement, now, lon, lat)))
            except Exception as exc:  # noqa: BLE001  one odd geometry must not sink the batch
                log.exception("could not place alert %r", alert.id)
                dead.append(DeadLetter("placement", raw, f"could not place the alert: {type(exc).__name__}: {exc}"))
        return placed

    @staticmethod
    def _encode(placed: list[tuple[str, bytes, StoredAlert]], dead: list[DeadLetter]
                ) -> list[tuple[StoredAlert, bytes]]:
        encoded = []
        for via, raw, stored in placed:
            try:
                encoded.append((stored, stored.model_dump_json().encode("utf-8")))
            except Exception as exc:  # noqa: BLE001  e.g. a lone surrogate that passed validation
                dead.append(DeadLetter(via, raw, f"cannot be stored: {type(exc).__name__}: {exc}"))
        return encoded

    def _close_referenced(self, newer: list[StoredAlert]) -> list[str]:
        closed = []
        for alert in newer:
            for earlier_id in referenced_ids(alert):
                changed = self.store.change(earlier_id, lambda earlier, newer=alert: closed_by(earlier, newer))
                if changed is not None and changed[1] is not changed[0]:
                    closed.append(earlier_id)
        return closed
