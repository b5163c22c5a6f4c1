"""Who a CoT listener reads, and how fast: connection slots and byte budgets (``Limits``).

- **Slots.** Each endpoint (``tcp``, ``tls``) serves at most ``Limits.max_connections`` open connections,
  and at most ``Limits.max_per_address`` from one client address. A connection over either limit waits,
  unread, up to ``Limits.slot_wait`` seconds for a slot (TAK's one-shot senders behind one NAT address: what
  they sent stays in the kernel's buffers and is read once a slot frees), then is refused; as many as
  ``max_connections`` may wait per endpoint, one more is refused at once. A TLS connection holds its slot
  from its accept, handshake included.
- **Byte budgets.** What one client address may send an endpoint, and all of its clients together, per
  second (``Limits.address_bytes_per_second``, ``endpoint_bytes_per_second``; leaky buckets of
  ``aiolimiter``): a stream over budget is read no further until the budget allows (back-pressure: nothing
  read is lost); a UDP datagram over budget is refused. An address's budget outlives its connections (a
  reconnect does not begin with a fresh second's worth); past ``BUDGETS_KEPT`` addresses the idle ones, whose
  budget is full again, are forgotten (a new one is the same).

Made per run of the listener's event loop (its events and limiters belong to that loop). Plain TCP and UDP
are unauthenticated: these bound how many connections and how many bytes a second anyone can make the
listener store, not the total.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter

from alerts.ingest.tak.connection import Limits

#: Client addresses' byte budgets kept before the idle ones are forgotten.
BUDGETS_KEPT = 4096


class Admission:
    """The slots and byte budgets of one listener run (see the module docstring)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._open: Counter[tuple[str, str]] = Counter()  # open connections by (endpoint, "") and (endpoint, address)
        self._waiting: Counter[str] = Counter()  # connections waiting for a slot, by endpoint
        self._freed = asyncio.Event()  # set (and replaced) whenever a connection ends: a slot is free
        #: Byte budgets by (endpoint, address), (endpoint, "") for the whole endpoint.
        self._budgets: dict[tuple[str, str], AsyncLimiter] = {}

    @property
    def open_connections(self) -> dict[str, int]:
        """Open connections by endpoint (``tcp``, ``tls``)."""
        return {via: count for (via, host), count in list(self._open.items()) if host == "" and count}

    def counts(self, via: str, host: str) -> tuple[int, int]:
        """Open connections on ``via``, and from ``host`` on it (for a refusal's message)."""
        return self._open[(via, "")], self._open[(via, host)]

    async def enter(self, via: str, host: str) -> bool:
        """Whether a new connection from ``host`` on ``via`` may be served: a slot free now, or within
        ``Limits.slot_wait`` while it waits unread. True takes the slot (``leave`` gives it back)."""
        slots = ((via, ""), (via, host))

        def free() -> bool:
            return (self._open[slots[0]] < self.limits.max_connections
                    and self._open[slots[1]] < self.limits.max_per_address)

        if not free():
            if self._waiting[via] >= self.limits.max_connections:
                return False
            self._waiting[via] += 1
            deadline = asyncio.get_running_loop().time() + self.limits.slot_wait
            try:
                while not free():
                    left = deadline - asyncio.get_running_loop().time()
                    if left <= 0:
                        return False
                    try:
                        await asyncio.wait_for(self._freed.wait(), left)
                    except TimeoutError:
                        return False
            finally:
                self._waiting[via] -= 1
        self._open.update(slots)  # (no await since free() said so: the slot is this connection's)
        return True

    def leave(self, via: str, host: str) -> None:
        """Give back the slot ``enter`` took; whoever waits for one looks again."""
        slots = ((via, ""), (via, host))
        self._open.subtract(slots)
        if not self._open[slots[1]]:
            del self._open[slots[1]]  # no count kept for an address with nothing open (its budget is kept)
        freed, self._freed = self._freed, asyncio.Event()
        freed.set()

    def budget(self, via: str, host: str) -> Callable[[int], Awaitable[None]]:
        """A stream's byte budget for a client at ``host`` on ``via`` (``pump``'s ``budget``): returns once
        the bytes are within its address's budget, then the endpoint's."""
        async def spend(size: int) -> None:
            await self._limiter((via, host)).acquire(size)
            await self._limiter((via, "")).acquire(size)
        return spend

    async def datagram(self, host: str, size: int) -> bool:
        """Whether a UDP datagram of ``size`` bytes from ``host`` is within the byte budgets (spent if so)."""
        own, endpoint = self._limiter(("udp", host)), self._limiter(("udp", ""))
        if not (own.has_capacity(size) and endpoint.has_capacity(size)):
            return False
        await own.acquire(size)  # (at once: there is room)
        await endpoint.acquire(size)
        return True

    def _limiter(self, key: tuple[str, str]) -> AsyncLimiter:
        if (limiter := self._budgets.get(key)) is None:
            if len(self._budgets) > BUDGETS_KEPT:  # (senders are many, UDP's spoofable)
                self._budgets = {k: v for k, v in self._budgets.items()
                                 if k[1] == "" or not v.has_capacity(v.max_rate)}
            rate = self.limits.endpoint_bytes_per_second if key[1] == "" else self.limits.address_bytes_per_second
            limiter = self._budgets[key] = AsyncLimiter(rate, 1.0)
        return limiter
