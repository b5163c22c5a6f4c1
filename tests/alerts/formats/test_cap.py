"""CAP 1.2 -> Alert, over the whole sample corpus and hand-written edge cases.

The corpus and its expected outcomes are in ``tests/data`` (``manifest.json``,
column ``expect``). The mapping under test is documented in docs/cap-mapping.md.
"""
from __future__ import annotations

import builtins
import json
import socket
import sys
import time
from datetime import datetime, timezone

import pytest
import shapely.geometry
from lxml import etree
from pyproj import Geod

import alerts.formats.xml
from tests.conftest import DATA
from alerts.formats.cap import geometry as cap_geometry
from alerts.formats.cap import mapping as cap
from alerts.formats.cap import validate as cap_schema
from alerts.formats.decode import Rejected, decode_alert
from alerts.core.model import Alert

MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
CAP_FILES = [e for e in MANIFEST if e["kind"] == "cap" and e["expect"] != "n/a"]
CAP12 = cap_schema.CAP12_NS


def files(*expects: str) -> list[str]:
    return [e["file"] for e in CAP_FILES if e["expect"] in expects]


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rejected(payload: bytes | str) -> str:
    with pytest.raises(Rejected) as info:
        decode_alert(payload)
    return info.value.reason


def cap_identifier(payload: bytes) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(payload, parser=parser)
    return root.find(f".//{{{CAP12}}}identifier").text.strip()


# Rough bounding boxes (lon_min, lat_min, lon_max, lat_max) of where each
# valid sample is, from the issuing agency's territory, or None where the
# message has no polygon/circle and no geocode we can resolve.
EXPECTED_PLACE = {
    "cap/gcl_australia.cap": (141, -38, 154, -28),  # New South Wales
    "cap/gcl_canada.cap": (-141, 41, -52, 84),  # Canada
    "cap/gcl_canada_signed.cap": (-141, 41, -52, 84),
    "cap/cpl_CanadaNaad.xml": (-141, 41, -52, 84),
    "cap/cpl_mexico.xml": (-99, 14, -88, 20),  # Chiapas / Oaxaca
    "cap/cpl_ph.cap": (112, 4, 131, 22),  # Philippines area of responsibility
    "cap/cpl_rfs_edxlde.xml": (141, -38, 154, -28),  # NSW
    "cap/wmocv_sc_valid.xml": (45, -11, 57, -3),  # Seychelles
    "cap/wmocv_sc_no_signature.xml": (45, -11, 57, -3),
    "cap/wmocv_sc_invalid_signature.xml": (45, -11, 57, -3),
    "cap/wmocv_sc_invalid_digest.xml": (45, -11, 57, -3),
    "cap/wmocv_sc_invalid_certificate.xml": (45, -11, 57, -3),
    "cap/wmocv_bf_valid.xml": (-6, 9, 3, 16),  # Burkina Faso
    "cap/wmoc2g_es_aemet.xml": (-1.5, 41.5, 1, 43.2),  # Pyrenees of Huesca
    "cap/gcl_wcatwc-warning.cap": None,  # UGC geocodes only
    "cap/gcl_43b080713727.cap": None,  # areaDesc only
    "cap/cpl_australia_bom.cap": None,  # AU-NSW + AMOC geocodes, not in our boundaries
    "cap/cpl_no_info_tag.cap": None,  # a Cancel without <info>
}


# -- the corpus -----------------------------------------------------------------


def test_cap000_manifest_covers_every_file():
    listed = {e["file"] for e in MANIFEST if e["file"].startswith(("cap/", "cot/"))}
    on_disk = {f"{p.parent.name}/{p.name}" for p in (DATA / "cap").iterdir()} | {
        f"cot/{p.name}" for p in (DATA / "cot").iterdir()
    }
    assert listed == on_disk
    assert set(files("valid", "valid-wrapped")) <= set(EXPECTED_PLACE)


@pytest.mark.parametrize("name", files("valid", "valid-wrapped", "invalid-signature"))
def test_cap001_valid_files_become_alerts(name):
    payload = raw(name)
    alert = decode_alert(payload)
    assert isinstance(alert, Alert)
    assert alert.id == cap_identifier(payload)
    assert alert.reported_at.tzinfo is not None
    assert alert.title and "\n" not in alert.title
    assert alert.model_extra["sender"]
    assert alert.source == alert.model_extra["sender"][:100]
    assert alert.releasable_to == ["ALL"]  # every sample is scope Public
    assert alert.model_extra["signature_verified"] is False
    # the alert survives the JSON round trip ingest does
    again = Alert.model_validate_json(alert.model_dump_json())
    assert again.id == alert.id and again.area == alert.area


