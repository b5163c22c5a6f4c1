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
