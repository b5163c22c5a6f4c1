"""User names: one normal form (NFKC, case-folded, stripped) and a cap, before anything is stored or keyed."""
from __future__ import annotations

import pytest

from alerts.core.usernames import (
    CUT_MARK,
    MAX_LENGTH,
    UserNameTooLong,
    bounded,
    normalise,
)


def test_usr001_case_width_and_spaces_name_one_account():
    assert normalise(" Alice ") == "alice"
    assert normalise("ＡＬＩＣＥ") == "alice"  # full-width, NFKC
    assert normalise("duty-rs\t") == "duty-rs"
    assert normalise("STRASSE") == normalise("straße")  # casefold, not lower


def test_usr002_existing_names_are_already_normal():
    for name in ("duty-rs", "admin-mk", "a.b_c-9", "x" * MAX_LENGTH):
        assert normalise(name) == name


def test_usr003_a_megabyte_name_is_refused_and_bounded_for_keys():
    huge = "A" * 1_000_000
    with pytest.raises(UserNameTooLong):
        normalise(huge)
    with pytest.raises(UserNameTooLong):
        normalise("b" * (MAX_LENGTH + 1))
    cut = bounded(huge)
    assert cut == "a" * MAX_LENGTH + CUT_MARK
    assert bounded("Bob") == "bob"
