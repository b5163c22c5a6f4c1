"""``dashboard.settings``: values read from the environment, and refused with the variable named."""
from __future__ import annotations

import pytest

from dashboard.settings import Settings


def test_set001_the_live_lag_bound_is_read_from_its_variable_and_must_be_above_zero():
    assert Settings.from_env({}).live_max_lag_seconds == 30.0
    assert Settings.from_env({"CRISIS_LIVE_MAX_LAG": "2.5"}).live_max_lag_seconds == 2.5
    for bad in ("0", "-1", "nan"):
        with pytest.raises(ValueError, match="CRISIS_LIVE_MAX_LAG"):
            Settings.from_env({"CRISIS_LIVE_MAX_LAG": bad})


def test_set002_an_infinite_or_dateless_memory_horizon_means_never_evict_nan_and_non_positive_are_refused():
    from datetime import timedelta

    assert Settings.from_env({}).memory_horizon == timedelta(days=7)
    assert Settings.from_env({"CRISIS_MEMORY_HORIZON": "2.5"}).memory_horizon == timedelta(seconds=2.5)
    for never in ("inf", "Infinity", "1e11", "1e300"):  # longer than dates reach back: nothing is that old
        assert Settings.from_env({"CRISIS_MEMORY_HORIZON": never}).memory_horizon is None
    for bad in ("0", "-1", "-inf"):
        with pytest.raises(ValueError, match="CRISIS_MEMORY_HORIZON=.*must be above 0 seconds"):
            Settings.from_env({"CRISIS_MEMORY_HORIZON": bad})
    with pytest.raises(ValueError, match="CRISIS_MEMORY_HORIZON='nan': not a number"):
        Settings.from_env({"CRISIS_MEMORY_HORIZON": "nan"})


def test_set002c_an_infinite_or_huge_replay_idle_time_means_never_forget_and_non_positive_is_refused():
    """Round-2 breaker finding: CRISIS_REPLAY_IDLE=1e14 stopped every command with an OverflowError."""
    from datetime import timedelta

    assert Settings.from_env({}).replay_idle == timedelta(minutes=15)
    assert Settings.from_env({"CRISIS_REPLAY_IDLE": "2.5"}).replay_idle == timedelta(seconds=2.5)
    for never in ("inf", "1e14", "1e300"):
        assert Settings.from_env({"CRISIS_REPLAY_IDLE": never}).replay_idle is None
    for bad in ("0", "-1", "-inf", "nan"):
        with pytest.raises(ValueError, match="CRISIS_REPLAY_IDLE="):
            Settings.from_env({"CRISIS_REPLAY_IDLE": bad})


def test_set002b_no_setting_of_seconds_or_a_fraction_takes_nan():
    """Round-2 breaker finding: CRISIS_COT_READ_TIMEOUT=nan started a listener that closed every connection
    after its first read."""
    for name in ("CRISIS_COT_READ_TIMEOUT", "CRISIS_COT_MESSAGE_TIMEOUT", "CRISIS_ESCALATION_TICK"):
        with pytest.raises(ValueError, match=f"{name}='NaN': not a number"):
            Settings.from_env({name: "NaN"})


def test_set003_a_bad_setting_stops_a_command_with_one_line_naming_it(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "CRISIS_MEMORY_HORIZON": "nan"})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("crisisdash: CRISIS_MEMORY_HORIZON=")
