"""Hardened XML parsing: no DTDs, no entities, no network, no file access; decoded per the document.

``parse_xml`` takes the payload's **bytes** and lets the parsers decode them,
as XML 1.0 (Fifth Edition) section 4.3.3 and appendix F say: a byte-order
mark decides (UTF-8, UTF-16 LE/BE), else the encoding declaration
(``<?xml version="1.0" encoding="ISO-8859-2"?>``), else UTF-8. UTF-8, UTF-16,
ISO-8859-1/2/5/7, Windows-1250/1251/1253 and the other encodings both
parsers know are accepted. UTF-16 without a byte-order mark is read too when
its bytes are UTF-16 (both parsers detect it from its first characters,
appendix F.1), although section 4.3.3 asks for the mark: nothing is
ambiguous, and real senders omit it; a UTF-16 declaration in a document
whose bytes are 8-bit is refused. Two steps, in this order:

1. defusedxml (expat) reads the whole document and refuses any DOCTYPE (where
   entity expansion and external entities come from), entity declaration or
   external reference, before lxml sees it. Expat decodes UTF-8, UTF-16 and
   every single-byte encoding Python has a codec for; for a multi-byte one
   (Shift_JIS, GB2312, Big5, EUC-KR) the text is decoded with Python's codec
   of the declared name and checked as text.
2. lxml parses the bytes with a parser that resolves nothing and reads
   nothing from outside (entities, DTDs and network off), decoding per the
   declaration itself.

A payload that arrived as text (``str``) was decoded already: its UTF-8 form
is parsed with the encoding fixed to UTF-8 (``encoding="utf-8"``), whatever
its declaration says.

UTF-7 is refused although both parsers read it: in it ``+ADw-`` is ``<``,
so expat and lxml would not see the same document (and markup could hide
from the safety check). It is refused with that reason whatever its bytes
(``XML encoding 'UTF-7' is not accepted ...``), also when they are not valid
UTF-7. As a second lock, a document lxml finds a DOCTYPE in is refused too.

Every problem is a ``Rejected``: ``hostile XML refused: ...``, ``XML
encoding ...`` (an encoding a parser does not support or that is refused,
bytes that are not valid in the document's encoding, a byte-order mark that
contradicts the declaration) or ``XML not well-formed: ...``.
"""
from __future__ import annotations

import codecs
from xml.parsers.expat import errors as expat_errors

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from lxml import etree

from alerts.formats.errors import Rejected
from alerts.formats.text import one_line

