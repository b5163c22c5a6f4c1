"""TAK Protocol version 1 (protobuf) -> the CoT XML event it stands for, so one CoT decoder serves both.

A payload in TAK Protocol version 1 is recognised by its header, the "mesh"
form: ``0xBF 0x01 0xBF`` then one serialised ``TakMessage`` (the message
definitions are those of the ``takproto`` package, copied from ATAK-CIV). The
TAK listener (``alerts.ingest.tak``) stores every protobuf message it frames in
this form, whether it came as a mesh datagram or off a stream (``0xBF``,
varint length, message), so the payload in the inbox is the device's own bytes
behind one fixed header, and decoding happens here, at ingest, like every other
format.

The event is rebuilt as CoT XML (``cot_xml_of``): ``type``, ``access``,
``qos``, ``opex``, ``uid``, ``how``, the three times (milliseconds since the
epoch -> ISO 8601 UTC; 0, protobuf's unset value, leaves the attribute out), the point, and ``detail`` (its ``xmlDetail`` fragment
parsed with the same hardened parser as any XML payload, then the typed
``contact``, ``__group``, ``precisionlocation``, ``status``, ``takv`` and
``track``). Protobuf has no field for the ``caveat`` and ``releasableTo``
attributes: a TAK device that marks its events must send XML, or its feed's
defaults apply. Anything that is not a valid ``TakMessage`` with a ``cotEvent``
raises ``Rejected``.
"""
from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from lxml import etree
from takproto import TAKProtoVer, parse_mesh, xml2proto
from takproto.proto import TakMessage

from alerts.formats.errors import Rejected
from alerts.formats.xmlsafe import parse_xml

#: The header of a TAK Protocol version 1 mesh message (magic byte, version 1, magic byte).
MESH_HEADER = b"\xbf\x01\xbf"

_ATTRIBUTES = ("type", "access", "qos", "opex", "uid", "how")
_TIMES = (("time", "sendTime"), ("start", "startTime"), ("stale", "staleTime"))


def is_tak_protobuf(data: bytes) -> bool:
    """Whether ``data`` is a TAK Protocol version 1 message in mesh form (starts with ``MESH_HEADER``)."""
    return data.startswith(MESH_HEADER)


def tak_message(body: bytes) -> TakMessage | None:
    """One serialised ``TakMessage`` (no header) parsed by the protobuf library, or None if it is not one."""
    try:
        return TakMessage.FromString(body)
    except (DecodeError, ValueError, RuntimeError):
        return None


def _iso(millis: int) -> str:
    """Milliseconds since 1970-01-01 UTC as the ISO 8601 form CoT uses (``2026-01-02T03:04:05.678Z``)."""
    try:
        moment = datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise Rejected(f"TAK protobuf time {millis} ms is out of range") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(value: float) -> str:
    return repr(float(value))


def _typed_detail(detail: etree._Element, proto) -> None:
    """The typed sub-messages of a protobuf ``detail`` as the XML elements TAK writes for them."""
    typed = (("contact", "contact", ("endpoint", "callsign")), ("group", "__group", ("name", "role")),
             ("precisionLocation", "precisionlocation", ("geopointsrc", "altsrc")),
             ("takv", "takv", ("device", "platform", "os", "version")))
    for field, tag, names in typed:
        if proto.HasField(field):
            part = getattr(proto, field)
            etree.SubElement(detail, tag, {n: getattr(part, n) for n in names if getattr(part, n)})
    if proto.HasField("status"):
        etree.SubElement(detail, "status", {"battery": str(proto.status.battery)})
    if proto.HasField("track"):
        etree.SubElement(detail, "track", {"speed": _number(proto.track.speed),
                                           "course": _number(proto.track.course)})


def cot_xml_of(data: bytes) -> bytes:
    """The CoT ``<event>`` (UTF-8 XML bytes) of a TAK Protocol version 1 mesh message; ``Rejected`` if invalid.

    See the module docstring for what is carried over.
    """
    if not is_tak_protobuf(data):
        raise Rejected("not a TAK protobuf message (no 0xBF 0x01 0xBF header)")
    try:
        message = parse_mesh(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise Rejected(f"not a valid TAK protobuf message: {exc}") from None
    if not message.HasField("cotEvent"):
        raise Rejected("TAK protobuf message carries no CoT event (takControl only)")
    cot = message.cotEvent
    event = etree.Element("event", {"version": "2.0"})
    for name in _ATTRIBUTES:
        if getattr(cot, name):
            event.set(name, getattr(cot, name))
    for name, field in _TIMES:
        if getattr(cot, field):  # 0 is protobuf's "not set": left out, as an XML event without it (refused
            event.set(name, _iso(getattr(cot, field)))  # without ``time``), never read as 1970-01-01
    etree.SubElement(event, "point", {n: _number(getattr(cot, n)) for n in ("lat", "lon", "hae", "ce", "le")})
    detail = etree.SubElement(event, "detail")
    if cot.HasField("detail"):
        if cot.detail.xmlDetail:
            fragment = parse_xml(f"<detail>{cot.detail.xmlDetail}</detail>".encode(), "utf-8")
            detail.extend(list(fragment))
        _typed_detail(detail, cot.detail)
    return etree.tostring(event, encoding="UTF-8", xml_declaration=False)


def protobuf_stream_of(documents: bytes) -> bytes:
    """CoT XML documents one after another (each starting ``<?xml``, as ``alerts.formats.cot.encode`` writes
    them) as TAK Protocol version 1 streaming messages (``0xBF``, varint length, ``TakMessage``), converted by
    ``takproto``: what a connection that negotiated protobuf is sent. ``caveat`` and ``releasableTo`` have no
    protobuf field and are not carried (the module docstring)."""
    parts = [b"<?xml" + part for part in documents.split(b"<?xml") if part.strip()]
    return b"".join(bytes(xml2proto(part, TAKProtoVer.STREAM)) for part in parts)