@pytest.mark.parametrize("name", sorted(EXPECTED_PLACE))
def test_cap002_geometry_in_expected_place(name):
    alert = decode_alert(raw(name))
    box = EXPECTED_PLACE[name]
    if box is None:
        assert alert.model_extra.get("geometry_unknown") is True
        assert alert.location is None and alert.area is None and alert.point() is None  # unlocated, not 0,0
        return
    assert "geometry_unknown" not in alert.model_extra
    geometry = alert.area.geometry() if alert.area else shapely.geometry.Point(alert.location.lon, alert.location.lat)
    assert shapely.geometry.box(*box).contains(geometry), (name, geometry.bounds)


def test_cap003_translations_for_multi_language_files():
    canada = decode_alert(raw("cap/gcl_canada.cap"))
    assert canada.model_extra["language"] == "en-CA"
    assert set(canada.translations) == {"fr-CA"}
    assert canada.translations["fr-CA"]["title"]
    assert canada.title != canada.translations["fr-CA"]["title"]

    naad = decode_alert(raw("cap/cpl_CanadaNaad.xml"))
    assert set(naad.translations) == {"fr-CA"}

    # Spanish first, English second: English becomes the main text.
    aemet = decode_alert(raw("cap/wmoc2g_es_aemet.xml"))
    assert aemet.model_extra["language"] == "en-GB"
    assert aemet.title.startswith("Moderate rain warning")
    assert aemet.translations["es-ES"]["title"].startswith("Aviso de lluvias")
    assert "Esté atento" in aemet.translations["es-ES"]["description"]  # instruction appended

    # single-language, non-English: that language is the main text
    mexico = decode_alert(raw("cap/cpl_mexico.xml"))
    assert mexico.translations is None
    assert mexico.model_extra["language"] == "es-419"
    assert mexico.title.startswith("LA TORMENTA TROPICAL")

    # two info blocks in the same language: no translation of itself
    assert decode_alert(raw("cap/gcl_australia.cap")).translations is None


def test_cap004_exercise_from_status():
    ph = decode_alert(raw("cap/cpl_ph.cap"))
    assert ph.exercise is True
    assert ph.model_extra["cap_status"] == "Test"
    for name in files("valid"):
        if name != "cap/cpl_ph.cap":
            assert decode_alert(raw(name)).exercise is False, name


def test_cap005_msg_type_and_references():
    canada = decode_alert(raw("cap/gcl_canada.cap"))
    assert canada.msg_type == "update"
    assert canada.references == ["2.49.0.1.124.a3f342a4.2012", "2.49.0.1.124.60f31a3a.2012"]

    mexico = decode_alert(raw("cap/cpl_mexico.xml"))
    assert (mexico.msg_type, mexico.references) == ("update", ["avisossmn-ciclontropical-4061"])

    wcatwc = decode_alert(raw("cap/gcl_wcatwc-warning.cap"))
    assert wcatwc.references == ["PAAQ-1-lqw6d6"]

    cancel = decode_alert(raw("cap/cpl_no_info_tag.cap"))
    assert cancel.msg_type == "cancel"
    assert cancel.references == ["1017033100951096-517189320160225203219800"]
    assert cancel.title == "Cancellation of 1017033100951096-517189320160225203219800"
    assert (cancel.severity, cancel.type) == ("low", "other")
    assert cancel.model_extra["geometry_unknown"] is True
    assert cancel.model_extra["signed"] is True

    # an empty <references/> on a plain Alert is the same as none
    assert decode_alert(raw("cap/cpl_CanadaNaad.xml")).references is None


def test_cap006_edxl_de_envelope_is_unwrapped():
    alert = decode_alert(raw("cap/cpl_rfs_edxlde.xml"))
    assert alert.id == "2014-05-08T10:31:00-00:00:160068"
    assert alert.model_extra["edxl_distribution_id"] == "RFSUniqueID:2014-05-08T10:52:30-00:00"
    # circle of radius 0 is a point
    assert alert.area is None
    assert (alert.location.lat, alert.location.lon) == (-33.1347, 151.558)
    assert alert.model_extra["geocodes"]


def test_cap007_schema_invalid_is_rejected_with_first_error():
    reason = rejected(raw("cap/cpl_sweden.cap"))
    assert reason.startswith("CAP 1.2 schema:")
    assert "Element 'senderName': This element is not expected" in reason


@pytest.mark.parametrize("name", files("wrong-version"))
def test_cap008_cap11_refused(name):
    reason = rejected(raw(name))
    assert reason.startswith("CAP 1.1 is not accepted")
    assert "not up-converted" in reason


