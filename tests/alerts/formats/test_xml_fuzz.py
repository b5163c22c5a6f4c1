"""Property tests: whatever bytes arrive, ``decode_alert`` returns an Alert or raises Rejected.

Nothing else may escape (ingest must survive junk), and a refusal must be a
deliberate one, not the XML safety net catching a decoder bug.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import DATA
from alerts.formats.decode import Rejected, decode_alert
from alerts.core.model import Alert
from alerts.formats.xml import INTERNAL_ERROR

SAMPLES = {
    name: (DATA / "cap" / name).read_bytes()
    for name in (
        "gcl_australia.cap",  # circles, two info blocks, cap: prefix
        "gcl_canada.cap",  # Update with references, polygons, fr-CA
        "wmoc2g_es_aemet.xml",  # es + en, non-ASCII text
        "cpl_rfs_edxlde.xml",  # EDXL-DE envelope, zero-radius circle
        "cpl_no_info_tag.cap",  # Cancel without info, signed
        "gcl_43b080713727.cap",  # no geometry at all
    )
}
SAMPLE_NAMES = sorted(SAMPLES)
COT = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>"
    b"<event version='2.0' uid='ANDROID-1-9-1-1' type='b-a-o-tbl' time='2024-05-01T10:00:00.000Z' "
    b"start='2024-05-01T10:00:00.000Z' stale='2024-05-01T10:10:00.000Z' how='h-e'>"
    b"<point lat='44.81' lon='20.46' hae='100' ce='10' le='10'/>"
    b"<detail><contact callsign='Bravo-2'/><emergency type='911 Alert'>Bravo-2</emergency>"
    b"<remarks>help</remarks></detail></event>"
)
VALID_JSON = {
    "id": "ALERT-1",
    "type": "natural_disaster",
    "severity": "high",
    "title": "Flood in Novi Sad",
    "description": "River rising",
    "location": {"lat": 45.25, "lon": 19.84},
    "area": {"type": "Polygon", "coordinates": [[[19.8, 45.2], [19.9, 45.2], [19.9, 45.3], [19.8, 45.2]]]},
    "reported_at": "2024-05-01T10:00:00+02:00",
    "source": "RS",
    "releasable_to": ["RS", "HR"],
    "exercise": False,
    "msg_type": "update",
    "references": ["ALERT-0"],
    "translations": {"sr": {"title": "Poplava", "description": "Reka raste"}},
}

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(payload: bytes) -> None:
    try:
        result = decode_alert(payload)
    except Rejected as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip()
        assert not exc.reason.startswith(INTERNAL_ERROR), exc.reason
        return
    assert isinstance(result, Alert)


# -- XML --------------------------------------------------------------------------

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("truncate"), st.integers(min_value=0), st.just(0)),
    st.tuples(st.just("insert"), st.integers(min_value=0), st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("delete"), st.integers(min_value=0), st.integers(min_value=1, max_value=40)),
    st.tuples(
        st.just("insert"),
        st.integers(min_value=0),
        st.sampled_from([b"<", b">", b"&", b"&amp;", b"]]>", b"<x/>", b"</info>", b'"', b"\x00", b"\xff", b" ", b"-"]),
    ),
)


def mutate(data: bytes, mutations) -> bytes:
    buffer = bytearray(data)
    for kind, position, value in mutations:
        if not buffer:
            break
        index = position % len(buffer)
        if kind == "flip":
            buffer[index] ^= value
        elif kind == "truncate":
            del buffer[index:]
        elif kind == "insert":
            buffer[index:index] = value
        else:
            del buffer[index : index + value]
    return bytes(buffer)


@FUZZ
@given(st.sampled_from(SAMPLE_NAMES), st.lists(mutation, min_size=1, max_size=6))
def test_fuzz001_mutated_cap_bytes(name, mutations):
    check(mutate(SAMPLES[name], mutations))


# Text that lxml accepts in an element (XML 1.0 characters), biased to the
# characters CAP values are built from.
xml_text = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.sampled_from("\n\t"),
        max_size=60,
    ),
    st.text(st.sampled_from("0123456789.,-+ eEinfaINF:TZ"), max_size=40),
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
        ),
        max_size=8,
    ).map(lambda pairs: " ".join(f"{a},{b}" for a, b in pairs)),
)
TEXT_ELEMENTS = [
    "identifier", "sender", "sent", "status", "msgType", "scope", "restriction", "addresses",
    "references", "language", "category", "event", "urgency", "severity", "certainty", "headline",
    "description", "instruction", "areaDesc", "polygon", "circle", "value", "valueName", "expires",
]


@FUZZ
@given(
    st.sampled_from(SAMPLE_NAMES),
    st.lists(st.tuples(st.sampled_from(TEXT_ELEMENTS), st.integers(min_value=0), xml_text), min_size=1, max_size=5),
)
def test_fuzz002_mutated_cap_values(name, edits):
    """Structure-aware: keep the XML well-formed, change element text so the schema often still passes."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(SAMPLES[name], parser=parser)
    for element_name, index, text in edits:
        targets = list(root.iter(f"{{*}}{element_name}"))
        if targets:
            targets[index % len(targets)].text = text
    check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["version", "uid", "type", "time", "stale", "opex", "lat", "lon", "ce", "callsign"]),
            xml_text,
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["b-a-o-tbl", "b-a-o-pan", "b-a-o-can", "b-a-g", "a-f-G"]),
)
def test_fuzz003_mutated_cot_attributes(edits, cot_type):
    root = etree.fromstring(COT)
    root.set("type", cot_type)
    for attribute, value in edits:
        value = "".join(ch for ch in value if ch not in "\n\t")
        try:
            if attribute in ("lat", "lon", "ce"):
                root.find("point").set(attribute, value)
            elif attribute == "callsign":
                root.find("detail/contact").set(attribute, value)
            else:
                root.set(attribute, value)
        except ValueError:  # lxml refuses some characters in attributes
            continue
    check(etree.tostring(root))


