"""``PasswordChecks``: the sign-in work (Redis and argon2) in its own small, bounded pool.

Each sign-in runs an argon2 hash check (deliberately slow: tens of
milliseconds of CPU and 64 MiB-class memory), also for unknown names and past
the global limit. Run in the thread pool that authenticates every request (and
serves the live streams' re-checks), a flood of anonymous wrong sign-ins would
make every signed-in user wait behind it. So sign-ins get their own pool of
``size`` threads (``CRISIS_LOGIN_CHECKS``) and at most ``size`` more may wait
for it; a sign-in that finds the pool and its queue full is refused at once
(``busy``: 503 with ``Retry-After``), before anything is counted or checked.
Authenticated traffic never waits behind anonymous password checks.

A sign-in that carries a device cookie validly signed for the name it posts
(``alerts.store.devices``: a browser this user signed in with; the signature
is checked on the event loop, no Redis) runs in a second lane of the same
size, so a flood of sign-ins from unknown clients cannot take the slots of
users' own browsers (OWASP device cookies: trusted clients keep their
access). Only a real device cookie reaches that lane, and each device is
locked after ``CRISIS_LOGIN_MAX_FAILURES`` failures, so its work stays small.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every sign-in slot (running and waiting) is taken: refuse the sign-in now."""


class _Lane:
    """``size`` threads, and ``size`` more waiting at most."""

    def __init__(self, size: int, name: str):
        self._slots = threading.BoundedSemaphore(2 * size)
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)

    async def run(self, work: Callable[..., T], *args) -> T:
        if not self._slots.acquire(blocking=False):
            raise Busy
        try:
            future = self._pool.submit(self._held, work, *args)
        except RuntimeError:  # shut down
            self._slots.release()
            raise
        return await asyncio.wrap_future(future)

    def _held(self, work: Callable[..., T], *args) -> T:
        """Run ``work``, then give its slot back (here, not in ``run``: a client that hangs up does not free a
        slot while its check still runs)."""
        try:
            return work(*args)
        finally:
            self._slots.release()

    def close(self) -> None:
        self._pool.shutdown(wait=False)


class PasswordChecks:
    """Two lanes of ``size`` threads, each with ``size`` more waiting at most: one for sign-ins from known
    devices, one for everyone else (see the module)."""

    def __init__(self, size: int = 4):
        if size < 1:
            raise ValueError("CRISIS_LOGIN_CHECKS must be at least 1")
        self.size = size
        self._anyone = _Lane(size, "sign-in")
        self._known = _Lane(size, "sign-in-known")

    async def run(self, work: Callable[..., T], *args, known: bool = False) -> T:
        """``work(*args)`` in the lane of known devices (``known``) or of anyone, awaited; raises ``Busy`` at
        once when every slot of that lane is taken."""
        return await (self._known if known else self._anyone).run(work, *args)

    def close(self) -> None:
        """Stop the lanes' threads once their work is done."""
        self._anyone.close()
        self._known.close()
