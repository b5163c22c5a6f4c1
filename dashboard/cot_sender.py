"""Streams our incidents as CoT events over TCP to a TAK server or client.

On (re)connect it sends every open incident released to the configured nation,
then each new or changed one as it appears on the events stream. A dropped
connection is retried with back-off; what changed meanwhile is sent after the
reconnect (the sender resumes from the last event it read).
"""
from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime

import redis

from alerts.cot_out import event_bytes
from alerts.query import AlertQuery
from alerts.store import AlertStore, parse_event

log = logging.getLogger(__name__)


class CotSender:
    def __init__(self, store: AlertStore, host: str, port: int, nation: str, *, default_to_source: bool = True):
        self.store = store
        self.address = (host, port)
        self.query = AlertQuery(status="open", nation=nation.upper(), default_to_source=default_to_source)
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
        cursor = self.store.last_event_id()
        for stored in self.store.all_alerts():
            if self.query.matches(stored):
                self._send(connection, stored)
        while not stop.is_set():
            reply = self.store.client.xread({self.store.keys.events: cursor}, count=500, block=1000)
            for event_id, fields in (reply[0][1] if reply else []):
                event = parse_event(event_id, fields)
                cursor = event.event_id
                if self.query.matches(event.alert):
                    self._send(connection, event.alert)

    def _send(self, connection: socket.socket, stored) -> None:
        connection.sendall(event_bytes(stored, datetime.now(UTC)) + b"\n")
        self.sent += 1
