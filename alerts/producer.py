"""Sending raw alert payloads to ingest: the channel (at-most-once) or the inbox stream (durable)."""
from __future__ import annotations

from collections.abc import Iterable

import redis

from alerts.keys import Keys

INBOX_MAXLEN = 1_000_000


def send_to_stream(client: redis.Redis, keys: Keys, payloads: Iterable[bytes | str]) -> list[str]:
    """XADD each payload to the inbox stream (field ``payload``); returns the entry ids."""
    pipe = client.pipeline(transaction=False)
    for payload in payloads:
        pipe.xadd(keys.inbox, {"payload": payload}, maxlen=INBOX_MAXLEN, approximate=True)
    return [i.decode() if isinstance(i, bytes) else i for i in pipe.execute()]


def send_to_channel(client: redis.Redis, keys: Keys, payloads: Iterable[bytes | str]) -> int:
    """PUBLISH each payload on the alerts channel; returns how many ingest workers heard the last one."""
    pipe = client.pipeline(transaction=False)
    for payload in payloads:
        pipe.publish(keys.alerts_channel, payload)
    replies = pipe.execute()
    return int(replies[-1]) if replies else 0
