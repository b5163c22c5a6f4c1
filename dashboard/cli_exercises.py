"""``crisisdash exercise ...``: load a MSEL and control exercises from the command line.

The operator at the command line has the deployment's Redis, so acts as exercise control
(``cli:<os user>`` in the audit trail), like ``crisisdash user``. Commands:

- ``exercise load FILE --name NAME [--speed F]``: read a MSEL (CSV or XLSX; ``payload_file`` paths are
  relative to the MSEL's folder and may not leave it) and print the new exercise's id on the last line.
- ``exercise list``: one line per exercise (id, state, name, nations).
- ``exercise start|pause|resume|end ID``; ``exercise fire|skip ID N``; ``exercise stop-all --reason TEXT``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.cli_common import os_user, read_input, services_for


def _payload_reader(folder: Path):
    """Read ``payload_file`` names inside ``folder`` only (UTF-8 text)."""
    root = folder.resolve()

    def read(name: str) -> str:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"{name!r} is outside the MSEL's folder")
        if not path.is_file():
            raise FileNotFoundError(f"no file {name!r} beside the MSEL")
        return path.read_text(encoding="utf-8")

    return read


def cmd_exercise(args: argparse.Namespace) -> int:
    """Run one ``exercise`` action; exit 2 with the reason when it is refused."""
    from alerts.actions import exercises
    from alerts.actions.errors import ActionError
    from alerts.core.roles import Role
    from alerts.core.viewer import Viewer

    built = services_for(args)
    viewer = Viewer(name=f"cli:{os_user()}", role=Role.EXERCISE_CONTROL.value, nation=None, via="cli")
    centre = built.centre
    try:
        if args.action == "load":
            folder = Path.cwd() if args.file == "-" else Path(args.file).parent
            ex = exercises.load(centre, viewer, read_input(args.file), args.name, speed=args.speed,
                                payloads=_payload_reader(folder))
            print(f"loaded {len(ex.injects)} injects for {', '.join(ex.nations)} as {ex.name!r}")
            print(ex.id)
        elif args.action == "list":
            for ex in exercises.exercises(centre, viewer):
                print(f"{ex.id}\t{ex.state.value}\t{ex.name}\t{','.join(ex.nations)}")
        elif args.action in ("start", "pause", "resume", "end"):
            ex = getattr(exercises, args.action)(centre, viewer, args.id)
            print(f"{ex.id} {ex.state.value}")
        elif args.action in ("fire", "skip"):
            do = exercises.fire_now if args.action == "fire" else exercises.skip
            ex = do(centre, viewer, args.id, args.inject)
            print(f"{ex.id} inject {args.inject} {ex.inject_state(args.inject).value}")
        elif args.action == "stop-all":
            stopped = exercises.stop_all(centre, viewer, args.reason)
            print(f"stopped {len(stopped)} exercise(s): {' '.join(e.id for e in stopped) or '-'}")
    except ActionError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


def add_parser(sub, common) -> None:
    """Add ``exercise`` and its actions to the ``crisisdash`` subparsers (``common`` adds the Redis options)."""
    exercise = sub.add_parser("exercise", help="joint exercises: load a MSEL, start, pause, fire injects, stop")
    actions = exercise.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="load a MSEL (CSV or XLSX) as a planned exercise; prints its id last")
    common(load)
    load.add_argument("file", metavar="FILE", help="the MSEL (.csv or .xlsx), or - for stdin")
    load.add_argument("--name", required=True, help="the exercise's name (shown in the EXERCISE band)")
    load.add_argument("--speed", type=float, default=1.0,
                      help="exercise seconds per real second, to dry-run a MSEL faster (default 1)")
    listing = actions.add_parser("list", help="list exercises: id, state, name, nations")
    common(listing)
    for action, text in (("start", "STARTEX now"), ("pause", "pause play"),
                         ("resume", "resume play (pending injects move later by the pause)"), ("end", "ENDEX now")):
        one = actions.add_parser(action, help=text)
        common(one)
        one.add_argument("id", metavar="ID", help="the exercise id (from load or list)")
    for action, text in (("fire", "fire an inject now"), ("skip", "drop an inject")):
        one = actions.add_parser(action, help=text)
        common(one)
        one.add_argument("id", metavar="ID", help="the exercise id")
        one.add_argument("inject", metavar="N", type=int, help="the inject number (the MSEL's inject column)")
    stop = actions.add_parser("stop-all", help="real-world stop: end every exercise now (announced on every page)")
    common(stop)
    stop.add_argument("--reason", required=True, help="why play stops")
    exercise.set_defaults(func=cmd_exercise)