@pytest.mark.parametrize("name", files("not-well-formed"))
def test_cap009_not_well_formed(name):
    assert "not well-formed" in rejected(raw(name))


@pytest.mark.parametrize("name", files("invalid-not-cap"))
def test_cap010_not_cap(name):
    reason = rejected(raw(name))
    assert reason.startswith("not a CAP alert: root element <schema>")


@pytest.mark.parametrize("name", files("malicious"))
def test_cap011_malicious_refused_without_file_or_network(name, monkeypatch):
    payload = raw(name)
    touched: list[str] = []

    def no_connect(self, *args, **kwargs):
        touched.append(f"connect {args}")
        raise AssertionError("network access attempted")

    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if "passwd" in str(file) or str(file).startswith("http"):
            touched.append(f"open {file}")
            raise AssertionError("file access attempted")
        return real_open(file, *args, **kwargs)

    def hook(event, args):  # also catches io.open/os.open and socket.* from Python code
        if event in ("open", "socket.connect", "socket.getaddrinfo", "urllib.Request"):
            if event != "open" or "passwd" in str(args[0]):
                touched.append(f"{event} {args[:1]}")

    def never(*args, **kwargs):
        raise AssertionError("the hostile document reached an alert decoder")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(alerts.formats.xml, "_dispatch", never)
    active = [True]
    sys.addaudithook(lambda event, args: hook(event, args) if active[0] else None)
    try:
        with pytest.raises(Rejected) as info:
            decode_alert(payload)
    finally:
        active[0] = False
    reason = info.value.reason
    assert "DTD" in reason or "entit" in reason.lower()
    assert touched == []


@pytest.mark.parametrize("name", files("invalid-semantic"))
def test_cap012_update_with_empty_references_rejected(name):
    reason = rejected(raw(name))
    assert "references" in reason and "Update" in reason


@pytest.mark.parametrize("name", files("invalid-signature"))
def test_cap013_tampered_signature_accepted_but_not_verified(name):
    alert = decode_alert(raw(name))
    assert alert.model_extra["signed"] is True
    assert alert.model_extra["signature_verified"] is False
    unsigned = decode_alert(raw("cap/wmocv_sc_no_signature.xml"))
    assert unsigned.model_extra["signed"] is False
    assert alert.area == unsigned.area


def test_cap014_circle_is_a_geodesic_polygon():
    alert = decode_alert(raw("cap/gcl_australia.cap"))
    assert alert.area.type == "Polygon"
    ring = alert.area.coordinates[0]
    assert len(ring) == cap_geometry.CIRCLE_POINTS + 1 and ring[0] == ring[-1]
    geod = Geod(ellps="WGS84")
    for lon, lat in ring:
        _, _, metres = geod.inv(147.0598, -35.3888, lon, lat)
        assert metres == pytest.approx(25_000, abs=1)
    assert alert.model_extra["geometry_source"] == "circle"
    assert {"valueName": "http://www.iso.org/iso/country_codes.html", "value": "AU-NSW"} in alert.model_extra[
        "geocodes"
    ]
    assert alert.model_extra["area_desc"] == "Yerong Creek Structure Fire"


def test_cap015_burkina_faso_41k_vertex_polygon():
    started = time.perf_counter()
    alert = decode_alert(raw("cap/wmocv_bf_valid.xml"))
    elapsed = time.perf_counter() - started
    assert alert.area.type == "Polygon"
    assert len(alert.area.coordinates[0]) > 40_000
    assert alert.model_extra["language"] == "fr" and alert.translations is None
    assert elapsed < 10


# -- hand-written messages ------------------------------------------------------


def area_xml(polygon: str | None = None, circle: str | None = None, geocodes=(), desc="Test area") -> str:
    parts = [f"<areaDesc>{desc}</areaDesc>"]
    if polygon is not None:
        parts.append(f"<polygon>{polygon}</polygon>")
    if circle is not None:
        parts.append(f"<circle>{circle}</circle>")
    for name, value in geocodes:
        parts.append(f"<geocode><valueName>{name}</valueName><value>{value}</value></geocode>")
    return "<area>" + "".join(parts) + "</area>"


BELGRADE = "44.9,20.3 44.9,20.6 44.7,20.6 44.7,20.3 44.9,20.3"


