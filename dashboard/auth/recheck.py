"""Re-checking the caller of a long-lived request (a live stream) while it runs.

A live stream is authorised once, when it opens; ``Recheck`` lets it ask
again cheaply every few seconds. Accounts bump one counter on every change
that can end or narrow access (``alerts.store.accounts.Accounts.generation``:
disable, token revocation, sign-out, a change of role, nation or clearance);
only when it moved (or every ``FULL_EVERY_SECONDS``, for sessions that simply
expired) are the request's credentials identified again. The caller is still
authorised only if they name the same user with the same role, nation and
clearance: anything else closes the stream, and the page reloads under its
new rights (or goes to sign-in).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from alerts.core.viewer import Viewer
from dashboard.auth.middleware import identify
from dashboard.services import Services

#: How often a live stream asks (seconds): the longest a revoked caller keeps receiving.
RECHECK_SECONDS = 2.0
#: How often the credentials are identified again even if nothing changed (seconds).
FULL_EVERY_SECONDS = 60.0


class Recheck:
    """``await recheck()`` is True while the request's caller is still ``viewer`` (see the module docstring)."""

    def __init__(self, services: Services, scope, viewer: Viewer, clock: Callable[[], float] = time.monotonic):
        self.services = services
        self.scope = scope
        self.viewer = viewer
        self.clock = clock
        self.generation: int | None = None
        self.checked_at = clock()

    def _still(self) -> bool:
        generation = self.services.accounts.generation()
        if generation == self.generation and self.clock() - self.checked_at < FULL_EVERY_SECONDS:
            return True
        found = identify(self.services, self.scope)
        self.generation, self.checked_at = generation, self.clock()
        return found is not None and found[0] == self.viewer

    async def __call__(self) -> bool:
        return await asyncio.to_thread(self._still)
