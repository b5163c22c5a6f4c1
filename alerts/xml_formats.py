"""XML alert formats recognised by content (the root element).

Until CAP 1.2 and Cursor-on-Target support lands, every well-formed, safe XML
document is refused with a reason naming what it is.
"""
from __future__ import annotations

from lxml import etree

from alerts.model import Alert


def decode_xml_alert(root: etree._Element) -> Alert:
    from alerts.decode import Rejected

    tag = etree.QName(root)
    raise Rejected(
        f"XML alerts are not accepted yet (root element <{tag.localname}> "
        f"in namespace {tag.namespace or 'none'}); send alert schema v1 JSON"
    )