def info_xml(
    category="Met",
    event="Storm",
    urgency="Expected",
    severity="Moderate",
    certainty="Likely",
    language=None,
    headline="Test headline",
    description="Test description",
    instruction=None,
    areas=None,
) -> str:
    parts = []
    if language:
        parts.append(f"<language>{language}</language>")
    categories = [category] if isinstance(category, str) else category
    parts += [f"<category>{c}</category>" for c in categories]
    parts.append(f"<event>{event}</event>")
    parts.append(f"<urgency>{urgency}</urgency><severity>{severity}</severity><certainty>{certainty}</certainty>")
    if headline is not None:
        parts.append(f"<headline>{headline}</headline>")
    if description is not None:
        parts.append(f"<description>{description}</description>")
    if instruction is not None:
        parts.append(f"<instruction>{instruction}</instruction>")
    parts += areas if areas is not None else [area_xml(polygon=BELGRADE)]
    return "<info>" + "".join(parts) + "</info>"


def cap_xml(
    identifier="TEST-1",
    sender="ops@example.org",
    sent="2024-05-01T12:00:00+02:00",
    status="Actual",
    msg_type="Alert",
    scope="Public",
    restriction=None,
    addresses=None,
    references=None,
    infos=None,
    namespace=CAP12,
) -> str:
    parts = [
        f"<identifier>{identifier}</identifier>",
        f"<sender>{sender}</sender>",
        f"<sent>{sent}</sent>",
        f"<status>{status}</status>",
        f"<msgType>{msg_type}</msgType>",
        f"<scope>{scope}</scope>",
    ]
    if restriction is not None:
        parts.append(f"<restriction>{restriction}</restriction>")
    if addresses is not None:
        parts.append(f"<addresses>{addresses}</addresses>")
    if references is not None:
        parts.append(f"<references>{references}</references>")
    parts += infos if infos is not None else [info_xml()]
    return f'<?xml version="1.0" encoding="UTF-8"?><alert xmlns="{namespace}">' + "".join(parts) + "</alert>"


def test_cap016_hand_written_template_is_valid():
    alert = decode_alert(cap_xml())
    assert alert.id == "TEST-1"
    assert alert.reported_at == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert alert.description == "Test description"
    assert alert.releasable_to == ["ALL"]
    assert alert.model_extra["category"] == ["Met"]
    assert alert.model_extra["event"] == "Storm"
    assert (alert.model_extra["urgency"], alert.model_extra["certainty"], alert.model_extra["cap_severity"]) == (
        "Expected",
        "Likely",
        "Moderate",
    )
    assert alert.model_extra["language"] == "en-US"  # CAP default


@pytest.mark.parametrize(
    ("severity", "urgency", "certainty", "expected"),
    [
        ("Extreme", "Expected", "Likely", "critical"),
        ("Severe", "Expected", "Likely", "high"),
        ("Moderate", "Future", "Observed", "medium"),
        ("Minor", "Past", "Observed", "low"),
        ("Unknown", "Unknown", "Unknown", "low"),
        # bumped one level: urgency Immediate and certainty Observed/Likely
        ("Severe", "Immediate", "Observed", "critical"),
        ("Moderate", "Immediate", "Likely", "high"),
        ("Minor", "Immediate", "Observed", "medium"),
        ("Unknown", "Immediate", "Likely", "medium"),
        ("Extreme", "Immediate", "Observed", "critical"),
        # not bumped
        ("Moderate", "Immediate", "Possible", "medium"),
        ("Moderate", "Expected", "Observed", "medium"),
    ],
)
def test_cap017_severity_table(severity, urgency, certainty, expected):
    infos = [info_xml(severity=severity, urgency=urgency, certainty=certainty)]
    assert decode_alert(cap_xml(infos=infos)).severity == expected


def test_cap018_severity_is_the_most_severe_info():
    infos = [info_xml(severity="Minor"), info_xml(severity="Extreme", language="fr-FR")]
    assert decode_alert(cap_xml(infos=infos)).severity == "critical"


@pytest.mark.parametrize(
    ("categories", "event", "expected"),
    [
        ("Geo", "Earthquake", "natural_disaster"),
        ("Met", "Storm", "natural_disaster"),
        ("Fire", "Bushfire", "natural_disaster"),
        ("Env", "Pollution", "natural_disaster"),
        ("Infra", "Power outage", "natural_disaster"),
        ("Security", "Terrorist attack", "terrorism"),
        ("Security", "Car BOMB", "terrorism"),
        ("Security", "Explosion at station", "terrorism"),
        ("Security", "Riot in city centre", "civil_unrest"),
        ("Security", "Protest march", "civil_unrest"),
        ("Security", "Civil unrest", "civil_unrest"),
        ("Security", "Advisory update", "other"),
        ("Safety", "Missing child", "other"),
        ("Rescue", "Mountain rescue", "other"),
        ("Health", "Mass casualties after collapse", "mass_casualty"),
        ("Health", "Casualty collection", "mass_casualty"),
        ("Health", "Measles outbreak", "other"),
        ("CBRNE", "Chemical leak", "hazmat"),
        ("Transport", "Road closed", "other"),
        ("Other", "Anything", "other"),
        (["Met", "CBRNE"], "Toxic cloud after storm", "hazmat"),
        (["Security", "Fire"], "Bomb in warehouse fire", "terrorism"),
        (["Safety", "Fire"], "Fire", "natural_disaster"),
    ],
)
def test_cap019_type_table(categories, event, expected):
    alert = decode_alert(cap_xml(infos=[info_xml(category=categories, event=event)]))
    assert alert.type == expected
    assert alert.model_extra["category"] == ([categories] if isinstance(categories, str) else categories)
    assert alert.model_extra["event"] == event


