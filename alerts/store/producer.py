"""Sending raw payloads to ingest: the channel (at-most-once) or the inbox stream (durable).

Alerts go to ``{p}:alerts`` / ``{p}:alerts:inbox``, assets to ``{p}:assets`` /
``{p}:assets:inbox`` (field ``payload``; a message from a network listener also
carries ``feed``, the name of the feed it came in on). The inbox streams are capped at about
``INBOX_MAXLEN`` entries.
"""
from __future__ import annotations

from collections.abc import Iterable

from alerts.store.client import Client, is_cluster_client, server_of, text
from alerts.store.inbox import NotReplicated
from alerts.store.keys import Keys

INBOX_MAXLEN = 1_000_000


def _xadd_all(client: Client, stream: str, payloads: Iterable[bytes | str], **tags: str) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for payload in payloads:
        pipe.xadd(stream, {"payload": payload, **tags}, maxlen=INBOX_MAXLEN, approximate=True)
    return [text(i) for i in pipe.execute()]


def _publish_all(client: Client, channel: str, payloads: Iterable[bytes | str]) -> int:
    if is_cluster_client(client):  # a cluster pipeline refuses PUBLISH (redis-py): one at a time
        replies = [client.publish(channel, payload) for payload in payloads]
    else:
        pipe = client.pipeline(transaction=False)
        for payload in payloads:
            pipe.publish(channel, payload)
        replies = pipe.execute()
    return int(replies[-1]) if replies else 0


def send_to_stream(client: Client, keys: Keys, payloads: Iterable[bytes | str], wait_replicas: int = 0,
                   wait_timeout_ms: int = 1000) -> list[str]:
    """XADD each alert payload to the inbox stream; returns the entry ids.

    With ``wait_replicas`` above 0 the entries are added and ``WAIT wait_replicas wait_timeout_ms`` sent on
    one connection (one pipeline, on a cluster to the inbox's primary), so its reply counts the replicas
    that hold them: fewer raises ``alerts.store.inbox.NotReplicated`` (the entries are on the primary and
    may be lost with it in a failover; sending them again is safe, an alert id is recorded once). Source:
    Redis ``WAIT`` (docs/ha.md, "What a failover can lose")."""
    if not wait_replicas:
        return _xadd_all(client, keys.inbox, payloads)
    pipe = server_of(client, keys.inbox).pipeline(transaction=False)
    for payload in payloads:
        pipe.xadd(keys.inbox, {"payload": payload}, maxlen=INBOX_MAXLEN, approximate=True)
    pipe.execute_command("WAIT", wait_replicas, wait_timeout_ms)
    *ids, reached = pipe.execute()
    if int(reached) < wait_replicas:
        raise NotReplicated(f"{int(reached)} of {wait_replicas} replica(s) (CRISIS_WAIT_REPLICAS) confirmed the "
                            f"{len(ids)} entries within {wait_timeout_ms} ms: they are on the primary only; send "
                            "them again once the replicas are back (an alert id is recorded once)")
    return [text(i) for i in ids]


def send_from_feed(client: Client, keys: Keys, payloads: Iterable[bytes], feed: str) -> list[str]:
    """XADD each raw message a listener framed to the alert inbox stream, tagged ``feed`` (the feed's name);
    returns the entry ids. Raises what the client raises (``alerts.store.client.UNAVAILABLE`` when Redis is
    unreachable or slower than the client's timeout: the caller retries, at least once)."""
    return _xadd_all(client, keys.inbox, payloads, feed=feed)


def send_to_channel(client: Client, keys: Keys, payloads: Iterable[bytes | str]) -> int:
    """PUBLISH each alert payload on the alerts channel; returns how many ingest workers heard the last one."""
    return _publish_all(client, keys.alerts_channel, payloads)


def forward_assets(client: Client, keys: Keys, payloads: Iterable[tuple[str | None, bytes]]) -> list[str]:
    """XADD position reports alert ingest met to the asset inbox stream, each ``(feed, raw)`` tagged with the
    feed of the listener it arrived on (None: untagged); returns the entry ids."""
    pipe = client.pipeline(transaction=False)
    for feed, payload in payloads:
        pipe.xadd(keys.assets_inbox, {"payload": payload, **({"feed": feed} if feed else {})},
                  maxlen=INBOX_MAXLEN, approximate=True)
    return [text(i) for i in pipe.execute()]


def send_assets(client: Client, keys: Keys, payloads: Iterable[bytes | str], stream: bool = True) -> int:
    """Send asset payloads to ingest (the asset inbox stream, or the asset channel); returns how many."""
    payloads = list(payloads)
    if stream:
        _xadd_all(client, keys.assets_inbox, payloads)
    else:
        _publish_all(client, keys.assets_channel, payloads)
    return len(payloads)
