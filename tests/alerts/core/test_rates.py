"""Rates written like ``20/minute``."""
from __future__ import annotations

import pytest

from alerts.core.rates import Rate


def test_rat001_rates_parse_and_refuse_nonsense():
    assert Rate.parse("20/minute") == Rate(20, 60.0)
    assert Rate.parse("600/hours") == Rate(600, 3600.0)
    assert Rate.parse("5/30s") == Rate(5, 30.0)
    assert Rate.parse("20/minute").interval == 3.0
    for bad in ("", "x/minute", "0/minute", "5/fortnight", "5/0s", "-1/second"):
        with pytest.raises(ValueError):
            Rate.parse(bad)
