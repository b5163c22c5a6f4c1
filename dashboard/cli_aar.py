"""``crisisdash aar EXERCISE_ID [--format md|html|json]``: print an exercise's after-action report.

The operator at the command line has the deployment's Redis, so reads as an evaluator
(``cli:<os user>``), like ``crisisdash exercise``; the report is ``alerts.actions.aar.exercise_report``
rendered by ``alerts.formats.aar``; audited (``export.aar``, by ``cli:<os user>``).
"""
from __future__ import annotations

import argparse
import json
import sys

from dashboard.cli_common import os_user, services_for


def cmd_aar(args: argparse.Namespace) -> int:
    """Print the report; exit 2 with the reason when it is refused (e.g. an unknown exercise)."""
    from alerts.actions import aar
    from alerts.actions.errors import ActionError
    from alerts.core.roles import Role
    from alerts.core.viewer import Viewer
    from alerts.formats import aar as aar_format

    built = services_for(args)
    viewer = Viewer(name=f"cli:{os_user()}", role=Role.EVALUATOR.value, nation=None, via="cli")
    try:
        report = aar.exercise_report(built.centre, viewer, args.id)
        aar.audit_export(built.centre, viewer, report, args.format)
    except ActionError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.format == "md":
        print(aar_format.markdown(report))
    elif args.format == "html":
        print(aar_format.html(report))
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def add_parser(sub, common) -> None:
    """Add ``aar`` to the ``crisisdash`` subparsers (``common`` adds the Redis options)."""
    parser = sub.add_parser("aar", help="print an exercise's after-action report (Markdown, HTML or JSON)")
    common(parser)
    parser.add_argument("id", metavar="EXERCISE_ID", help="the exercise id (from `crisisdash exercise list`)")
    parser.add_argument("--format", choices=("md", "html", "json"), default="md", help="output format (default md)")
    parser.set_defaults(func=cmd_aar)
