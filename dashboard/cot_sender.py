"""Streams our incidents as CoT events over TCP to a TAK server or client (``crisisdash cot send``).

What is sent is ``alerts.actions.cot_picture.CotPicture`` for the configured
user (its nation's releasability and its clearance): on (re)connect every
open incident and response asset the user may see, then every change to one
(updates, closures as a stale event and a TAK deletion, withdrawals). A
dropped connection is retried with back-off; after the reconnect the open
incidents are sent again and then everything that changed since the last
event read before the drop, closures included.

The user is authorised again all along (``authorised``, asked before the first
event and every second or so): once it is disabled, or its role, nation or
clearance changes, the sender stops (``Revoked``) and the command exits, so a
TAK feed never outlives its user's rights (the same rule as the live streams).
"""
from __future__ import annotations

import logging
import select
import socket
import threading
from collections.abc import Callable

from alerts.actions.centre import Centre
from alerts.actions.cot_picture import CotPicture, Revoked
from alerts.core.viewer import Viewer
from alerts.store.client import UNAVAILABLE, Client
from alerts.store.keys import Keys

log = logging.getLogger(__name__)

__all__ = ["CotSender", "Revoked"]


class CotSender:
    """One TCP connection's worth of CoT for the incidents and assets ``viewer`` may see; ``authorised()``
    says whether that is still so (default: always)."""

    def __init__(self, centre: Centre, client: Client, keys: Keys, host: str, port: int, viewer: Viewer,
                 authorised: Callable[[], bool] = lambda: True):
        self.address = (host, port)
        self.viewer = viewer
        self.picture = CotPicture(centre, client, keys, viewer, authorised)

    @property
    def sent(self) -> int:
        """Events sent so far (all connections)."""
        return self.picture.sent

    def run(self, stop: threading.Event) -> None:
        """Connect, send, follow; reconnect with back-off (0.5 s doubling to 10 s) until ``stop``.

        Raises ``Revoked`` as soon as the user may no longer receive the feed."""
        delay = 0.5
        while not stop.is_set():
            self.picture.check()
            try:
                with socket.create_connection(self.address, timeout=10) as connection:
                    delay = 0.5

                    def send(data: bytes) -> None:
                        self._check_open(connection)
                        connection.sendall(data)
                    self.picture.stream(send, stop)
            except (OSError, *UNAVAILABLE) as exc:
                log.warning("CoT sender: %s; retrying in %.1fs", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 10.0)

    @staticmethod
    def _check_open(connection: socket.socket) -> None:
        """Raise ``ConnectionResetError`` if the peer closed the connection (what it sent us is discarded).

        A write to a closed connection can still succeed once, so the events
        written after the close would be lost: the sender looks before it writes.
        """
        while select.select([connection], [], [], 0)[0]:
            if not connection.recv(65536):
                raise ConnectionResetError("the TAK peer closed the connection")
