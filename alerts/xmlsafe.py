"""Hardened XML parsing: no DTDs, no entities, no network, no file access.

``parse_xml`` refuses any document that declares a DOCTYPE (which is where
entity expansion and external entities come from) before lxml sees it, then
parses with a parser that resolves nothing and reads nothing from outside.
"""
from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import etree


class UnsafeXML(ValueError):
    """The document tried something a hardened parser must refuse."""


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(raw: bytes) -> etree._Element:
    """Parse ``raw`` safely; raise ``UnsafeXML`` for hostile input, ``ValueError`` if not well-formed."""
    try:
        # defusedxml refuses DTDs, entity declarations and external references.
        defused_fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXML(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # ParseError and friends: not well-formed
        raise ValueError(str(exc)) from None
    try:
        return etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(str(exc)) from None
