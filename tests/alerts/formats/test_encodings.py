"""XML is decoded per its byte-order mark and encoding declaration; JSON stays strictly UTF-8.

Case 06b (a Croatian CAP alert in ISO-8859-2, ``tests/data/cases``) and the
classes public trackers and test suites reported: an ISO-8859-2 feed
(alexdebril/feed-io#247), text given as ``str`` with a non-UTF-8 declaration
and bytes in ISO-8859-1 (kagisearch/fastfeedparser ``tests/test_encoding.py``),
a document declaring UTF-16 (fastfeedparser ``tests/integration/utf16_encoded.xml``),
Windows-1251 (morbac/xmltools#23), ISO-8859-15 and its euro sign
(dbuenzli/xmlm#29), a feed declaring UTF-8 that is not (RSS-Bridge/rss-bridge#3632),
Windows-1252 bytes without a declaration (LK8000/LK8000#1556), CoT with
characters outside ASCII (Theta-Limited/OpenAthenaAndroid#41).
"""
from __future__ import annotations

import codecs
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.core.model import Alert
from alerts.formats.decode import Rejected, decode_alert
from alerts.formats.payload import looks_like_xml
from tests.conftest import DATA, make_alert

CASE_06B = (DATA / "cases" / "06b_cap-iso-8859-2.xml").read_bytes()
TEXT_06B = CASE_06B.decode("iso-8859-2")
DECLARATION = '<?xml version="1.0" encoding="ISO-8859-2"?>'


def rejected(raw: bytes | str) -> str:
    with pytest.raises(Rejected) as info:
        decode_alert(raw)
    return info.value.reason


def declared(text: str, encoding: str | None) -> str:
    """``text`` (a document) with its declaration naming ``encoding`` (none at all for None)."""
    return text.replace(DECLARATION, f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else "")


def cap(description: str, area: str = "Osijek", headline: str = "Poplava kod Osijeka") -> str:
    """Case 06b with other texts (still CAP 1.2 valid), as text with the ISO-8859-2 declaration."""
    text = re.sub(r"<description>.*</description>", f"<description>{description}</description>", TEXT_06B)
    text = re.sub(r"<areaDesc>.*</areaDesc>", f"<areaDesc>{area}</areaDesc>", text)
    return re.sub(r"<headline>.*</headline>", f"<headline>{headline}</headline>", text)


def cot(callsign: str, remarks: str, encoding: str | None = "UTF-8") -> str:
    """A CoT 911 alert (as ATAK sends it) with a callsign and remarks, as text with a declaration."""
    head = f"<?xml version='1.0' encoding='{encoding}' standalone='yes'?>" if encoding else ""
    return (
        f"{head}<event version='2.0' uid='ANDROID-enc-9-1-1' type='b-a-o-tbl' time='2026-05-01T10:00:00.000Z' "
        "start='2026-05-01T10:00:00.000Z' stale='2026-05-01T10:10:00.000Z' how='h-e'>"
        "<point lat='44.81' lon='20.46' hae='100' ce='10' le='10'/>"
        f"<detail><contact callsign='{callsign}'/><emergency type='911 Alert'>{callsign}</emergency>"
        f"<remarks>{remarks}</remarks></detail></event>"
    )


def check_06b(alert: Alert) -> None:
    assert alert.id == "HR-DHMZ-2026-1183"
    assert alert.model_extra["area_desc"] == "Osječko-baranjska županija"
    assert "pričuvne snage civilne zaštite" in alert.description
    assert "Šećerana i žitni silosi ugroženi" in alert.description
    assert alert.title == "Poplava kod Osijeka: Drava iznad kote obrane, ceste zatvorene"


# --- decoded per the document -----------------------------------------------------------


def test_enc001_case_06b_iso_8859_2_cap_is_decoded_per_its_declaration():
    check_06b(decode_alert(CASE_06B))


