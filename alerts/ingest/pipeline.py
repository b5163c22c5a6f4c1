"""The contract of an ingest pipeline, shared by alert and asset ingest.

A pipeline takes a batch of ``(via, raw payload)`` (``via``: ``stream``,
``channel``, or ``feed:<name>`` for a stream entry a listener tagged) and guarantees that every
payload ends in exactly one place: accepted (stored), a duplicate or stale
copy of something stored (counted), or a dead letter with the raw payload and
the reason. It raises for no input: only a store that cannot be reached
escapes (``alerts.store.client.UNAVAILABLE``), so the worker retries the whole
batch, which is idempotent. ``decode_each`` is the per-message isolation both
pipelines use: whatever one decoder raises stays with that one payload.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from alerts.formats.errors import ForAssets, Rejected
from alerts.formats.payload import DEFAULT_MAX_BYTES
from alerts.store.dead_letters import DeadLetter, DeadLetters

log = logging.getLogger(__name__)

#: The ``via`` of a payload whose inbox entry carries the exercise scheduler's verified mark
#: (``alerts.store.inject_marks``): only these may be an exercise's injects.
INJECT_VIA = "inject"
#: The ``via`` of a stream entry a network listener tagged with its feed: ``feed:<name>`` (else ``stream``).
FEED_VIA = "feed:"

T = TypeVar("T")


@dataclass
class BatchResult(Generic[T]):
    """Where each payload of a batch ended (``accepted`` holds the stored records)."""

    accepted: list[T] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # ids stored before (alerts)
    stale: list[str] = field(default_factory=list)  # ids of updates older than the record (assets)
    dead: list[tuple[str, str]] = field(default_factory=list)  # (via, reason)
    forwarded: int = 0  # asset messages handed to asset ingest (CoT position reports on the alert inbox)


class Pipeline(Protocol):
    """What a worker drives."""

    def process(self, payloads: list[tuple[str, bytes]]) -> BatchResult:
        """Handle a batch; see the module docstring for the guarantee."""

    def dead_letter(self, letters: list[DeadLetter]) -> None:
        """Keep payloads that cannot be handled (e.g. malformed stream entries), with reasons."""


def utc_now() -> datetime:
    """The current time, UTC (the default clock)."""
    return datetime.now(UTC)


class DeadLettering:
    """What both pipelines share: where refused payloads go, the size limit, the clock (injectable)."""

    def __init__(self, dead_letters: DeadLetters, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], datetime] = utc_now):
        self.dead_letters = dead_letters
        self.max_bytes = max_bytes
        self.clock = clock

    def dead_letter(self, letters: list[DeadLetter]) -> None:
        """Keep refused payloads in the dead-letter stream with their reasons, stamped now."""
        self.dead_letters.add(letters, self.clock())


def arrived_on(via: str) -> str | None:
    """The feed of the listener a payload arrived on (``via`` ``feed:<name>``), else None."""
    return via.removeprefix(FEED_VIA) if via.startswith(FEED_VIA) else None


def decode_each(payloads: list[tuple[str, bytes]], decode: Callable[[str, bytes], T],
                dead: list[DeadLetter], for_assets: list[tuple[str, bytes]] | None = None
                ) -> Iterator[tuple[str, bytes, T]]:
    """``(via, raw, decoded)`` for each payload ``decode(via, raw)`` accepts, in order; the others are
    appended to ``dead`` as they come (so dead letters keep the arrival order too), except that
    the ``(via, raw)`` payloads refused as ``ForAssets`` go to ``for_assets`` when it is given.

    ``Rejected`` gives its reason; any other exception is a decoder bug,
    logged, and dead-lettered as an internal error, never lost.
    """
    for via, raw in payloads:
        try:
            decoded = decode(via, raw)
        except ForAssets as exc:
            if for_assets is not None:
                for_assets.append((via, raw))
            else:
                dead.append(DeadLetter(via, raw, exc.reason))
            continue
        except Rejected as exc:
            dead.append(DeadLetter(via, raw, exc.reason))
            continue
        except Exception as exc:  # noqa: BLE001  a bug must not lose the payload either
            log.exception("unexpected error decoding a payload")
            dead.append(DeadLetter(via, raw, f"internal error while decoding: {type(exc).__name__}: {exc}"))
            continue
        yield via, raw, decoded
