"""OASIS CAP 1.2 ``<alert>`` -> ``Alert``, field by field.

Every message is first validated against the OASIS CAP 1.2 XML Schema
(``alerts.formats.cap.validate``), then mapped; ``docs/cap-mapping.md``
documents every mapping decision (keep the two in step). Geometry is
``alerts.formats.cap.geometry``. Anything that cannot become an alert raises
``Rejected`` with a reason naming the problem.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from lxml import etree
from pydantic import ValidationError

from alerts.core.model import MAX_REFERENCES, Alert, AlertType, Severity
from alerts.core.nations import is_alpha2
from alerts.formats.cap.elements import cap_datetime, child, children, text_of
from alerts.formats.cap.geometry import DEFAULT_LANGUAGE, cap_geometry, language_of
from alerts.formats.cap.validate import XMLDSIG_NS, q, validate_cap12
from alerts.formats.errors import Rejected, validation_reason
from alerts.formats.text import free_text, one_line

_TITLE_MAX = 300
_DESCRIPTION_MAX = 20_000
_SOURCE_MAX = 100
_ADDRESS_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
#: The longest ``<language>`` tag taken (RFC 5646 section 4.4.1: an implementation should support tags of at
#: least 35 characters). A block in another language with a longer tag is skipped (no translation); a main
#: block with one is refused, since its language is stored with the alert.
MAX_LANGUAGE_TAG = 35
#: At most this many other languages are kept in ``translations``: the first ones, in document order.
MAX_TRANSLATIONS = 20

# -- CAP vocabularies -> ours

SEVERITY_MAP = {
    "Extreme": Severity.CRITICAL,
    "Severe": Severity.HIGH,
    "Moderate": Severity.MEDIUM,
    "Minor": Severity.LOW,
    "Unknown": Severity.LOW,
}
#: One level up when urgency is Immediate and certainty one of these.
BUMP_CERTAINTIES = {"Observed", "Likely"}

NATURAL_CATEGORIES = {"Geo", "Met", "Fire", "Env", "Infra"}
TERROR_WORDS = ("terror", "bomb", "explos")
UNREST_WORDS = ("riot", "protest", "unrest")
CASUALTY_WORDS = ("casualt",)
#: When several categories map to different types, the first in this order wins.
TYPE_PRIORITY = [
    AlertType.TERRORISM,
    AlertType.HAZMAT,
    AlertType.MASS_CASUALTY,
    AlertType.CIVIL_UNREST,
    AlertType.NATURAL_DISASTER,
    AlertType.OTHER,
]

MSG_TYPES = {"Alert": "alert", "Update": "update", "Cancel": "cancel"}
EXERCISE_STATUSES = {"Exercise", "Test"}


def decode_cap_alert(alert: etree._Element, envelope: dict[str, Any] | None = None) -> Alert:
    """Validate and map one CAP 1.2 ``<alert>`` element (root or embedded)."""
    if alert.getparent() is not None:
        # Validate a standalone copy: the schema wants <alert> as document root.
        alert = copy.deepcopy(alert)
    validate_cap12(alert)
    return _map_alert(alert, envelope or {})


def _references(text: str) -> list[dict[str, str]]:
    """``sender,identifier,sent`` triples (CAP 1.2 section 3.2.1), de-duplicated, in order; more than
    ``MAX_REFERENCES`` (``alerts.core.model``, the one limit of every format) is refused."""
    triples = text.split()
    if len(triples) > MAX_REFERENCES:
        raise Rejected(f"CAP <references> names {len(triples)} messages; at most {MAX_REFERENCES} are accepted")
    found: list[dict[str, str]] = []
    for triple in triples:
        parts = triple.split(",")
        if len(parts) < 3 or not parts[1].strip():
            raise Rejected(
                f"CAP <references> entry {one_line(triple, 120)!r} is not 'sender,identifier,sent'"
            )
        ref = {"sender": parts[0].strip(), "identifier": ",".join(parts[1:-1]).strip(), "sent": parts[-1].strip()}
        if ref not in found:
            found.append(ref)
    return found


def _addresses(text: str) -> list[str]:
    tokens = []
    for quoted, bare in _ADDRESS_TOKEN.findall(text):
        token = (quoted or bare).strip()
        if token:
            tokens.append(token)
    return tokens


def _severity(info: etree._Element) -> Severity:
    severity = SEVERITY_MAP.get(child(info, "severity"), Severity.LOW)
    if child(info, "urgency") == "Immediate" and child(info, "certainty") in BUMP_CERTAINTIES:
        severity = list(Severity)[max(severity.rank - 1, 0)]
    return severity


def _type_for_category(category: str, event: str) -> AlertType:
    event = event.lower()
    if category == "CBRNE":
        return AlertType.HAZMAT
    if category == "Security":
        if any(word in event for word in TERROR_WORDS):
            return AlertType.TERRORISM
        if any(word in event for word in UNREST_WORDS):
            return AlertType.CIVIL_UNREST
        return AlertType.OTHER
    if category == "Health":
        if any(word in event for word in CASUALTY_WORDS):
            return AlertType.MASS_CASUALTY
        return AlertType.OTHER
    if category in NATURAL_CATEGORIES:
        return AlertType.NATURAL_DISASTER
    return AlertType.OTHER  # Safety, Rescue, Transport, Other


def _alert_type(categories: list[str], event: str) -> AlertType:
    types = {_type_for_category(category, event) for category in categories}
    for candidate in TYPE_PRIORITY:
        if candidate in types:
            return candidate
    return AlertType.OTHER


def _main_info(infos: list[etree._Element]) -> etree._Element:
    for info in infos:
        if language_of(info).lower().startswith("en"):
            return info
    return infos[0]


def _title_and_description(info: etree._Element) -> tuple[str, str]:
    title = one_line(child(info, "headline") or child(info, "event"), _TITLE_MAX)
    parts = [p for p in (child(info, "description"), child(info, "instruction")) if p]
    return title, free_text("\n\n".join(parts), _DESCRIPTION_MAX)


def _translations(infos: list[etree._Element], main: etree._Element,
                  main_language: str) -> dict[str, dict[str, str]]:
    """``{language: {"title", "description"}}`` of the blocks in languages other than the main block's.

    Language tags are compared case-insensitively (RFC 5646 section 2.1.1: ``SR-LATN`` is ``sr-Latn``); the
    first block with a title in a language is kept, under its tag as sent. A tag longer than
    ``MAX_LANGUAGE_TAG`` is skipped, and so is every language after the first ``MAX_TRANSLATIONS``."""
    translations: dict[str, dict[str, str]] = {}
    seen = {main_language.lower()}
    for info in infos:
        if len(translations) >= MAX_TRANSLATIONS:
            break
        language = language_of(info)
        if info is main or language.lower() in seen or len(language) > MAX_LANGUAGE_TAG:
            continue
        title, description = _title_and_description(info)
        if title:
            seen.add(language.lower())
            translations[language] = {"title": title, "description": description}
    return translations


def _source(sender: str) -> str:
    source = one_line(sender, _SOURCE_MAX)
    if len(source) < 2:
        source = f"CAP:{source}"
    return source


def _sender_country(sender: str) -> str | None:
    """ISO 3166-1 code of the sender's domain ccTLD, as a hint only ('uk' -> GB)."""
    host = sender.strip().lower()
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/", 1)[0].split(":", 1)[0]
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    code = {"uk": "GB"}.get(tld, tld.upper())
    return code if is_alpha2(code) else None


