"""``crisisdash cot listen`` and ``crisisdash cot subscribe``: take CoT from TAK devices and TAK servers.

- ``cot listen [--tcp-port 8087] [--udp ADDR:PORT] [--tls-port 8089 --certfile F --keyfile F --cafile F]
  [--offer-protobuf] --feed NAME``: the CoT listener (``alerts.ingest.tak.listener``) until SIGINT/SIGTERM;
  when the feed has ``outbound = true`` its TCP and TLS clients also receive the centre's picture
  (``dashboard.cot_outbound``).
- ``cot subscribe --host HOST --port PORT [--tls --cafile F --certfile F --keyfile F] [--hello FILE] --feed NAME``: the TAK
  server bridge (``alerts.ingest.tak.subscriber``), reconnecting by itself, until SIGINT/SIGTERM.

Both put every message on the durable inbox stream of the deployment (``--redis-url``, else the embedded
Valkey of a running ``crisisdash serve``), tagged with ``--feed``, which must name a ``[[feeds]]`` entry of
the registry (``CRISIS_FEEDS``): an unknown name, a missing TLS file or a bad address exits with status 2
before anything listens or connects.
"""
from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from pathlib import Path

from dashboard.cli_common import running_settings


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _feeds(settings):
    from alerts.core.feeds import FeedFileError
    from dashboard.services import load_feeds

    try:
        return load_feeds(settings)
    except FeedFileError as exc:
        raise SystemExit(f"bad feed registry: {exc}") from None


def cmd_listen(args: argparse.Namespace) -> int:
    """Run the CoT listener until SIGINT/SIGTERM; 2 when the feed, an address or a TLS file is wrong."""
    from alerts.ingest.tak.listener import parse_address
    from dashboard.cot_listener import ListenSpec, build_listener
    from dashboard.services import build_services, producer_client

    settings = running_settings(args)
    try:
        spec = ListenSpec(args.feed, tcp=(args.bind, args.tcp_port) if args.tcp_port is not None else None,
                          tls=(args.bind, args.tls_port) if args.tls_port is not None else None,
                          udp=parse_address(args.udp) if args.udp else None,
                          certfile=args.certfile, keyfile=args.keyfile, cafile=args.cafile,
                          offer_protobuf=args.offer_protobuf)
        feeds = _feeds(settings)
        feed = feeds.get(args.feed)
        if feed is not None and feed.outbound:  # its clients receive the centre's picture: the full services
            services = build_services(settings, feeds=feeds)
            listener = build_listener(spec, settings, services.client, feeds, services.centre)
        else:
            listener = build_listener(spec, settings, producer_client(settings), feeds)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = _stop_on_signals()
    thread = threading.Thread(target=listener.run, args=(stop,), name="cot-listener", daemon=True)
    thread.start()
    while not listener.ready.wait(0.2):
        if not thread.is_alive():
            return 1  # binding failed (the error is logged by the thread)
    print(f"listening for CoT on {listener.ports} for feed {args.feed}", flush=True)
    gc.freeze()  # what start-up made lives until the end: no collection scans it again, nor at exit
    stop.wait()
    thread.join(timeout=10)
    print(f"stopped: {listener.counters}", flush=True)
    return 0


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Run the TAK server bridge until SIGINT/SIGTERM; 2 when the feed or a TLS file is wrong."""
    import ssl
    from datetime import UTC, datetime

    from alerts.formats.cot.encode import restamped
    from alerts.formats.errors import Rejected
    from alerts.ingest.tak.inbox import InboxWriter
    from alerts.ingest.tak.subscriber import TakSubscriber, client_tls_context
    from alerts.store.keys import Keys
    from dashboard.cot_listener import check_feed, limits_of
    from dashboard.services import producer_client

    settings = running_settings(args)
    try:
        feed = check_feed(_feeds(settings), args.feed)
        tls = client_tls_context(args.cafile, args.certfile, args.keyfile) if args.tls else None
        hello = args.hello.read_bytes() if args.hello else None
        if hello is not None:
            restamped(hello, datetime.now(UTC))  # refused now, not on every connection
    except Rejected as exc:
        print(f"error: --hello {args.hello}: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError, ssl.SSLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    inbox = InboxWriter(producer_client(settings), Keys(settings.prefix), feed)
    bridge = TakSubscriber(inbox, args.host, args.port, tls=tls, limits=limits_of(settings),
                           backoff=settings.restart_backoff_seconds, backoff_max=settings.restart_backoff_max_seconds, hello=hello)
    print(f"taking CoT from TAK server {args.host}:{args.port} for feed {feed}", flush=True)
    bridge.run(_stop_on_signals())
    print(f"stopped: {bridge.counters}", flush=True)
    return 0


def add_parsers(cot_sub, common) -> None:
    """Add ``listen`` and ``subscribe`` to the ``cot`` command's subparsers (``common``: the Redis options)."""
    listen = cot_sub.add_parser("listen", help="take CoT from TAK clients over TCP, UDP and TLS into the inbox")
    common(listen)
    listen.add_argument("--tcp-port", type=int, help="plain TCP port (TAK's convention: 8087)")
    listen.add_argument("--udp", metavar="ADDR:PORT",
                        help="UDP address, unicast or multicast (TAK's SA convention: 239.2.3.1:6969)")
    listen.add_argument("--tls-port", type=int, help="TLS port, client certificates required (convention: 8089)")
    listen.add_argument("--offer-protobuf", action="store_true",
                        help="announce TAK protocol v1 on connect, so TAK clients switch to protobuf (a client "
                             "that sends and closes without reading then loses what was not yet read)")
    listen.add_argument("--bind", default="0.0.0.0", help="address the TCP and TLS ports listen on")
    listen.add_argument("--certfile", type=Path, help="PEM certificate (chain) of the TLS port")
    listen.add_argument("--keyfile", type=Path, help="PEM private key of --certfile")
    listen.add_argument("--cafile", type=Path, help="PEM CA that signs the TAK clients' certificates")
    listen.add_argument("--feed", required=True, help="the [[feeds]] name (CRISIS_FEEDS) of what arrives here")
    listen.set_defaults(func=cmd_listen)

    subscribe = cot_sub.add_parser("subscribe", help="connect to a TAK server and take what it relays")
    common(subscribe)
    subscribe.add_argument("--host", required=True, help="the TAK server to connect to")
    subscribe.add_argument("--port", type=int, required=True, help="the TAK server's streaming port (8087; TLS 8089)")
    subscribe.add_argument("--tls", action="store_true", help="connect with TLS")
    subscribe.add_argument("--cafile", type=Path, help="PEM CA of the server's certificate (default: the system's)")
    subscribe.add_argument("--certfile", type=Path, help="PEM client certificate the server requires")
    subscribe.add_argument("--keyfile", type=Path, help="PEM private key of --certfile")
    subscribe.add_argument("--hello", type=Path, metavar="FILE",
                           help="a CoT event (XML) sent on every connection first; some servers (FreeTAKServer) "
                                "relay nothing to a client until it has sent its own position report")
    subscribe.add_argument("--feed", required=True, help="the [[feeds]] name (CRISIS_FEEDS) of what arrives here")
    subscribe.set_defaults(func=cmd_subscribe)
