"""``crisisdash demo play``: the demo scenario once more, on demand, into a running deployment's inbox."""
from __future__ import annotations

import argparse
import json
import threading


def add_parser(sub, add_redis_options) -> None:
    """Add ``demo play`` to the ``crisisdash`` sub-commands (``sub``)."""
    demo = sub.add_parser("demo", help="the fictional demo scenario")
    demo_sub = demo.add_subparsers(dest="action", required=True)
    play = demo_sub.add_parser("play", help="play the demo scenario once more (new alert ids), as serve --demo "
                                            "does at start")
    add_redis_options(play)
    play.add_argument("--at-once", action="store_true",
                      help="send every alert at once (default: paced as written, about 45 seconds)")
    play.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Play the scenario into the inbox stream of the running deployment, naming each alert as it goes."""
    from alerts.store.client import connect
    from alerts.store.keys import Keys
    from dashboard.cli_common import running_settings
    from dashboard.demo.alerts import new_run, play_scenario

    settings = running_settings(args)
    client, stop = connect(settings.redis_url), threading.Event()

    def said(payload: bytes) -> None:
        try:
            title = json.loads(payload)["title"]
        except ValueError:
            title = "a TAK emergency from an unregistered device (for the admins to release)"
        print(f"sent: {title}", flush=True)

    try:
        played = play_scenario(client, Keys(settings.prefix), new_run(),
                               (lambda seconds: False) if args.at_once else stop.wait, said)
    except KeyboardInterrupt:
        played = False
    return 0 if played else 1
