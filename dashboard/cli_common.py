"""What every ``crisisdash`` command shares: the Redis options, settings, services, the operator's name."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dashboard.settings import Settings


def add_redis_options(parser: argparse.ArgumentParser) -> None:
    """``--redis-url``, ``--data-dir`` and ``--prefix``, as every command takes them."""
    parser.add_argument("--redis-url", help="Redis/Valkey URL: redis://, rediss://, unix://, "
                        "redis+sentinel://HOST:PORT[,...]/MASTER[/DB] or redis[s]+cluster://HOST:PORT[,...] (with a "
                        "{tag} --prefix) (default: $REDIS_URL, else the embedded Valkey)")
    parser.add_argument("--data-dir", type=Path, help="where the embedded Valkey keeps its data (default ./data)")
    parser.add_argument("--prefix", help="key prefix (default: crisis; on a Redis Cluster a hash tag, e.g. '{crisis}')")


def settings_from(args: argparse.Namespace, **extra) -> Settings:
    """The settings: the environment, overridden by the command's Redis options (and ``extra``); a value the
    app cannot use exits with the one line that names it (``Settings.from_env``'s ``ValueError``)."""
    try:
        return Settings.from_env(redis_url=args.redis_url, data_dir=args.data_dir, prefix=args.prefix, **extra)
    except ValueError as exc:
        raise SystemExit(f"crisisdash: {exc}") from None


def running_settings(args: argparse.Namespace) -> Settings:
    """Settings for commands that talk to a running deployment: the given Redis
    URL, else the embedded Valkey of a ``crisisdash serve`` on the same data dir
    (or, with no ``--data-dir`` given, of the only one running)."""
    from dashboard.runtime import embedded_url_if_running

    found = settings_from(args)
    return found if found.redis_url else embedded_url_if_running(
        found, data_dir_given=args.data_dir is not None or bool(os.environ.get("CRISIS_DATA_DIR")))


def services_for(args: argparse.Namespace):
    """The deployment's services (``dashboard.services.build_services``) for a one-off command."""
    from alerts.core.checklists import TemplateError
    from dashboard.services import build_services

    try:
        return build_services(running_settings(args))
    except TemplateError as exc:
        raise SystemExit(f"bad checklist template: {exc}") from None


def os_user() -> str:
    """The operating-system user running the command (``unknown`` in a bare container)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001  no user name in a bare container
        return "unknown"


def read_input(name: str) -> bytes:
    """A file's bytes, or standard input's for ``-``."""
    return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