@pytest.mark.parametrize(
    ("declaration", "raw"),
    [
        ("UTF-8", lambda t: t.encode("utf-8")),
        (None, lambda t: t.encode("utf-8")),
        ("UTF-8", lambda t: codecs.BOM_UTF8 + t.encode("utf-8")),
        ("UTF-16", lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
        ("UTF-16", lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be")),
        (None, lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
        ("windows-1250", lambda t: t.encode("cp1250")),
        ("Windows-1250", lambda t: t.encode("cp1250")),
        ("iso-8859-2", lambda t: t.encode("iso-8859-2")),
    ],
    ids=["utf-8", "utf-8-no-declaration", "utf-8-bom", "utf-16le-bom", "utf-16be-bom", "utf-16-bom-only",
         "windows-1250", "windows-1250-capitalised", "iso-8859-2-lower-case"],
)
def test_enc002_the_same_alert_in_every_encoding_reads_the_same(declaration, raw):
    check_06b(decode_alert(raw(declared(TEXT_06B, declaration))))


@pytest.mark.parametrize(
    ("encoding", "codec", "callsign", "remarks"),
    [
        ("ISO-8859-5", "iso-8859-5", "Соко-2", "Пожар у магацину, Ђорђе и Џон повређени"),
        ("windows-1251", "cp1251", "Ѓорѓи-1", "Пожар во Скопје: ѓ ќ ѕ љ њ џ"),
        ("ISO-8859-7", "iso-8859-7", "Αετός-3", "Πυρκαγιά στη Θεσσαλονίκη"),
        ("windows-1253", "cp1253", "Αετός-4", "Σεισμός στην Κεφαλονιά· ζημιές"),
        ("ISO-8859-1", "iso-8859-1", "Équipe-5", "Blessé à Genève, çà et là"),
        ("UTF-16", "utf-16", "Сокол-6", "Тревога: Ђурђевдан"),
        ("UTF-8", "utf-8", "Ωμέγα-7", "Тревога, Šećerana"),
    ],
)
def test_enc003_cot_text_comes_out_right_in_every_declared_encoding(encoding, codec, callsign, remarks):
    alert = decode_alert(cot(callsign, remarks, encoding).encode(codec))
    assert alert.title == remarks and alert.source == callsign
    assert alert.model_extra["callsign"] == callsign


def test_enc004_text_payloads_are_read_as_text_whatever_their_declaration_says():
    # A str was decoded already; its declaration no longer describes any bytes (fastfeedparser's class).
    check_06b(decode_alert(TEXT_06B))
    assert decode_alert(cot("Ѓорѓи-1", "Пожар", "windows-1251")).title == "Пожар"
    assert decode_alert(declared(TEXT_06B, "UTF-16")).id == "HR-DHMZ-2026-1183"


def test_enc005_iso_8859_1_and_15_single_byte_texts():
    latin1 = cap("Crue à Genève, évacuation", area="Genève", headline="Crue du Rhône")
    alert = decode_alert(declared(latin1, "ISO-8859-1").encode("iso-8859-1"))
    assert alert.description == "Crue à Genève, évacuation" and alert.title == "Crue du Rhône"
    latin9 = cap("Škoda procijenjena na 2 000 000 €", area="Žabljak")
    alert = decode_alert(declared(latin9, "ISO-8859-15").encode("iso-8859-15"))
    assert alert.description == "Škoda procijenjena na 2 000 000 €" and alert.model_extra["area_desc"] == "Žabljak"


@pytest.mark.parametrize(
    ("encoding", "codec", "description", "area"),
    [("Shift_JIS", "shift_jis", "震度5強の地震、津波の心配なし", "大阪府"),
     ("EUC-JP", "euc_jp", "震度5強の地震", "京都府"),
     ("Big5", "big5", "地震報告：花蓮縣", "花蓮縣"),
     ("GB2312", "gb2312", "暴雨红色预警", "广东省"),
     ("EUC-KR", "euc_kr", "지진 발생", "서울특별시")],
)
def test_enc006_multi_byte_encodings_lxml_supports_are_read_too(encoding, codec, description, area):
    # Expat cannot read these; the safety check reads the text decoded by Python's codec instead.
    alert = decode_alert(declared(cap(description, area=area), encoding).encode(codec))
    assert alert.description == description and alert.model_extra["area_desc"] == area


def _letters(codec: str) -> str:
    """Every letter the single-byte ``codec`` has above ASCII."""
    letters = []
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode(codec)
        except UnicodeDecodeError:
            continue
        if char.isalpha():
            letters.append(char)
    return "".join(letters)


CODECS = {"ISO-8859-2": "iso-8859-2", "windows-1250": "cp1250", "ISO-8859-5": "iso-8859-5",
          "windows-1251": "cp1251", "ISO-8859-7": "iso-8859-7", "windows-1253": "cp1253"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(CODECS)).flatmap(
    lambda name: st.tuples(st.just(name), st.text(st.sampled_from(_letters(CODECS[name]) + "abc "), min_size=1,
                                                   max_size=40).map(str.strip).filter(bool))))
def test_enc007_any_text_of_a_single_byte_encoding_comes_back_unchanged(case):
    name, text = case
    alert = decode_alert(declared(cap(text), name).encode(CODECS[name]))
    assert alert.description == text


# --- refused, with a reason that says why --------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (declared(TEXT_06B, "UTF-8").encode("iso-8859-2"), "XML is not valid 'UTF-8' (declared): byte 0xe8"),
        (declared(TEXT_06B, None).encode("cp1250"), "XML is not valid 'UTF-8' (no declaration)"),
        (b'<?xml version="1.0" encoding="windows-1250"?><alert>\x81</alert>',
         "XML is not valid 'windows-1250' (declared): byte 0x81 at offset 52"),
        (declared(TEXT_06B, "x-klingon").encode("iso-8859-2"), "XML encoding 'x-klingon' is not supported"),
        (declared(TEXT_06B, "UTF-16").encode("iso-8859-2"),
         "XML encoding 'UTF-16' is declared but the document has no UTF-16 byte-order mark"),
        (codecs.BOM_UTF16_LE + TEXT_06B.encode("utf-16-le"),
         "XML encoding conflict: the byte-order mark says UTF-16 but the declaration says 'ISO-8859-2'"),
        (declared(cap("地震"), "Shift_JIS").encode("shift_jis").replace("地".encode("shift_jis"), b"\x81\x20"),
         "XML is not valid 'Shift_JIS' (declared)"),
        (declared(TEXT_06B, "kz1048").encode("iso-8859-2"), "XML encoding 'kz1048' is not supported"),  # not lxml's
        (declared(TEXT_06B, "cp273").encode("iso-8859-2"), "XML encoding 'cp273' is not supported"),  # EBCDIC
        (b'<?xml version="1.0" encoding="UTF-7"?>+ADw-alert/+AD4-', "XML encoding 'UTF-7' is not accepted"),
    ],
    ids=["declared-utf-8-is-latin2", "undeclared-windows-1250", "windows-1250-undefined-byte", "unknown-encoding",
         "declared-utf-16-is-8-bit", "bom-contradicts-declaration", "bad-shift-jis", "lxml-does-not-know-it",
         "expat-cannot-read-it", "utf-7-hides-markup"],
)
def test_enc010_undecodable_xml_is_refused_naming_the_encoding(raw, words):
    assert words in rejected(raw)