def test_cap020_scope_restricted_and_private():
    restricted = decode_alert(cap_xml(scope="Restricted", restriction="Emergency services only"))
    assert restricted.releasable_to is None
    assert restricted.model_extra["restriction"] == "Emergency services only"

    private = decode_alert(cap_xml(scope="Private", addresses='RS BA "Crisis Cell" ops@example.org me XX'))
    assert private.releasable_to == ["RS", "BA"]
    assert private.model_extra["addresses"] == ["RS", "BA", "Crisis Cell", "ops@example.org", "me", "XX"]

    nobody = decode_alert(cap_xml(scope="Private", addresses="ops@example.org"))
    assert nobody.releasable_to is None


def test_cap021_source_and_sender():
    alert = decode_alert(cap_xml(sender="warnings@meteo.gov.rs"))
    assert alert.source == "warnings@meteo.gov.rs"
    assert alert.model_extra["sender"] == "warnings@meteo.gov.rs"
    assert alert.model_extra["sender_country"] == "RS"
    long_sender = "x" * 150 + "@example.org"
    assert len(decode_alert(cap_xml(sender=long_sender)).source) == 100
    assert decode_alert(cap_xml(sender="X")).source == "CAP:X"
    assert "sender" in rejected(cap_xml(sender=""))


@pytest.mark.parametrize(("status", "exercise"), [("Actual", False), ("Exercise", True), ("Test", True)])
def test_cap022_status(status, exercise):
    assert decode_alert(cap_xml(status=status)).exercise is exercise


@pytest.mark.parametrize("status", ["System", "Draft"])
def test_cap023_system_and_draft_rejected(status):
    assert "not an operational alert" in rejected(cap_xml(status=status))


@pytest.mark.parametrize("msg_type", ["Ack", "Error"])
def test_cap024_ack_and_error_rejected(msg_type):
    reason = rejected(cap_xml(msg_type=msg_type, references="a,b,2024-05-01T10:00:00+00:00"))
    assert f"msgType {msg_type}" in reason


def test_cap025_references_rules():
    refs = "a@x,ID-1,2024-05-01T10:00:00+00:00 a@x,ID-2,2024-05-01T11:00:00+00:00 a@x,ID-1,2024-05-01T10:00:00+00:00"
    assert decode_alert(cap_xml(msg_type="Update", references=refs)).references == ["ID-1", "ID-2"]
    assert "missing <references>" in rejected(cap_xml(msg_type="Update"))
    assert "missing <references>" in rejected(cap_xml(msg_type="Cancel"))
    assert "empty <references>" in rejected(cap_xml(msg_type="Cancel", references=" "))
    assert "not 'sender,identifier,sent'" in rejected(cap_xml(msg_type="Update", references="just-an-id"))
    assert decode_alert(cap_xml(references="")).references is None  # Alert: empty = none


def test_cap026_cancel_with_info_uses_it():
    alert = decode_alert(
        cap_xml(
            msg_type="Cancel",
            references="a@x,ID-9,2024-05-01T10:00:00+00:00",
            infos=[info_xml(headline="All clear")],
        )
    )
    assert (alert.msg_type, alert.title, alert.references) == ("cancel", "All clear", ["ID-9"])


@pytest.mark.parametrize("msg_type", ["Alert", "Update"])
def test_cap027_no_info_only_for_cancel(msg_type):
    refs = "a@x,ID-1,2024-05-01T10:00:00+00:00" if msg_type == "Update" else None
    assert "no <info>" in rejected(cap_xml(msg_type=msg_type, references=refs, infos=[]))


