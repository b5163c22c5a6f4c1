"""Asset ingest: live positions and status in, asset records and dead letters out.

The same two ways in as alerts, read by the same workers (``StreamIngest`` and
``PubSubIngest`` of ``alerts.ingest``, given the asset stream, group and
channel), so supervision, acknowledgment and recovery are exactly those of
alert ingest:

- stream ``{p}:assets:inbox`` (field ``payload``), consumer group
  ``{p}:assets-ingest``: at-least-once;
- channel ``{p}:assets``: at-most-once.

A payload is a whole asset (JSON with a ``type``: created or replaced) or an
update ``{"id", "position"?, "status"?, "speed_kmh"?, "updated_at"?}`` merged
into the stored asset. Updates older than the record are skipped (counted as
stale), so a replay or an out-of-order report never moves an asset back.
Anything invalid, and an update for an asset nobody imported, goes to
``{p}:assets:dead`` with the raw payload and the reason.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alerts.asset_store import AssetStore
from alerts.assets import Asset, AssetUpdate, apply_update, decode_asset_message
from alerts.decode import DEFAULT_MAX_BYTES, Rejected
from alerts.ingest import DEAD_LETTERS_MAXLEN, PubSubIngest, StreamIngest

log = logging.getLogger(__name__)


@dataclass
class AssetBatchResult:
    written: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)  # (via, reason)


class AssetPipeline:
    """Decode, merge, store, dead-letter (the interface ``StreamIngest`` and ``PubSubIngest`` drive)."""

    def __init__(self, store: AssetStore, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.max_bytes = max_bytes
        self.clock = clock

    def process(self, payloads: list[tuple[str, bytes]]) -> AssetBatchResult:
        result = AssetBatchResult()
        dead: list[tuple[str, bytes, str]] = []
        whole: dict[str, Asset] = {}
        for via, raw in payloads:
            try:
                message = decode_asset_message(raw, self.max_bytes)
            except Rejected as exc:
                dead.append((via, raw, exc.reason))
                continue
            except Exception as exc:  # a bug must not lose the payload
                log.exception("unexpected error decoding an asset payload")
                dead.append((via, raw, f"internal error while decoding: {type(exc).__name__}: {exc}"))
                continue
            if isinstance(message, Asset):
                whole[message.id] = message
                continue
            if whole:  # keep the order: whole assets before this update are written first
                self.store.put_many(whole.values())
                result.written += list(whole)
                whole = {}
            try:
                outcome = self._update(message)
            except Exception as exc:
                log.exception("could not apply an asset update")
                dead.append((via, raw, f"could not apply the update: {type(exc).__name__}: {exc}"))
                continue
            if outcome is None:
                dead.append((via, raw, f"unknown asset {message.id!r}: import it first or send the whole asset"))
            elif outcome:
                result.written.append(message.id)
            else:
                result.stale.append(message.id)
        if whole:
            self.store.put_many(whole.values())
            result.written += list(whole)
        if dead:
            self.dead_letter(dead)
            result.dead = [(via, reason) for via, _, reason in dead]
        return result

    def _update(self, update: AssetUpdate) -> bool | None:
        """True: applied; False: stale (skipped); None: no such asset."""
        now = self.clock()
        changed = self.store.change(update.id, lambda current: apply_update(current, update, now))
        if changed is None:
            return None
        before, after = changed
        return after is not before

    def dead_letter(self, dead: list[tuple[str, bytes, str]]) -> None:
        pipe = self.store.client.pipeline(transaction=False)
        at = self.clock().isoformat()
        for via, raw, reason in dead:
            pipe.xadd(self.store.keys.assets_dead, {"payload": raw, "reason": reason, "via": via, "at": at},
                      maxlen=DEAD_LETTERS_MAXLEN, approximate=True)
        pipe.execute()


def asset_stream_ingest(pipeline: AssetPipeline, **kwargs) -> StreamIngest:
    keys = pipeline.store.keys
    return StreamIngest(pipeline, inbox=keys.assets_inbox, group=keys.assets_ingest_group, **kwargs)  # type: ignore[arg-type]


def asset_channel_ingest(pipeline: AssetPipeline, **kwargs) -> PubSubIngest:
    return PubSubIngest(pipeline, channel=pipeline.store.keys.assets_channel, **kwargs)  # type: ignore[arg-type]


def send_assets(client, keys, payloads, stream: bool = True) -> int:
    """Send asset payloads to ingest (the inbox stream, or the channel)."""
    pipe = client.pipeline(transaction=False)
    for payload in payloads:
        if stream:
            pipe.xadd(keys.assets_inbox, {"payload": payload}, maxlen=1_000_000, approximate=True)
        else:
            pipe.publish(keys.assets_channel, payload)
    return len(pipe.execute())