_SETTINGS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
_PARSER = etree.XMLParser(**_SETTINGS)
_TEXT_PARSER = etree.XMLParser(encoding="utf-8", **_SETTINGS)  # for payloads that arrived as str
#: Byte-order marks (XML 1.0 appendix F.1) and the encoding each one means.
BYTE_ORDER_MARKS = ((codecs.BOM_UTF8, "UTF-8"), (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
_NAME_MAX = 40
#: Encodings refused although both parsers read them: in UTF-7 "+ADw-" is "<", so the
#: safety check (expat, byte by byte) and lxml would not see the same document.
REFUSED_ENCODINGS = {"utf-7"}
_UNKNOWN_ENCODING = expat_errors.codes[expat_errors.XML_ERROR_UNKNOWN_ENCODING]


def parse_xml(raw: bytes, encoding: str | None = None) -> etree._Element:
    """The root element of ``raw``, parsed safely; ``Rejected`` for hostile, undecodable or not well-formed XML.

    ``encoding`` None: decoded per byte-order mark and declaration (module
    docstring). ``"utf-8"``: the bytes are the UTF-8 form of a payload that
    arrived as text, and any declaration is ignored.
    """
    declared = _refuse_hostile(raw, encoding)
    if encoding is None and (refusal := _refused(declared)):
        raise Rejected(refusal)
    try:
        root = etree.fromstring(raw, parser=_PARSER if encoding is None else _TEXT_PARSER)
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if message.startswith("Unsupported encoding"):
            raise Rejected(f"XML encoding {_name(declared)} is not supported") from None
        problem = _encoding_problem(raw, declared) if encoding is None else None
        raise Rejected(problem or f"XML not well-formed: {message}") from None
    if root.getroottree().docinfo.doctype:  # never reached while step 1 holds; kept as a second lock
        raise Rejected("hostile XML refused: DTDForbidden: the document declares a DOCTYPE")
    return root


class _NoTree:
    """A parser target without element handlers: expat checks the whole document (well-formedness and
    defusedxml's refusals) without building a tree that step 2 builds again (lxml)."""

    def close(self) -> None:
        return None


def _refuse_hostile(document: bytes | str, encoding: str | None) -> str | None:
    """Run defusedxml over ``document``; return the encoding its declaration names (None without one)."""
    parser = DefusedXMLParser(target=_NoTree(), encoding=encoding, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    declared: list[str | None] = [None]

    def remember(_version: str | None, name: str | None, _standalone: int) -> None:
        declared[0] = name

    parser.parser.XmlDeclHandler = remember  # the expat parser defusedxml configures too
    # No tree, so no text to keep: without a default handler expat drops character data instead of calling
    # back into Python for every run of it. An undefined entity stays an error (expat's own: no DTD here).
    parser.parser.DefaultHandlerExpand = None
    try:
        parser.feed(document)
        parser.close()
    except DefusedXmlException as exc:
        raise Rejected(f"hostile XML refused: {type(exc).__name__}: {exc}") from None
    except LookupError:  # expat asked Python for a codec it does not have
        raise Rejected(f"XML encoding {_name(declared[0])} is not supported") from None
    except ValueError as exc:  # "multi-byte encodings are not supported" (by expat)
        if isinstance(document, str) or declared[0] is None or "multi-byte" not in str(exc):
            raise Rejected(f"XML not well-formed: {exc}") from None
        if refusal := _refused(declared[0]):  # UTF-7 is one of these to expat: refused before it is decoded
            raise Rejected(refusal) from None
        _refuse_hostile(_decoded(document, declared[0]), None)
    except ParseError as exc:  # not well-formed, or not decodable
        if getattr(exc, "code", None) == _UNKNOWN_ENCODING:  # e.g. EBCDIC: not ASCII-compatible
            raise Rejected(f"XML encoding {_name(declared[0])} is not supported") from None
        problem = _encoding_problem(document, declared[0]) if isinstance(document, bytes) and not encoding else None
        raise Rejected(problem or f"XML not well-formed: {exc}") from None
    except Exception as exc:  # noqa: BLE001  anything else expat raises: not well-formed
        raise Rejected(f"XML not well-formed: {type(exc).__name__}: {exc}") from None
    return declared[0]


def _decoded(raw: bytes, declared: str) -> str:
    """``raw`` decoded with Python's codec of the declared encoding; ``Rejected`` if none or the bytes are bad."""
    try:
        return raw.decode(declared)
    except LookupError:
        raise Rejected(f"XML encoding {_name(declared)} is not supported") from None
    except UnicodeDecodeError as exc:
        raise Rejected(_bad_bytes(raw, exc, declared, "declared")) from None


def _refused(declared: str | None) -> str | None:
    """The reason a declared encoding of ``REFUSED_ENCODINGS`` is refused (module docstring), or None."""
    if declared and _family(declared) in REFUSED_ENCODINGS:
        return f"XML encoding {_name(declared)} is not accepted: markup can hide in it (send UTF-8)"
    return None


def _encoding_problem(raw: bytes, declared: str | None) -> str | None:
    """Why ``raw`` cannot be read in its own encoding (byte-order mark, else declaration, else UTF-8), or None."""
    bom = next((name for mark, name in BYTE_ORDER_MARKS if raw.startswith(mark)), None)
    if not bom and (refusal := _refused(declared)):
        return refusal
    if bom and declared and _family(declared) not in (_family(bom), None):
        return (f"XML encoding conflict: the byte-order mark says {bom} but the declaration says "
                f"{_name(declared)} (XML 1.0 section 4.3.3)")
    if not bom and declared and _family(declared) == "utf-16" and raw.startswith(b"<?"):
        return (f"XML encoding {_name(declared)} is declared but the document has no UTF-16 byte-order "
                "mark and is not UTF-16 (XML 1.0 section 4.3.3)")
    name, how = (bom, "byte-order mark") if bom else (declared, "declared") if declared else ("UTF-8", "no declaration")
    codec = {"UTF-16": "utf-16"}.get(name, name) if bom else name
    try:
        raw.decode(codec)
    except LookupError:
        return f"XML encoding {_name(name)} is not supported"
    except UnicodeDecodeError as exc:
        return _bad_bytes(raw, exc, name, how)
    return None


def _bad_bytes(raw: bytes, exc: UnicodeDecodeError, name: str, how: str) -> str:
    byte = raw[exc.start:exc.start + 1].hex()
    return f"XML is not valid {_name(name)} ({how}): byte 0x{byte} at offset {exc.start} cannot be decoded"


def _family(name: str) -> str | None:
    """``utf-8``, ``utf-16`` or the codec name of an encoding name; None when Python does not know it."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "utf-16" if codec.startswith("utf-16") else codec


def _name(declared: str | None) -> str:
    return repr(one_line(declared or "", _NAME_MAX))
