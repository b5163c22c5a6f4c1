"""TAK Protocol version 1 (protobuf) -> CoT XML (``alerts.formats.cot.tak``), decoded as any CoT event."""
from __future__ import annotations

import pytest
from takproto import TAKProtoVer, parse_mesh, xml2proto

from alerts.formats.cot.tak import MESH_HEADER, cot_xml_of
from alerts.formats.decode import Rejected, decode_alert
from tests.alerts.formats.test_cot import cot_event


def _mesh(xml: str, **unset: int) -> bytes:
    """``xml`` as a TAK protobuf mesh message, with the ``cotEvent`` fields named in ``unset`` set to 0."""
    message = parse_mesh(bytes(xml2proto(xml.encode(), TAKProtoVer.MESH)))
    for field, value in unset.items():
        setattr(message.cotEvent, field, value)
    return MESH_HEADER + message.SerializeToString()


def test_ctk001_a_protobuf_911_decodes_as_its_xml_does():
    xml = cot_event()
    assert decode_alert(_mesh(xml)).model_dump(exclude={"received_at"}) == \
        decode_alert(xml).model_dump(exclude={"received_at"})


def test_ctk002_an_unset_send_time_is_missing_not_1970():
    """proto3 has no "absent": 0 is unset. It was read as 1970-01-01 (an alert dated 56 years ago); an XML
    event without ``time`` is refused, and so is this one now."""
    with pytest.raises(Rejected) as refused:
        decode_alert(_mesh(cot_event(), sendTime=0))
    assert "no 'time'" in refused.value.reason
    assert b"time=" not in cot_xml_of(_mesh(cot_event(), sendTime=0)).split(b"start=")[0]


def test_ctk003_an_unset_stale_time_is_no_stale_time_not_stale_on_arrival():
    alert = decode_alert(_mesh(cot_event(), staleTime=0))
    assert alert.model_extra.get("cot_stale") is None
    assert b"stale=" not in cot_xml_of(_mesh(cot_event(), staleTime=0))


@pytest.mark.parametrize(("document", "reason"), [
    (b'<cot:event xmlns:cot="urn:example:cot" version="2.0" uid="U-1" type="b-a-o-tbl"/>',
     "a CoT <event> is in no XML namespace; this one is in 'urn:example:cot'"),
    (b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>', "root element <alert> is not a CoT <event>"),
])
def test_ctk004_a_tak_listener_says_why_a_root_element_is_not_a_cot_event(document, reason):
    """A namespaced ``<cot:event>`` was refused as "root element <event> is not a CoT <event>"."""
    from alerts.formats.decode import decode_tak_alert

    with pytest.raises(Rejected) as refused:
        decode_tak_alert(document)
    assert reason in str(refused.value)
