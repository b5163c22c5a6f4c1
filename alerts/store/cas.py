"""The one compare-and-set loop: read a record, compute its new form, write it only if unchanged.

Used for every change that depends on the current record (an alert closed by
a later message, a status advanced, an asset moved or tasked), so two writers
never undo each other: the loser reads again and retries.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
ATTEMPTS = 20


class KeptChanging(RuntimeError):
    """The record changed under every one of ``ATTEMPTS`` attempts."""


def compare_and_set(read: Callable[[], bytes | None], parse: Callable[[bytes], T],
                    change: Callable[[T], T | None], write: Callable[[T, bytes], bool],
                    what: str) -> tuple[T, T] | None:
    """Apply ``change`` to the current record atomically.

    ``read()`` gives the raw record (None: there is none); ``write(new, raw)``
    stores ``new`` only if the record is still ``raw`` and says whether it did.
    ``change`` may raise to refuse, or return None to leave the record alone.
    Returns ``(before, after)`` (``after is before`` when nothing changed), or
    None when there is no record; raises ``KeptChanging`` naming ``what``.
    """
    for _ in range(ATTEMPTS):
        raw = read()
        if raw is None:
            return None
        before = parse(raw)
        after = change(before)
        if after is None:
            return before, before
        if write(after, raw):
            return before, after
    raise KeptChanging(f"{what} kept changing; gave up after {ATTEMPTS} attempts")


# KEYS[1] a hash; ARGV[1] field, ARGV[2] expected value, ARGV[3] new value.
_HASH_SWAP = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


class HashRecords:
    """Records kept as JSON in one field each of a Redis hash, changed by ``compare_and_set``: the write
    is one script that sets the field only if it still holds what was read (releasability requests,
    exercises)."""

    def __init__(self, client, key: str, parse: Callable[[bytes], T], what: str):
        self.client = client
        self.key = key
        self.parse = parse
        self.what = what
        self._swap = client.register_script(_HASH_SWAP)

    def change(self, field: str, change: Callable[[T], T | None]) -> tuple[T, T] | None:
        """Apply ``change`` to the record in ``field`` atomically; ``(before, after)``, None if there is none.
        The record type serialises with ``model_dump_json`` (pydantic)."""
        return compare_and_set(
            read=lambda: self.client.hget(self.key, field),
            parse=self.parse,
            change=change,
            write=lambda after, raw: bool(self._swap(keys=[self.key], args=[field, raw, after.model_dump_json()])),
            what=f"{self.what} {field!r}",
        )