def _map_alert(alert: etree._Element, envelope: dict[str, Any]) -> Alert:
    identifier = child(alert, "identifier")
    sender = child(alert, "sender")
    status = child(alert, "status")
    cap_msg_type = child(alert, "msgType")
    scope = child(alert, "scope")

    if not identifier:
        raise Rejected("CAP <identifier> is empty")
    if not sender:
        raise Rejected("CAP <sender> is empty")
    if status in ("System", "Draft"):
        raise Rejected(f"CAP status {status} is not an operational alert (only Actual, Exercise, Test)")
    if cap_msg_type not in MSG_TYPES:
        raise Rejected(
            f"CAP msgType {cap_msg_type} is not an alert (only Alert, Update, Cancel are accepted)"
        )
    msg_type = MSG_TYPES[cap_msg_type]
    reported_at = cap_datetime(child(alert, "sent"), "sent")

    references_element = alert.find(q("references"))
    cap_references = _references(text_of(references_element)) if references_element is not None else []
    references = list(dict.fromkeys(ref["identifier"] for ref in cap_references))
    if msg_type in ("update", "cancel") and not references:
        state = "empty" if references_element is not None else "missing"
        raise Rejected(
            f"CAP {cap_msg_type} with {state} <references>: an {cap_msg_type} must name the "
            "message(s) it replaces as 'sender,identifier,sent' (zero references is invalid)"
        )

    extra: dict[str, Any] = {"sender": sender, "cap_status": status}
    if cap_references:
        extra["cap_references"] = cap_references
    country = _sender_country(sender)
    if country:
        extra["sender_country"] = country
    cap_source = child(alert, "source")
    if cap_source:
        extra["cap_source"] = one_line(cap_source, 500)
    note = child(alert, "note")
    if note:
        extra["note"] = free_text(note, 2000)
    incidents = child(alert, "incidents")
    if incidents:
        extra["incidents"] = one_line(incidents, 500)

    # scope -> releasable_to
    addresses = _addresses(child(alert, "addresses"))
    if addresses:
        extra["addresses"] = addresses
    releasable_to: list[str] | None
    if scope == "Public":
        releasable_to = ["ALL"]
    elif scope == "Restricted":
        releasable_to = None
        extra["restriction"] = one_line(child(alert, "restriction"), 1000)
    else:  # Private
        nations = [t for t in addresses if is_alpha2(t)]
        releasable_to = nations or None
    extra["scope"] = scope

    # signatures are kept but not verified (yet)
    extra["signed"] = alert.find(f"{{{XMLDSIG_NS}}}Signature") is not None
    extra["signature_verified"] = False

    infos = alert.findall(q("info"))
    if infos:
        main = _main_info(infos)
        main_language = language_of(main)
        title, description = _title_and_description(main)
        if not title:
            raise Rejected("CAP <info> has neither <headline> nor <event> text")
        event = child(main, "event")
        categories = children(main, "category")
        alert_type = _alert_type(categories, event)
        severity = min((_severity(info) for info in infos), key=lambda s: s.rank)
        if len(main_language) > MAX_LANGUAGE_TAG:
            raise Rejected(f"CAP <language> of the main <info> block is {len(main_language)} characters long; "
                           f"at most {MAX_LANGUAGE_TAG} are accepted (RFC 5646 section 4.4.1)")
        translations = _translations(infos, main, main_language)
        extra.update(
            {
                "language": main_language,
                "category": categories,
                "event": one_line(event, 500),
                "urgency": child(main, "urgency"),
                "certainty": child(main, "certainty"),
                "cap_severity": child(main, "severity"),
            }
        )
        for name in ("effective", "onset", "expires"):
            value = child(main, name)
            if value:
                extra[name] = cap_datetime(value, name).isoformat()
        sender_name = child(main, "senderName")
        if sender_name:
            extra["sender_name"] = one_line(sender_name, 500)
        web = child(main, "web")
        if web:
            extra["web"] = one_line(web, 1000)
    else:
        if msg_type != "cancel":
            raise Rejected(
                f"CAP {cap_msg_type} has no <info> block: nothing to show "
                "(only a Cancel may come without one)"
            )
        main_language = DEFAULT_LANGUAGE
        title = one_line("Cancellation of " + ", ".join(references), _TITLE_MAX)
        description = ""
        alert_type = AlertType.OTHER
        severity = Severity.LOW
        translations = {}

    areas = [(info, area) for info in infos for area in info.findall(q("area"))]
    geometry = cap_geometry(areas, main_language)
    extra.update(geometry.extra)

    exercise = status in EXERCISE_STATUSES or envelope.get("edxl_distribution_status") in EXERCISE_STATUSES
    extra.update(envelope)

    document = {
        **extra,
        "id": identifier,
        "type": alert_type,
        "severity": severity,
        "title": title,
        "description": description,
        "location": geometry.location,
        "area": geometry.area,
        "reported_at": reported_at,
        "source": _source(sender),
        "releasable_to": releasable_to,
        "exercise": exercise,
        "msg_type": msg_type,
        "references": references or None,
        "translations": translations or None,
    }
    try:
        return Alert.model_validate(document)
    except ValidationError as exc:
        raise Rejected("CAP alert does not fit alert schema v1: " + validation_reason(exc)) from None