def test_cap028_polygons_closed_and_merged():
    open_ring = "44.9,20.3 44.9,20.6 44.7,20.6 44.7,20.3"
    alert = decode_alert(cap_xml(infos=[info_xml(areas=[area_xml(polygon=open_ring)])]))
    ring = alert.area.coordinates[0]
    assert ring[0] == ring[-1] == [20.3, 44.9]  # lat,lon in CAP -> lon,lat in GeoJSON
    assert len(ring) == 5

    far = "45.9,19.5 45.9,19.8 45.7,19.8 45.7,19.5"
    areas = [area_xml(polygon=BELGRADE), area_xml(polygon=far, desc="North")]
    two = decode_alert(cap_xml(infos=[info_xml(areas=areas)]))
    assert two.area.type == "MultiPolygon" and len(two.area.coordinates) == 2
    assert two.model_extra["area_desc"] == "Test area; North"

    both = decode_alert(
        cap_xml(infos=[info_xml(areas=[area_xml(polygon=BELGRADE), area_xml(circle="45.8,19.6 5")])])
    )
    assert both.area.type == "MultiPolygon"
    assert both.model_extra["geometry_source"] == "circle+polygon"


def test_cap029_translated_areas_are_not_duplicated():
    infos = [info_xml(language="en-GB"), info_xml(language="sr-RS", headline="Upozorenje")]
    alert = decode_alert(cap_xml(infos=infos))
    assert alert.area.type == "Polygon"
    assert alert.translations == {"sr-RS": {"title": "Upozorenje", "description": "Test description"}}


def test_cap030_title_description_instruction():
    alert = decode_alert(
        cap_xml(infos=[info_xml(headline=None, event="Flood", description="Rising river", instruction="Move up")])
    )
    assert alert.title == "Flood"
    assert alert.description == "Rising river\n\nMove up"
    multi_line = decode_alert(cap_xml(infos=[info_xml(headline="Line one\n   line two")]))
    assert multi_line.title == "Line one line two"


def test_cap031_geocode_resolved_against_admin1():
    areas = [area_xml(geocodes=[("ISO3166-2", "RS-16"), ("other", "12345")])]
    alert = decode_alert(cap_xml(infos=[info_xml(areas=areas)]))
    assert alert.area is not None and "geometry_unknown" not in alert.model_extra
    assert alert.model_extra["resolved_geocodes"] == ["RS-16"]
    assert alert.model_extra["geometry_source"] == "geocode"
    lon, lat = alert.point()
    assert 18 < lon < 23 and 42 < lat < 47  # in Serbia

    two = decode_alert(cap_xml(infos=[info_xml(areas=[area_xml(geocodes=[("iso", "RS-16"), ("iso", "RS-15")])])]))
    assert two.model_extra["resolved_geocodes"] == ["RS-16", "RS-15"]

    # a polygon wins over geocodes
    polygon = decode_alert(cap_xml(infos=[info_xml(areas=[area_xml(polygon=BELGRADE, geocodes=[("iso", "HR-01")])])]))
    assert polygon.model_extra["geometry_source"] == "polygon"

    unknown = decode_alert(cap_xml(infos=[info_xml(areas=[area_xml(geocodes=[("iso", "ZZ-99")])])]))
    assert unknown.model_extra["geometry_unknown"] is True


def test_cap032_alert_collection_and_edxl_edge_cases():
    one = cap_xml().split("?>", 1)[1]
    collection = f"<alerts>{one}{one}</alerts>"
    reason = rejected(collection)
    assert "holds 2 CAP alerts" in reason and "one message" in reason

    def edxl(*contents: str) -> str:
        objects = "".join(
            f"<contentObject><xmlContent><embeddedXMLContent>{c}</embeddedXMLContent></xmlContent></contentObject>"
            for c in contents
        )
        return (
            '<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0">'
            "<distributionID>D-1</distributionID><senderID>s@x</senderID>"
            f"<distributionStatus>Exercise</distributionStatus>{objects}</EDXLDistribution>"
        )

    wrapped = decode_alert(edxl(one))
    assert wrapped.id == "TEST-1" and wrapped.exercise is True  # EDXL status Exercise
    assert "carries 2 CAP alerts" in rejected(edxl(one, one))
    assert "no CAP 1.2 alert" in rejected(edxl())
    old = cap_xml(namespace=cap_schema.CAP11_NS).split("?>", 1)[1]
    assert "CAP 1.1 is not accepted" in rejected(edxl(old))
    bad = cap_xml(status="Bogus").split("?>", 1)[1]
    assert "CAP 1.2 schema" in rejected(edxl(bad))


def test_cap033_wrong_namespace():
    assert "namespace" in rejected(cap_xml(namespace="urn:example:not-cap"))
    assert "namespace none" in rejected("<alert><identifier>x</identifier></alert>")


