"""``crisisdash``: serve the dashboard, run ingest alone, publish alert files."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from alerts.core.roles import Role
from dashboard import cli_aar, cli_cot, cli_demo, cli_exercises
from dashboard.cli_common import add_redis_options as _common
from dashboard.cli_common import os_user as _os_user
from dashboard.cli_common import read_input as _read_input
from dashboard.cli_common import running_settings as _running_redis
from dashboard.cli_common import services_for as _services
from dashboard.cli_common import settings_from as _settings
from dashboard.heap import return_large_blocks


def cmd_serve(args: argparse.Namespace) -> int:
    """``crisisdash serve``: the dashboard (and, unless --no-ingest, ingest) in this process."""
    return_large_blocks()  # before the imports: what they free is not kept in the heap
    from dashboard.edge.tls import check_tls
    from dashboard.runtime import serve

    settings = _settings(args, host=args.host, port=args.port, tls_certfile=args.certfile, tls_keyfile=args.keyfile,
                         demo=args.demo or None, run_ingest=False if args.no_ingest else None)
    check_tls(settings)
    serve(settings)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """``crisisdash ingest``: only the ingest workers."""
    return_large_blocks()  # as serve
    from dashboard.runtime import ingest

    ingest(_settings(args))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """``crisisdash publish``: send alert files (a GeoJSON FeatureCollection as one alert per feature)."""
    from alerts.formats.geojson import split_payloads
    from alerts.store.inbox import NotReplicated
    from alerts.store.keys import Keys
    from alerts.store.producer import send_to_channel, send_to_stream
    from dashboard.services import producer_client

    settings = _running_redis(args)
    payloads = []
    for name in args.files:
        payloads += split_payloads(_read_input(name))
    client = producer_client(settings)
    keys = Keys(settings.prefix)
    if args.stream:
        try:
            ids = send_to_stream(client, keys, payloads, settings.wait_replicas,
                                 int(settings.wait_timeout_seconds * 1000))
        except NotReplicated as exc:
            print(f"error: added to {keys.inbox}, but {exc}", file=sys.stderr)
            return 1
        replicated = f", held by {settings.wait_replicas} replica(s)" if settings.wait_replicas else ""
        print(f"added {len(ids)} payload(s) to {keys.inbox}{replicated}")
    else:
        listeners = send_to_channel(client, keys, payloads)
        print(f"published {len(payloads)} payload(s) on {keys.alerts_channel} ({listeners} ingest listener(s))")
        if listeners == 0:
            print("warning: no ingest worker is listening; pub/sub drops it. Use --stream to keep it.",
                  file=sys.stderr)
            return 1
    return 0


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("passwords differ")
    return first


def _account_command(args: argparse.Namespace, body) -> int:
    """Run ``body(accounts, audit, actor)``; an ``AccountError`` becomes a message and exit code 2."""
    from alerts.store.accounts import AccountError

    services = _services(args)
    try:
        return body(services.accounts, services.centre.audit, f"cli:{_os_user()}") or 0
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_user(args: argparse.Namespace) -> int:
    """``crisisdash user add|set|passwd|list|disable``."""
    from alerts.core.events import PasswordSet, UserAdded, UserChanged, UserDisabled

    def body(accounts, audit, actor):
        if args.action == "add":
            user = accounts.add_user(args.name, args.role, args.nation, _read_password(args), args.clearance)
            audit.record(actor, UserAdded(user.name, role=user.role.value, nation=user.nation,
                                          clearance=user.clearance or ""))
            print(f"added {user.name} ({user.role.value}, {user.nation}, cleared {user.clearance})")
        elif args.action == "set":
            before, after = accounts.set_user(args.name, role=args.role, nation=args.nation, clearance=args.clearance)
            audit.record(actor, UserChanged(after.name, before=_account_fields(before), after=_account_fields(after)))
            print(f"{after.name}: {after.role.value}, {after.nation}, cleared {after.clearance} "
                  "(its open live streams close within seconds)")
        elif args.action == "passwd":
            accounts.set_password(args.name, _read_password(args))
            audit.record(actor, PasswordSet(accounts.get_user(args.name).name))
            print(f"new password for {accounts.get_user(args.name).name}: its sessions ended (its open live streams "
                  "close within seconds), its API tokens kept")
        elif args.action == "list":
            lowest = accounts.scheme.lowest
            for user in accounts.list_users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.name}\t{user.role.value}\t{user.nation}\t{user.clearance or lowest}\t{state}")
        elif args.action == "disable":
            accounts.disable_user(args.name)
            audit.record(actor, UserDisabled(args.name))
            print(f"disabled {args.name} (and revoked its tokens)")

    return _account_command(args, body)


def _account_fields(user) -> dict:
    return {"role": user.role.value, "nation": user.nation, "clearance": user.clearance or ""}


def cmd_token(args: argparse.Namespace) -> int:
    """``crisisdash token create|revoke``."""
    from alerts.core.events import TokenCreated, TokenRevoked

    def body(accounts, audit, actor):
        if args.action == "create":
            token_id, token = accounts.create_token(args.name, args.label or "")
            audit.record(actor, TokenCreated(token_id, user=args.name))
            print(f"token {token_id} for {args.name} (shown once; store it safely):")
            print(token)
        elif args.action == "revoke":
            if not accounts.revoke_token(args.name):
                print(f"error: no token {args.name!r}", file=sys.stderr)
                return 2
            audit.record(actor, TokenRevoked(args.name))
            print(f"revoked {args.name}")

    return _account_command(args, body)


def cmd_assets(args: argparse.Namespace) -> int:
    """``crisisdash assets import FILE``: GeoJSON Points or CSV with lat/lon (``alerts.formats.assets``)."""
    from datetime import timedelta

    from alerts.core.events import AssetsImported
    from alerts.formats.assets import parse_import

    skew = timedelta(seconds=_settings(args).max_clock_skew_seconds)  # CRISIS_MAX_CLOCK_SKEW, as live reports
    assets, errors = parse_import(_read_input(args.file), "" if args.file == "-" else args.file, max_skew=skew)
    for number, reason in errors:
        print(f"error: item {number}: {reason}", file=sys.stderr)
    if errors and not args.skip_invalid:
        print("nothing imported (fix the file, or pass --skip-invalid)", file=sys.stderr)
        return 2
    services = _services(args)
    services.centre.assets.put_many(assets)
    services.centre.audit.record(f"cli:{_os_user()}", AssetsImported(args.file, imported=len(assets),
                                                                      refused=len(errors)))
    print(f"imported {len(assets)} asset(s)" + (f", skipped {len(errors)} invalid" if errors else ""))
    return 0


def _active_user(services, name: str):
    """``(user, viewer)`` of an active account (the viewer as the command line acts for it), or
    ``(None, None)`` after saying on stderr that there is none."""
    user = services.accounts.get_user(name)
    if user is None or user.disabled:
        print(f"error: no active user {name!r}", file=sys.stderr)
        return None, None
    return user, user.viewer("cli", services.accounts.scheme)


def cmd_cot(args: argparse.Namespace) -> int:
    """``crisisdash cot send``: stream incidents as CoT to a TAK server until SIGINT/SIGTERM."""
    import signal
    import threading

    from alerts.core.events import CotExported
    from alerts.core.roles import Permission
    from dashboard.cot_sender import CotSender, Revoked

    services = _services(args)
    user, viewer = _active_user(services, args.user)
    if viewer is None:
        return 2
    if not viewer.can(Permission.EXPORT):
        print(f"error: role {viewer.role} may not export", file=sys.stderr)
        return 2
    services.centre.audit.record(f"cli:{user.name}", CotExported("cot-send", query=f"{args.host}:{args.port}"))
    accounts = services.accounts
    seen = {"generation": accounts.generation()}

    def authorised() -> bool:
        """Still the same active user with the same rights (looked up again when accounts changed)."""
        generation = accounts.generation()
        if generation == seen["generation"]:
            return True
        seen["generation"] = generation
        now = accounts.get_user(user.name)
        return now is not None and not now.disabled and now.viewer("cli", accounts.scheme) == viewer

    sender = CotSender(services.centre, services.client, services.keys, args.host, args.port, viewer, authorised)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"sending what {user.name} ({user.nation}, cleared {viewer.clearance}) may see as CoT "
          f"to {args.host}:{args.port}", flush=True)
    try:
        sender.run(stop)
    except Revoked as exc:
        print(f"stopped: {exc} (disabled, or its role, nation or clearance changed); start it again to send "
              "under the new rights", file=sys.stderr)
        return 3
    return 0


def cmd_sitrep(args: argparse.Namespace) -> int:
    """``crisisdash sitrep``: print a SITREP with the releasability and export right of ``--user``."""
    import json
    from datetime import datetime

    from alerts.actions.errors import ActionError
    from alerts.actions.exports import sitrep_export
    from alerts.core.query import AlertQuery

    services = _services(args)
    user, viewer = _active_user(services, args.user)
    if viewer is None:
        return 2
    services.live.bootstrap()
    since = datetime.fromisoformat(args.since.replace("Z", "+00:00")) if args.since else None
    try:
        body, _media, _name = sitrep_export(services.centre, viewer, args.format, AlertQuery(), since=since,
                                            actor=f"cli:{user.name}")
    except ActionError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(body) if isinstance(body, dict) else body)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (the README documents each)."""
    parser = argparse.ArgumentParser(prog="crisisdash", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages too")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the dashboard (and an ingest worker)")
    _common(serve)
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 8050)")
    serve.add_argument("--certfile", type=Path, help="serve HTTPS with this PEM certificate (needs --keyfile)")
    serve.add_argument("--keyfile", type=Path, help="the PEM private key of --certfile")
    serve.add_argument("--demo", action="store_true", help="play a fictional exercise scenario")
    serve.add_argument("--no-ingest", action="store_true", help="do not run an ingest worker in this process")
    serve.set_defaults(func=cmd_serve)

    ingest = sub.add_parser("ingest", help="run only the ingest worker (for scale-out)")
    _common(ingest)
    ingest.set_defaults(func=cmd_ingest)

    publish = sub.add_parser("publish", help="send alert files (JSON, CAP, CoT, GeoJSON; - for stdin) to ingest")
    _common(publish)
    publish.add_argument("--stream", action="store_true", help="add to the durable inbox stream (default: pub/sub)")
    publish.add_argument("files", nargs="+", metavar="FILE",
                         help="alert files (JSON, CAP 1.2 XML, CoT XML, GeoJSON FeatureCollection); - reads standard input")
    publish.set_defaults(func=cmd_publish)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="add a user (password prompted, or from stdin)")
    _common(add)
    add.add_argument("name", help="the user name (case, spaces and Unicode forms are normalised)")
    roles = [role.value for role in Role]
    add.add_argument("--role", required=True, choices=roles, help="what the user may do (README: Users, roles)")
    add.add_argument("--nation", required=True, help="ISO 3166-1 alpha-2 (Kosovo: XK)")
    add.add_argument("--clearance", help="a classification level (CRISIS_CLASSIFICATIONS; default the lowest)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    change = user_sub.add_parser("set", help="change a user's role, nation or clearance (closes its live streams)")
    _common(change)
    change.add_argument("name", help="the user to change")
    change.add_argument("--role", choices=roles, help="the new role")
    change.add_argument("--nation", help="ISO 3166-1 alpha-2 (Kosovo: XK)")
    change.add_argument("--clearance", help="a classification level (CRISIS_CLASSIFICATIONS)")
    passwd = user_sub.add_parser("passwd", help="set a user's password anew and end its sessions (prompted, or stdin)")
    _common(passwd)
    passwd.add_argument("name", help="the user")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = user_sub.add_parser("list", help="list users")
    _common(listing)
    disable = user_sub.add_parser("disable", help="disable a user and revoke its tokens")
    _common(disable)
    disable.add_argument("name", help="the user to disable")
    user.set_defaults(func=cmd_user)

    token = sub.add_parser("token", help="API bearer tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    create = token_sub.add_parser("create", help="create a token for a user (printed on the last line)")
    _common(create)
    create.add_argument("name", help="the user the token acts as")
    create.add_argument("--label", help="a note shown with the token (e.g. what uses it)")
    revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
    _common(revoke)
    revoke.add_argument("name", metavar="TOKEN_ID", help="the token's id (printed when it was created)")
    token.set_defaults(func=cmd_token)

    assets = sub.add_parser("assets", help="response assets")
    assets_sub = assets.add_subparsers(dest="action", required=True)
    imp = assets_sub.add_parser("import", help="import assets from GeoJSON (Points) or CSV (lat, lon columns)")
    _common(imp)
    imp.add_argument("file", metavar="FILE", help="a .geojson/.json or .csv file, or - for stdin")
    imp.add_argument("--skip-invalid", action="store_true", help="import the valid items even if some are not")
    assets.set_defaults(func=cmd_assets)

    cot = sub.add_parser("cot", help="Cursor-on-Target out (send) and in (listen, subscribe)")
    cot_sub = cot.add_subparsers(dest="action", required=True)
    send = cot_sub.add_parser("send", help="stream incidents as CoT over TCP to a TAK server or client")
    _common(send)
    send.add_argument("--host", required=True, help="the TAK server or client to send to")
    send.add_argument("--port", type=int, required=True, help="TAK TCP input port (often 8087)")
    send.add_argument("--user", required=True,
                      help="send only what this user may see (its nation and clearance; needs the export right; audited)")
    send.set_defaults(func=cmd_cot)
    cli_cot.add_parsers(cot_sub, _common)

    report = sub.add_parser("sitrep", help="print a SITREP (Markdown, HTML, CSV of incidents, GeoJSON)")
    _common(report)
    report.add_argument("--format", choices=["md", "html", "csv", "geojson"], default="md",
                        help="md (default), html, csv of incidents, or geojson")
    report.add_argument("--since", help="start of the window, ISO 8601 (default: 24 hours ago)")
    report.add_argument("--user", required=True, help="whose releasability and export right apply (audited)")
    report.set_defaults(func=cmd_sitrep)
    cli_exercises.add_parser(sub, _common)
    cli_demo.add_parser(sub, _common)
    cli_aar.add_parser(sub, _common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
