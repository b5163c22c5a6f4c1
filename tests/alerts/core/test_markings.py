"""Markings: classification levels, TLP 2.0, REL TO lists, and the marking that covers several items."""
from __future__ import annotations

import pytest

from alerts.core.markings import (
    Classifications,
    Marking,
    MarkingError,
    Tlp,
    caveats_of,
    find_rel_to,
    find_tlp,
    most_restrictive,
    parse_nations,
    parse_tlp,
)

SCHEME = Classifications()


def test_mrk001_levels_are_ordered_and_clearance_covers_lower_levels():
    assert SCHEME.lowest == "UNCLASSIFIED"
    assert SCHEME.rank("UNCLASSIFIED") < SCHEME.rank("RESTRICTED") < SCHEME.rank("CONFIDENTIAL") < SCHEME.rank("SECRET")
    assert SCHEME.cleared("RESTRICTED") == {"UNCLASSIFIED", "RESTRICTED"}
    assert SCHEME.level("nato restricted") == "RESTRICTED"
    assert SCHEME.level("  Confidential ") == "CONFIDENTIAL"
    with pytest.raises(MarkingError, match="TOP SECRET"):
        SCHEME.level("TOP SECRET")


def test_mrk002_a_deployment_list_is_checked():
    custom = Classifications.parse("official, official-sensitive, secret")
    assert custom.levels == ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")
    for bad in ("", "A,A"):
        with pytest.raises(MarkingError):
            Classifications.parse(bad)


@pytest.mark.parametrize(("text", "level"), [
    ("NATO RESTRICTED // REL TO BA, HR", "RESTRICTED"),
    ("CONFIDENTIAL//REL TO RS", "CONFIDENTIAL"),
    ("Releasable to BA, HR, RS", None),
    ("restricted to emergency services", None),  # prose, not a marking
    ("UNCLASSIFIED", "UNCLASSIFIED"),
    # in a marking line a level counts in any case: the REL TO must never outlive its classification
    ("secret//rel to ba, hr", "SECRET"),
    ("Secret REL TO BA, HR", "SECRET"),
    ("nato confidential TLP:AMBER", "CONFIDENTIAL"),
])
def test_mrk003_classification_found_in_free_text(text, level):
    assert SCHEME.find(text) == level


@pytest.mark.parametrize("text", ["TOP SECRET//REL TO BA", "COSMIC TOP SECRET", "OFFICIAL-SENSITIVE"])
def test_mrk004_a_known_level_missing_from_the_deployment_is_refused_never_read_as_a_lower_one(text):
    with pytest.raises(MarkingError):
        SCHEME.find(text)


@pytest.mark.parametrize(("text", "nations"), [
    ("REL TO BA, HR, RS", ["BA", "HR", "RS"]),
    ("Releasable to BA, HR, RS", ["BA", "HR", "RS"]),
    ("RESTRICTED//REL TO SRB, HRV, BIH//TLP:AMBER", ["RS", "HR", "BA"]),
    ("rel to xk and al", ["XK", "AL"]),
    ("REL TO XKX/MKD", ["XK", "MK"]),
    ("REL TO: GR", ["GR"]),
    ("for official use", None),
    # the list ends at a TLP label or the next //, whatever separators it uses
    ("REL TO BA, HR TLP:AMBER", ["BA", "HR"]),
    ("CONFIDENTIAL//FOUO//REL TO BA, HR TLP:AMBER", ["BA", "HR"]),
    ("REL TO BA; HR", ["BA", "HR"]),
    ("REL TO BA,HR;ME", ["BA", "HR", "ME"]),
    ("REL TO BA. HR", ["BA", "HR"]),
])
def test_mrk005_rel_to_lists_in_alpha2_or_alpha3(text, nations):
    assert find_rel_to(text) == nations


def test_mrk006_a_rel_to_list_naming_a_non_country_is_refused():
    for text in ("REL TO NATO", "REL TO BA, HR, NATO", "REL TO BA, NATO", "REL TO NATO, BA"):
        with pytest.raises(MarkingError, match="'NATO'"):  # never a shorter list than the one written
            find_rel_to(text)
    for text, word in (("REL TO BA, HR, FVEY", "'FVEY'"), ("REL TO BA, HR, EU", "'EU'")):
        with pytest.raises(MarkingError, match=word):
            find_rel_to(text)
    with pytest.raises(MarkingError, match="'ZZ'"):
        parse_nations("BA, ZZ")
    assert parse_nations("all") == ["ALL"]


@pytest.mark.parametrize(("text", "tlp"), [
    ("TLP:AMBER", Tlp.AMBER), ("amber+strict", Tlp.AMBER_STRICT), ("TLP: AMBER + STRICT", Tlp.AMBER_STRICT),
    ("TLP:WHITE", Tlp.CLEAR), ("RED", Tlp.RED), ("clear", Tlp.CLEAR),
])
def test_mrk007_tlp_2_labels(text, tlp):
    assert parse_tlp(text) is tlp


def test_mrk008_unknown_tlp_labels_are_refused_and_free_text_is_searched():
    with pytest.raises(MarkingError):
        parse_tlp("PURPLE")
    assert find_tlp("RESTRICTED // TLP:GREEN") is Tlp.GREEN
    assert find_tlp("no label here") is None


def test_mrk009_caveats_are_normalised_and_bounded():
    assert caveats_of(["fouo", " Exercise  only ", "FOUO"]) == ("EXERCISE ONLY", "FOUO")
    with pytest.raises(MarkingError):
        caveats_of(["<script>"])
    with pytest.raises(MarkingError):
        caveats_of([f"C{i}" for i in range(11)])


def test_mrk010_most_restrictive_wins_and_releasability_narrows():
    covered = most_restrictive([
        Marking("RESTRICTED", ("FOUO",), Tlp.GREEN, ("BA", "HR", "RS")),
        Marking("CONFIDENTIAL", (), Tlp.AMBER, ("HR", "RS")),
        Marking("UNCLASSIFIED", ("EXERCISE",), None, ("ALL",)),
    ], SCHEME)
    assert covered == Marking("CONFIDENTIAL", ("EXERCISE", "FOUO"), Tlp.AMBER, ("HR", "RS"))
    assert covered.line() == "CONFIDENTIAL//EXERCISE//FOUO//REL TO HR, RS TLP:AMBER"
    assert most_restrictive([], SCHEME).line() == "UNCLASSIFIED"
    assert Marking("SECRET", releasable_to=("ALL",)).line() == "SECRET"
