"""Dead-letter streams: every refused payload, kept with the reason, how it came and when.

Each entry: ``payload`` (the raw bytes as received), ``reason`` (why it was
refused), ``via`` (``stream``, ``channel``, ``placement``...), ``at`` (ISO 8601
UTC). The streams are capped at about ``DEAD_LETTERS_MAXLEN`` entries.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from alerts.store.client import Client

DEAD_LETTERS_MAXLEN = 1_000_000


@dataclass(frozen=True)
class DeadLetter:
    """A refused payload and why (``via``: which way it came in)."""

    via: str
    payload: bytes
    reason: str


class DeadLetters:
    """One dead-letter stream (``{p}:alerts:dead`` or ``{p}:assets:dead``)."""

    def __init__(self, client: Client, stream: str):
        self.client = client
        self.stream = stream

    def add(self, letters: Iterable[DeadLetter], at: datetime) -> int:
        """Append each letter, stamped ``at``; returns how many were written (one round trip)."""
        pipe = self.client.pipeline(transaction=False)
        stamp = at.isoformat()
        for letter in letters:
            pipe.xadd(self.stream, {"payload": letter.payload, "reason": letter.reason, "via": letter.via,
                                    "at": stamp}, maxlen=DEAD_LETTERS_MAXLEN, approximate=True)
        return len(pipe.execute())
