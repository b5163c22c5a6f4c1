"""Streams our incidents as CoT events over TCP to a TAK server or client.

On (re)connect it sends every open incident and every response asset released
to the configured nation, then each new or changed one as it appears on the
alert and asset events streams. A dropped
connection is retried with back-off; what changed meanwhile is sent after the
reconnect (the sender resumes from the last event it read).
"""
from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime

import redis

from alerts.asset_store import AssetStore, parse_asset_event
from alerts.cot_out import event_bytes
from alerts.query import AlertQuery
from alerts.store import AlertStore, parse_event

log = logging.getLogger(__name__)


class CotSender:
    def __init__(self, store: AlertStore, host: str, port: int, nation: str, *, default_to_source: bool = True):
        self.store = store
        self.address = (host, port)
        self.query = AlertQuery(status="open", nation=nation.upper(), default_to_source=default_to_source)
        self.assets = AssetStore(store.client, store.keys)
        self.sent = 0

    def run(self, stop: threading.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                with socket.create_connection(self.address, timeout=10) as connection:
                    delay = 0.5
                    self._stream(connection, stop)
            except (OSError, redis.RedisError) as exc:
                log.warning("CoT sender: %s; retrying in %.1fs", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _stream(self, connection: socket.socket, stop: threading.Event) -> None:
        keys = self.store.keys
        cursors = {keys.events: self.store.last_event_id(), keys.assets_events: self.assets.last_event_id()}
        for stored in self.store.all_alerts():
            if self.query.matches(stored):
                self._send(connection, stored)
        for asset in self.assets.all():
            if asset.visible_to(self.query.nation):
                self._send(connection, asset)
        while not stop.is_set():
            for stream, entries in self.store.client.xread(cursors, count=500, block=1000) or []:
                stream = stream.decode() if isinstance(stream, bytes) else stream
                for event_id, fields in entries:
                    if stream == keys.events:
                        event = parse_event(event_id, fields)
                        if self.query.matches(event.alert):
                            self._send(connection, event.alert)
                    else:
                        asset = parse_asset_event(event_id, fields).asset
                        if asset.visible_to(self.query.nation):
                            self._send(connection, asset)
                    cursors[stream] = event_id

    def _send(self, connection: socket.socket, item) -> None:
        connection.sendall(event_bytes(item, datetime.now(UTC)) + b"\n")
        self.sent += 1
