"""Bidirectional formatting characters (Unicode UAX #9; CVE-2021-42574 "Trojan Source") in alert text.

Every format goes through ``Alert`` (``alerts.core.model.no_bidi_controls``): the embeddings, overrides and
isolates (U+202A-U+202E, U+2066-U+2069) are removed from every text, the marks LRM/RLM (U+200E, U+200F)
kept, and a record stored with them reads back cleaned.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alerts.core.model import Alert, Placement, StoredAlert
from alerts.core.text_rules import json_may_hold_bidi_controls
from alerts.formats.decode import Rejected, decode_alert
from tests.alerts.formats.test_cap import cap_xml, info_xml
from tests.alerts.formats.test_cot import cot_event
from tests.conftest import make_alert, payload

#: Each explicit directional formatting character of UAX #9 (section 2, table 1).
BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
RLO, PDF = "\u202e", "\u202c"
RLM, LRM = "\u200f", "\u200e"


def without(text: str) -> bool:
    return not any(c in text for c in BIDI_CONTROLS)


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=[f"U+{ord(c):04X}" for c in BIDI_CONTROLS])
def test_bidi001_json_title_loses_each_bidi_control(control):
    alert = decode_alert(payload(make_alert(title=f"Ωmega{control}RTL{PDF}")))
    assert alert.title == "ΩmegaRTL"


def test_bidi002_json_every_text_field_and_extra_is_cleaned_marks_kept():
    alert = decode_alert(payload(make_alert(
        id=f"id-{RLO}1", source=f"M{RLO}K", description=f"line one{RLO}\nline{PDF} two",
        translations={f"a{RLO}r": {"title": f"عاجل{RLM} {RLO}x", "description": f"{LRM}d\u2067e\u2069"}},
        classification=f"UNCLAS{RLO}", caveats=[f"REL{RLO}"], tlp=f"CLEAR{RLO}",
        sender_name=f"Unit {RLO}7", unit={"callsign": f"K{RLO}9", "tags": [f"a{RLO}", 3]},
    )))
    assert (alert.id, alert.source, alert.description) == ("id-1", "MK", "line one\nline two")
    assert alert.translations == {"ar": {"title": f"عاجل{RLM} x", "description": f"{LRM}de"}}
    assert (alert.classification, alert.caveats, alert.tlp) == ("UNCLAS", ["REL"], "CLEAR")
    assert alert.model_extra == {"sender_name": "Unit 7", "unit": {"callsign": "K9", "tags": ["a", 3]}}


def test_bidi003_a_title_of_bidi_controls_only_is_refused_as_empty():
    with pytest.raises(Rejected) as info:
        decode_alert(payload(make_alert(title=f"{RLO}{PDF}")))
    assert "title" in info.value.reason


def test_bidi004_cap_headline_translations_and_sender_name():
    other = info_xml(language="fr-FR", headline=f"Tempête{RLO}x{PDF}", description=f"d{RLO}")
    main = info_xml(language="en-US", headline=f"Ωmega{RLO}RTL{PDF}", description=f"See {RLO}here")
    alert = decode_alert(cap_xml(infos=[_with_sender(main), other]))
    assert alert.title == "ΩmegaRTL"
    assert alert.description == "See here"
    assert alert.translations == {"fr-FR": {"title": "Tempêtex", "description": "d"}}
    assert alert.model_extra["sender_name"] == "Civil Protection"
    assert without(json.dumps(alert.model_dump(mode="json"), ensure_ascii=False))


def _with_sender(info: str) -> str:
    """``info`` with a ``<senderName>`` holding an override, where CAP 1.2's schema wants it (after certainty)."""
    return info.replace("</certainty>", f"</certainty><senderName>Civil {RLO}Protection</senderName>", 1)


def test_bidi005_cot_remarks_and_callsign():
    alert = decode_alert(cot_event(callsign=f"Bravo{RLO}-2", remarks=f"Man {RLO}down{PDF}"))
    assert alert.title == "Man down"
    assert alert.model_extra["callsign"] == "Bravo-2"
    assert without(json.dumps(alert.model_dump(mode="json"), ensure_ascii=False))


def test_bidi006_geojson_feature_properties():
    properties = make_alert(title=f"Flood{RLO} warning", note=f"n{RLO}")
    properties.pop("location")
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.43, 42.0]},
               "properties": properties}
    alert = decode_alert(payload(feature))
    assert (alert.title, alert.model_extra["note"]) == ("Flood warning", "n")


@pytest.mark.parametrize("form", ["escaped", "utf-8"])
def test_bidi007_a_record_stored_with_bidi_controls_reads_back_cleaned(form):
    """Also through ``StoredAlert.from_json``, which every read of a record uses and which skips the walk only
    when the bytes hold none."""
    alert = Alert.model_validate(make_alert())
    stored = StoredAlert(alert=alert, placement=Placement(), received_at=datetime(2024, 1, 1, tzinfo=UTC))
    title = f"Ωmega{RLO}RTL{PDF}"
    raw = stored.model_dump_json().replace(
        alert.title, title.encode("unicode_escape").decode() if form == "escaped" else title)
    assert StoredAlert.model_validate_json(raw).alert.title == "ΩmegaRTL"
    assert StoredAlert.from_json(raw).alert.title == "ΩmegaRTL"
    assert StoredAlert.from_json(raw.encode()).alert.title == "ΩmegaRTL"


@pytest.mark.parametrize("form", ["utf-8", "escaped", "escaped upper-case hex"])
def test_bidi008_json_bidi_controls_are_found_written_as_utf8_or_escaped_in_either_case(form):
    """The JSON decoder skips the walk that removes them when one scan of the payload's bytes finds none
    (``alerts.core.text_rules.json_may_hold_bidi_controls``): whichever way a producer writes them, they are seen."""
    document = make_alert(title=f"Ωmega{RLO}RTL{PDF}", source=f"M{RLO}K", unit={f"k{RLO}": [f"a{PDF}"]})
    raw = json.dumps(document, ensure_ascii=form != "utf-8").encode()
    if form == "escaped upper-case hex":
        raw = raw.replace(b"\\u202e", b"\\u202E").replace(b"\\u202c", b"\\u202C")
        assert b"\\u202E" in raw
    alert = decode_alert(raw)
    assert (alert.title, alert.source, alert.model_extra) == ("ΩmegaRTL", "MK", {"unit": {"k": ["a"]}})


def test_bidi009_the_byte_scan_finds_exactly_the_bidi_controls_among_all_characters():
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        for raw in (json.dumps(char).encode(), json.dumps(char, ensure_ascii=False).encode(),
                    json.dumps(char).upper().replace("\\U", "\\u").encode()):
            assert json_may_hold_bidi_controls(raw) == (char in BIDI_CONTROLS), (hex(code), raw)
