"""The web server process: uvicorn's server, made to end the live streams first when it stops.

uvicorn's shutdown (``uvicorn.Server.shutdown``) stops accepting connections, then waits up to
``timeout_graceful_shutdown`` for every open request to finish, then cancels what is left (logging an
ERROR and a traceback per cancelled task). A live stream never finishes by itself, so a server with open
map tabs always hit that timeout. ``Server`` calls ``on_stop`` (the app's ``StreamLimits.end_all``) before
uvicorn's shutdown begins: every stream ends at once, its browser reconnects to whichever server answers
next, and the shutdown is clean.
"""
from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn


class Server(uvicorn.Server):
    """``uvicorn.Server`` that calls ``on_stop()`` as it starts to shut down (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], object]):
        super().__init__(config)
        self._on_stop = on_stop

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """End the live streams, then shut down as uvicorn does."""
        self._on_stop()
        await super().shutdown(sockets=sockets)


def serve_app(app, on_stop: Callable[[], object], **options) -> None:
    """Run ``app`` (ASGI) with uvicorn ``options`` (``uvicorn.Config`` keywords) until SIGINT/SIGTERM."""
    Server(uvicorn.Config(app, **options), on_stop).run()
