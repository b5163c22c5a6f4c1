"""EDXL-DE 1.0/2.0 envelopes: find the one CAP 1.2 alert an envelope carries.

A message must carry exactly one alert: an envelope with none, with several,
or with only an older CAP version is refused with a reason. A non-standard
root holding several ``<alert>`` elements is refused the same way.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from alerts.formats.cap.elements import text_of
from alerts.formats.cap.validate import CAP12_NS, OLD_CAP_NAMESPACES
from alerts.formats.errors import Rejected


def unwrap_edxl(root: etree._Element) -> tuple[etree._Element, dict[str, Any]]:
    """The CAP 1.2 ``<alert>`` inside an EDXL-DE ``root``, and the envelope fields kept with it.

    The envelope dict holds ``edxl_distribution_id``, ``edxl_sender_id`` and
    ``edxl_distribution_status`` where the envelope gives them. Raises ``Rejected``.
    """
    ns = etree.QName(root).namespace
    path = f"{{{ns}}}contentObject/{{{ns}}}xmlContent/{{{ns}}}embeddedXMLContent"
    alerts: list[etree._Element] = []
    old_versions: list[str] = []
    for content in root.iterfind(path):
        for child in content:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child)
            if name.localname != "alert":
                continue
            if name.namespace == CAP12_NS:
                alerts.append(child)
            elif name.namespace in OLD_CAP_NAMESPACES:
                old_versions.append(OLD_CAP_NAMESPACES[name.namespace])
    if not alerts:
        if old_versions:
            raise Rejected(
                f"CAP {old_versions[0]} is not accepted: the EDXL-DE envelope carries a CAP "
                f"{old_versions[0]} alert; only CAP 1.2 is accepted (older versions are refused, "
                "not up-converted)"
            )
        raise Rejected(
            "EDXL-DE envelope carries no CAP 1.2 alert "
            "(looked in contentObject/xmlContent/embeddedXMLContent)"
        )
    if len(alerts) > 1:
        raise Rejected(
            f"EDXL-DE envelope carries {len(alerts)} CAP alerts: one message must carry "
            "exactly one alert; send each alert as its own message"
        )
    envelope: dict[str, Any] = {}
    for field, element in (("edxl_distribution_id", "distributionID"), ("edxl_sender_id", "senderID"),
                           ("edxl_distribution_status", "distributionStatus")):
        value = text_of(root.find(f"{{{ns}}}{element}"))
        if value:
            envelope[field] = value
    return alerts[0], envelope


def refuse_alert_collection(root: etree._Element) -> None:
    """A non-standard root holding several CAP alerts: always ``Rejected``."""
    count = sum(
        1
        for child in root
        if isinstance(child.tag, str) and etree.QName(child).localname == "alert"
    )
    raise Rejected(
        f"<{etree.QName(root).localname}> holds {count} CAP alerts: one message must carry "
        "exactly one alert; send each <alert> as its own message"
    )