@pytest.mark.parametrize(
    ("polygon", "circle", "words"),
    [
        ("44.9,20.3 44.9,abc 44.7,20.6 44.9,20.3", None, "polygon"),
        ("44.9,20.3 44.9 44.7,20.6 44.9,20.3", None, "lat,lon"),
        ("95,20.3 44.9,20.6 44.7,20.6 95,20.3", None, "out of range"),
        ("44.9,20.3 44.7,20.6", None, "at least 4"),
        ("44.9,20.3 nan,20.6 44.7,20.6 44.9,20.3", None, "out of range"),
        (None, "44.9,20.3", "lat,lon radius"),
        (None, "44.9,20.3 -5", "km >= 0"),
        (None, "44.9,20.3 inf", "km >= 0"),
        (None, "44.9,20.3 ten", "not a number"),
        (None, "80,20 2000", "pole"),
    ],
)
def test_cap034_bad_geometry_rejected(polygon, circle, words):
    areas = [area_xml(polygon=polygon, circle=circle)]
    reason = rejected(cap_xml(infos=[info_xml(areas=areas)]))
    assert words in reason


def test_cap035_circle_across_the_antimeridian_is_split():
    alert = decode_alert(cap_xml(infos=[info_xml(areas=[area_xml(circle="-17.7,179.9 50")])]))
    assert alert.area.type == "MultiPolygon"
    geometry = alert.area.geometry()
    min_lon, _, max_lon, _ = geometry.bounds
    assert min_lon >= -180 and max_lon <= 180
    assert min_lon < -179 and max_lon > 179


def test_cap036_bad_identifier_and_times():
    assert "identifier" in rejected(cap_xml(identifier=""))
    assert "id:" in rejected(cap_xml(identifier="x" * 250))
    assert "CAP 1.2 schema" in rejected(cap_xml(sent="2024-05-01T12:00:00"))
    assert "CAP 1.2 schema" in rejected(cap_xml(sent="2024-13-01T12:00:00+00:00"))