@pytest.mark.parametrize(
    ("encoding", "codec"),
    [("ISO-8859-2", "iso-8859-2"), ("UTF-16", "utf-16"), ("windows-1251", "cp1251"), ("Shift_JIS", "shift_jis"),
     ("UTF-8", "utf-8")],
)
def test_enc011_doctype_and_entities_stay_refused_in_every_encoding(encoding, codec):
    xxe = (f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>')
    reason = rejected(xxe.encode(codec))
    assert reason.startswith("hostile XML refused") and "DTD" in reason and "root:" not in reason
    bomb = (f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')
    assert rejected(bomb.encode(codec)).startswith("hostile XML refused")


# --- JSON stays strictly UTF-8, and the envelope checks hold ------------------------------------


def test_enc020_json_is_utf_8_only():
    alert = make_alert(title="Šećerana: požar")
    assert decode_alert(json.dumps(alert, ensure_ascii=False).encode("utf-8")).title == "Šećerana: požar"
    assert decode_alert(codecs.BOM_UTF8 + json.dumps(alert).encode()).title == "Šećerana: požar"  # RFC 8259 8.1
    assert rejected(json.dumps(alert, ensure_ascii=False).encode("iso-8859-2")).startswith("not UTF-8")
    assert rejected(json.dumps(alert).encode("utf-16")).startswith("not UTF-8")
    assert "NUL" in rejected(json.dumps(alert).encode().replace(b'"high"', b'"hi\x00gh"'))


def test_enc021_size_and_emptiness_are_checked_before_any_decoding():
    raw = declared(TEXT_06B, "UTF-16").encode("utf-16")
    assert rejected_with_limit(raw, len(raw) - 1) == f"payload too large: {len(raw)} bytes (limit {len(raw) - 1})"
    assert decode_alert(raw, max_bytes=len(raw)).id == "HR-DHMZ-2026-1183"
    assert rejected(b" \r\n\t") == "empty payload"


def rejected_with_limit(raw: bytes, limit: int) -> str:
    with pytest.raises(Rejected) as info:
        decode_alert(raw, max_bytes=limit)
    return info.value.reason


@pytest.mark.parametrize(
    ("raw", "xml"),
    [
        (b"<a/>", True),
        (b"\xef\xbb\xbf<a/>", True),
        (b" \r\n\t<a/>", True),
        (codecs.BOM_UTF16_LE + " \n<a/>".encode("utf-16-le"), True),
        (codecs.BOM_UTF16_BE + " \n<a/>".encode("utf-16-be"), True),
        ("<a/>".encode("utf-16-le"), True),
        ("<a/>".encode("utf-16-be"), True),
        (b'{"a": "<b/>"}', False),
        (b"", False),
        (b"\xff\xfe\x00\x01", False),
        (b"abc<a/>", False),
        (codecs.BOM_UTF16_LE + b"{\x00", False),
    ],
)
def test_enc022_xml_is_recognised_from_its_bytes(raw, xml):
    assert looks_like_xml(raw) is xml


@pytest.mark.parametrize(
    "raw",
    [declared(TEXT_06B, "UTF-7").encode("utf-7"),  # markup as it would hide: "+ADw-" for "<"
     declared(TEXT_06B, "UTF-7").encode("iso-8859-2"),  # 8-bit bytes expat cannot even read as UTF-7
     b'<?xml version="1.0" encoding="utf-7"?><alert>12:00:00+02:00</alert>'],  # plain ASCII with a "+"
    ids=["utf-7-encoded", "not-valid-utf-7", "ascii-with-a-plus"],
)
def test_enc023_utf_7_is_refused_with_its_own_reason_whatever_the_bytes(raw):
    reason = rejected(raw)
    assert reason.startswith("XML encoding ") and "is not accepted: markup can hide in it (send UTF-8)" in reason


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_enc024_utf_16_without_a_byte_order_mark_is_read_when_its_bytes_are_utf_16(codec):
    # XML 1.0 section 4.3.3 asks for the mark; appendix F.1 detects UTF-16 from "<?" without it, as both parsers
    # do, so such a document is read (docs/cap-mapping.md, "Encodings"); 8-bit bytes declaring UTF-16 are not.
    check_06b(decode_alert(declared(TEXT_06B, "UTF-16").encode(codec)))
    assert "has no UTF-16 byte-order mark" in rejected(declared(TEXT_06B, "UTF-16").encode("iso-8859-2"))
