"""The demo's joint exercise: the sample MSEL ``docs/msel/seismic-shield.csv`` (an earthquake in central
Serbia and a cross-border chlorine release along the Sava, for RS, BA, HR and ME), loaded and started by
``crisisdash serve --demo`` so the control and evaluation pages have play to show.

It runs ``SPEED`` times faster than written (the MSEL's 1 h 30 min in about 6 minutes). A demo start finds
the exercise of an earlier start still running and keeps it rather than loading a second one.
"""
from __future__ import annotations

from pathlib import Path

from alerts.actions import exercises
from alerts.core.exercises import ExerciseState
from alerts.core.roles import Role
from alerts.core.viewer import Viewer

MSEL = Path(__file__).resolve().parents[2] / "docs" / "msel" / "seismic-shield.csv"
NAME = "SEISMIC SHIELD (demo)"
SPEED = 15.0
EXCON = Viewer("demo-excon", Role.EXERCISE_CONTROL.value, None, via="system")


def start_demo_exercise(services) -> str:
    """Load and start the demo exercise unless one of that name is in play; a line for the console."""
    centre = services.centre
    playing = [e for e in exercises.exercises(centre, EXCON)
               if e.name == NAME and e.state in (ExerciseState.RUNNING, ExerciseState.PAUSED)]
    if playing:
        return f"Demo exercise {NAME} ({playing[0].id}) is in play: /exercises"
    loaded = exercises.load(centre, EXCON, MSEL.read_bytes(), NAME, speed=SPEED)
    exercises.start(centre, EXCON, loaded.id)
    return (f"Demo exercise {NAME} ({loaded.id}): {len(loaded.injects)} injects for {', '.join(loaded.nations)}, "
            f"{SPEED:g}x speed: /exercises (demo-excon), /evaluation (demo-evaluator-rs)")
