"""XML alert formats, recognised by content (the root element and its namespace).

``decode_xml_alert`` parses the payload's bytes safely, decoding them per the
byte-order mark and encoding declaration (``alerts.formats.xmlsafe``: no DTD,
no entities, no network), and dispatches on the root:

- ``<alert>`` in the CAP 1.2 namespace: ``alerts.formats.cap`` (a leap second
  in a CAP date-time normalised first, ``cap.elements.normalise_leap_seconds``;
  then validated against the OASIS schema and mapped);
- ``<alert>`` in the CAP 1.1 or 1.0 namespace: refused (not up-converted);
- ``<EDXLDistribution>`` (EDXL-DE 1.0/2.0): the one CAP 1.2 alert it carries;
- a non-standard root holding several CAP alerts (``<alerts>``): refused, one
  message is one alert;
- ``<event>`` without namespace: Cursor-on-Target, ``alerts.formats.cot.decode``;
- anything else: refused with the root element named.

Every refusal is ``Rejected``; nothing else escapes.
"""
from __future__ import annotations

import logging

from lxml import etree

from alerts.core.model import Alert
from alerts.formats.cap import edxl, mapping
from alerts.formats.cap.elements import normalise_leap_seconds
from alerts.formats.cap.validate import CAP12_NS, EDXL_DE_NAMESPACES, OLD_CAP_NAMESPACES
from alerts.formats.cot import decode as cot
from alerts.formats.errors import Rejected
from alerts.formats.text import one_line
from alerts.formats.xmlsafe import parse_xml

log = logging.getLogger(__name__)

#: Reasons for bugs caught by the safety net start with this, so tests can tell
#: a deliberate refusal from a decoder that fell over.
INTERNAL_ERROR = "XML alert could not be decoded (internal error"


def decode_xml_alert(raw: bytes, encoding: str | None = None, *, cot_only: bool = False) -> Alert:
    """One XML payload (its bytes) as an alert; ``Rejected`` with a reason for anything else.

    ``encoding`` is None to decode per byte-order mark and declaration, or
    ``"utf-8"`` for the UTF-8 form of a payload that arrived as text
    (``alerts.formats.xmlsafe.parse_xml``). ``cot_only``: a CoT ``<event>`` as a
    TAK device sends it, nothing else (see ``alerts.formats.decode.decode_tak_alert``).
    """
    root = parse_xml(raw, encoding)
    try:
        if cot_only:
            if not (isinstance(root.tag, str) and root.tag == "event"):
                name = etree.QName(root) if isinstance(root.tag, str) else None
                if name is not None and name.localname == "event":  # CoT's <event> is in no namespace
                    raise Rejected(f"a TAK listener carries CoT only: a CoT <event> is in no XML namespace; this "
                                   f"one is in {one_line(name.namespace or '', 120)!r}")
                raise Rejected(f"a TAK listener carries CoT only: root element <{name.localname if name else 'none'}> "
                               "is not a CoT <event>")
            return cot.decode_cot_event(root, ours=False)
        return _dispatch(root)
    except Rejected:
        raise
    except RecursionError:
        raise Rejected("XML alert nested too deeply") from None
    except Exception as exc:  # noqa: BLE001  the contract: only Rejected leaves here
        log.exception("XML alert decoder failed")
        raise Rejected(f"{INTERNAL_ERROR} {type(exc).__name__}): {str(exc)[:200]}") from None


def _dispatch(root: etree._Element) -> Alert:
    if not isinstance(root.tag, str):
        raise Rejected("not an XML alert: the document has no root element")
    name = etree.QName(root)
    local, namespace = name.localname, name.namespace

    if local == "alert":
        if namespace == CAP12_NS:
            normalise_leap_seconds(root)
            return mapping.decode_cap_alert(root)
        if namespace in OLD_CAP_NAMESPACES:
            version = OLD_CAP_NAMESPACES[namespace]
            raise Rejected(
                f"CAP {version} is not accepted: namespace {namespace}; only CAP 1.2 "
                f"({CAP12_NS}) is accepted, older versions are refused, not up-converted"
            )
        raise Rejected(
            f"not a CAP 1.2 alert: <alert> in namespace {namespace or 'none'} "
            f"(CAP 1.2 uses namespace {CAP12_NS})"
        )
    if local == "EDXLDistribution" and namespace in EDXL_DE_NAMESPACES:
        normalise_leap_seconds(root)
        alert, envelope = edxl.unwrap_edxl(root)
        return mapping.decode_cap_alert(alert, envelope)
    if any(
        isinstance(child.tag, str)
        and etree.QName(child).localname == "alert"
        and etree.QName(child).namespace in (CAP12_NS, *OLD_CAP_NAMESPACES)
        for child in root
    ):
        edxl.refuse_alert_collection(root)
    if local == "event" and namespace is None:
        return cot.decode_cot_event(root)
    raise Rejected(
        f"not a CAP alert: root element <{local}> in namespace {namespace or 'none'} "
        "(accepted XML: a CAP 1.2 <alert>, an EDXL-DE envelope carrying one, "
        "or a Cursor-on-Target <event>)"
    )
