"""CAP 1.2 namespaces, and validation against the OASIS CAP 1.2 XML Schema.

The schema (``schemas/CAP-v1.2.xsd``, as published by OASIS) is shipped beside
this module and loaded once, by a parser that reads nothing from the network.
Every problem is a ``Rejected`` naming the first schema error and its line.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from lxml import etree

from alerts.formats.errors import Rejected
from alerts.formats.text import one_line

log = logging.getLogger(__name__)

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"
CAP10_NS = "http://www.incident.com/cap/1.0"
#: Older CAP namespaces, refused (not up-converted), with their version.
OLD_CAP_NAMESPACES = {CAP11_NS: "1.1", CAP10_NS: "1.0"}
EDXL_DE_NAMESPACES = {
    "urn:oasis:names:tc:emergency:EDXL:DE:1.0",
    "urn:oasis:names:tc:emergency:EDXL:DE:2.0",
}
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "CAP-v1.2.xsd"
#: Longest refusal reason taken from a schema error.
REASON_MAX = 400


def q(name: str) -> str:
    """The qualified name of a CAP 1.2 element (``{urn:...:cap:1.2}name``)."""
    return f"{{{CAP12_NS}}}{name}"


_schema_lock = threading.Lock()
_schema: etree.XMLSchema | None = None


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def cap12_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 schema, parsed on first use without network access; ``Rejected`` if unreadable."""
    global _schema
    with _schema_lock:
        if _schema is None:
            try:
                document = etree.parse(str(SCHEMA_PATH), parser=_schema_parser())
                _schema = etree.XMLSchema(document)
            except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
                log.error("CAP 1.2 schema %s could not be loaded: %s", SCHEMA_PATH.name, exc)
                raise Rejected(
                    f"CAP 1.2 schema could not be loaded ({type(exc).__name__}); "
                    "CAP alerts cannot be validated"
                ) from None
        return _schema


def validate_cap12(alert: etree._Element) -> None:
    """Raise ``Rejected`` naming the first schema error of ``alert`` (a document root), if any."""
    schema = cap12_schema()
    with _schema_lock:  # the error log lives on the schema object
        valid = schema.validate(alert)
        errors = list(schema.error_log)
    if valid:
        return
    if not errors:
        raise Rejected("CAP 1.2 schema: the document is not valid")
    first = errors[0]
    message = first.message.replace(f"{{{CAP12_NS}}}", "")
    where = f"line {first.line}: " if first.line else ""
    raise Rejected(one_line(f"CAP 1.2 schema: {where}{message}", REASON_MAX))