# -- JSON and junk ----------------------------------------------------------------

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "ALL", "RS", "critical", "Polygon", "MultiPolygon", "2024-05-01T10:00:00Z", "cancel"]),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
json_path_edit = st.tuples(
    st.sampled_from(["set", "delete", "add"]),
    st.sampled_from(sorted(VALID_JSON) + ["location.lat", "location.lon", "area.type", "area.coordinates", "x"]),
    json_value,
)


def edit_json(document: dict, edits) -> dict:
    document = json.loads(json.dumps(document))
    for kind, path, value in edits:
        target, key = document, path
        if "." in path:
            head, key = path.split(".", 1)
            if not isinstance(document.get(head), dict):
                continue
            target = document[head]
        if kind == "delete":
            target.pop(key, None)
        elif kind == "add":
            target[f"extra_{key}"] = value
        else:
            target[key] = value
    return document


@FUZZ
@given(st.lists(json_path_edit, min_size=1, max_size=5))
def test_fuzz004_mutated_json_alerts(edits):
    document = edit_json(VALID_JSON, edits)
    try:
        payload = json.dumps(document, allow_nan=False).encode()
    except ValueError:
        return
    check(payload)


def test_fuzz005_json_template_is_valid():
    assert decode_alert(json.dumps(VALID_JSON).encode()).id == "ALERT-1"
    assert decode_alert(COT).id == "ANDROID-1-9-1-1"


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=300).map(lambda b: b"<" + b),
        st.binary(max_size=300).map(lambda b: b"{" + b),
    )
)
def test_fuzz006_random_bytes(payload):
    check(payload)


@FUZZ
@given(st.sampled_from(SAMPLE_NAMES), st.lists(mutation, min_size=1, max_size=4))
def test_fuzz007_mutated_bytes_as_text(name, mutations):
    """The same mutations through the str entry point (ingest may hand over text)."""
    payload = mutate(SAMPLES[name], mutations).decode("utf-8", errors="replace")
    try:
        result = decode_alert(payload)
    except Rejected as exc:
        assert not exc.reason.startswith(INTERNAL_ERROR), exc.reason
        return
    assert isinstance(result, Alert)