def test_cap037_schema_is_shipped_loaded_once_and_offline(monkeypatch):
    assert cap_schema.SCHEMA_PATH.read_bytes() == (DATA / "cap" / "CAP-v1.2.xsd").read_bytes()

    def no_connect(self, *args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(cap_schema, "_schema", None)  # force a fresh load under the guard
    first = cap_schema.cap12_schema()
    assert cap_schema.cap12_schema() is first
    # the loading parser never fetches: an external DTD reference is simply not loaded
    doc = etree.fromstring(b'<!DOCTYPE a SYSTEM "http://192.0.2.1/x.dtd"><a/>', parser=cap_schema._schema_parser())
    assert doc.tag == "a"


def test_cap038_unknown_geometry_area_desc_kept():
    alert = decode_alert(raw("cap/gcl_43b080713727.cap"))
    assert alert.model_extra["area_desc"] == "U.S. nationwide and interests worldwide"
    assert alert.model_extra["geometry_unknown"] is True
    assert alert.type == "other" and alert.severity == "critical"  # Severe + Immediate/Likely


def test_cap039_missing_schema_is_a_clear_refusal(monkeypatch, tmp_path):
    monkeypatch.setattr(cap_schema, "_schema", None)
    monkeypatch.setattr(cap_schema, "SCHEMA_PATH", tmp_path / "missing.xsd")
    assert "CAP 1.2 schema could not be loaded" in rejected(cap_xml())
    monkeypatch.undo()
    assert decode_alert(cap_xml()).id == "TEST-1"


def test_cap040_decoder_bug_becomes_internal_error_refusal(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cap, "decode_cap_alert", broken)
    reason = rejected(cap_xml())
    assert reason.startswith(alerts.formats.xml.INTERNAL_ERROR)
    assert "KeyError" in reason


# -- the geometry budget: counted before anything is built, repaired or merged --------------------------


def _zigzag(vertices: int, lat0: float = 42.0, lon0: float = 19.0) -> str:
    """A self-intersecting CAP polygon: ``vertices`` points zigzagging across 8 degrees of latitude."""
    points = [f"{lat0 + 4 * (i % 2)},{lon0 + 4 * i / vertices:.5f}" for i in range(vertices)]
    return " ".join([*points, points[0]])


def _cap_area(polygons=(), circles=()) -> bytes:
    area = ("<area><areaDesc>zigzag</areaDesc>" + "".join(f"<polygon>{p}</polygon>" for p in polygons)
            + "".join(f"<circle>{c}</circle>" for c in circles) + "</area>")
    return cap_xml(infos=[info_xml(areas=[area])]).encode()


def test_cap041_self_intersecting_zigzags_under_the_size_limit_are_kept_as_sent_and_placed_approximately(regions):
    from alerts.core.shapes import bounded

    circles = ["43.0,20.0 5", "43.1,20.1 5", "44.0,21.0 2"]
    payload = _cap_area([_zigzag(16_000), _zigzag(16_000, lat0=41.5)], circles)
    assert len(payload) < 1_048_576
    alert = decode_alert(payload)
    # Not repaired nor merged (make_valid on 16,000 zigzag vertices took minutes): the pieces as sent.
    assert alert.area.type == "MultiPolygon" and len(alert.area.coordinates) == 5
    assert [len(part[0]) for part in alert.area.coordinates[:2]] == [16_001, 16_001]
    geometry, approximate = bounded(alert.area.shape())
    assert approximate and geometry.is_valid
    placement = regions.place_area(geometry, approximate)
    assert placement.approximate and "ME" in placement.countries


def test_cap042_small_invalid_pieces_are_still_repaired_and_merged():
    bow_tie = "44.9,20.3 44.7,20.6 44.9,20.6 44.7,20.3 44.9,20.3"  # crosses itself once
    alert = decode_alert(_cap_area([bow_tie, BELGRADE], ["44.8,20.45 1"]))
    merged = shapely.geometry.shape(alert.area.model_dump())
    assert merged.is_valid and merged.geom_type == "Polygon"  # one piece: the union of all three


def test_cap043_too_many_circles_are_refused_before_any_is_computed_naming_the_limit():
    circles = [f"{40 + (i % 100) * 0.05:.2f},{14 + (i // 100) * 0.05:.2f} 1" for i in range(27_000)]
    payload = _cap_area(circles=circles)
    assert len(payload) < 1_048_576
    assert rejected(payload) == "CAP area (its polygons and circles) has 1001 polygons; at most 1000 are accepted"


def test_cap044_circles_count_as_the_vertices_of_their_polygons():
    circles = [f"{40 + (i % 30) * 0.1:.1f},{14 + (i // 30) * 0.1:.1f} 1" for i in range(999)]  # 999 x 65 vertices
    polygon = " ".join(f"{44 + (i % 2)},{20 + i * 1e-4:.4f}" for i in range(36_000)) + " 44,20.0000"
    with pytest.raises(Rejected) as info:
        decode_alert(_cap_area([polygon], circles), max_bytes=4_000_000)
    # 36,001 polygon vertices, then 65 per circle: refused at the first circle over the limit (the 985th).
    assert info.value.reason == ("CAP area (its polygons and circles) has 100026 vertices; "
                                 "at most 100000 are accepted")


def test_cap045_languages_differing_only_in_case_are_one_translation_the_first_kept():
    infos = [info_xml(language="en-US"), info_xml(language="SR-LATN", headline="Prvi"),
             info_xml(language="sr-latn", headline="Drugi", areas=[]), info_xml(language="EN-us", areas=[])]
    alert = decode_alert(cap_xml(infos=infos))
    assert alert.translations == {"SR-LATN": {"title": "Prvi", "description": "Test description"}}


def test_cap046_an_alternative_with_an_over_long_language_tag_is_skipped():
    longest = "sr-Latn-RS-x-abcdefgh-abcdefgh-abcd"
    assert len(longest) == 35  # cap.MAX_LANGUAGE_TAG, RFC 5646 section 4.4.1
    huge = "x-" + "-".join(["abcdefgh"] * 2667)  # a valid BCP 47 private-use tag of ~24,000 characters
    infos = [info_xml(language="en-US"), info_xml(language=huge, headline="Huge", areas=[]),
             info_xml(language=longest, headline="Longest", areas=[]),
             info_xml(language=longest + "e", headline="One over", areas=[])]
    alert = decode_alert(cap_xml(infos=infos))
    assert set(alert.translations) == {longest}


def test_cap047_a_main_block_with_an_over_long_language_tag_is_refused_naming_the_limit():
    huge = "en-" + "-".join(["abcdefgh"] * 2667)
    assert rejected(cap_xml(infos=[info_xml(language=huge)])) == (
        f"CAP <language> of the main <info> block is {len(huge)} characters long; at most 35 are accepted "
        "(RFC 5646 section 4.4.1)")


def test_cap048_at_most_max_translations_alternatives_are_kept_the_first_ones():
    infos = [info_xml(language="en-US")]
    infos += [info_xml(language=f"x-l{i}", headline=f"H{i}", areas=[]) for i in range(600)]
    alert = decode_alert(cap_xml(infos=infos), max_bytes=4_000_000)
    assert list(alert.translations) == [f"x-l{i}" for i in range(20)]  # cap.MAX_TRANSLATIONS
