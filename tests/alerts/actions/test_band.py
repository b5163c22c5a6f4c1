"""The EXERCISE band's digest changes exactly when some page's band would read differently: an exercise
starts, pauses, ends; a real-world stop's notice appears and, ``STOP_NOTICE`` later, expires."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from alerts.actions import exercises
from alerts.actions.band import band_signature, notices
from tests.alerts.actions.test_exercise_stop import _msel
from tests.alerts.actions.test_exercises import DUTY, EXCON, World


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def test_bnd001_the_digest_follows_every_change_a_band_shows_and_nothing_else(world):
    centre = world.centre
    quiet = band_signature(centre)
    drina = exercises.load(centre, EXCON, _msel("RS"), "DRINA")
    assert band_signature(centre) == quiet  # a planned exercise shows in no band
    exercises.start(centre, EXCON, drina.id)
    running = band_signature(centre)
    assert running != quiet and notices(centre, DUTY["RS"])
    assert band_signature(centre) == running  # read again, nothing changed: the same digest
    exercises.pause(centre, EXCON, drina.id)
    paused = band_signature(centre)
    assert paused not in (quiet, running)
    exercises.stop_all(centre, EXCON, "flood on the Drina")
    stopped = band_signature(centre)
    assert stopped not in (quiet, running, paused)
    later = replace(centre, clock=lambda: centre.clock() + exercises.STOP_NOTICE + timedelta(minutes=1))
    assert notices(later, DUTY["RS"]) == [] and band_signature(later) == quiet  # the stop notice expired
