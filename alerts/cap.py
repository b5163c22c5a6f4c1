"""OASIS CAP 1.2 messages -> ``Alert``.

Every message is first validated against the OASIS CAP 1.2 XML Schema (shipped
in ``alerts/schemas``, loaded once by a parser without network access), then
mapped field by field. ``docs/cap-mapping.md`` documents every mapping
decision; keep the two in step.

Anything that cannot become an alert raises ``alerts.decode.Rejected`` with a
reason naming the problem; nothing else escapes for any input.
"""
from __future__ import annotations

import copy
import json
import logging
import math
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from lxml import etree
from pydantic import ValidationError
from pyproj import Geod

from alerts.decode import Rejected, format_validation_error
from alerts.model import Alert, AlertType, Area, Location, Severity

log = logging.getLogger(__name__)

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"
CAP10_NS = "http://www.incident.com/cap/1.0"
OLD_CAP_NAMESPACES = {CAP11_NS: "1.1", CAP10_NS: "1.0"}
EDXL_DE_NAMESPACES = {
    "urn:oasis:names:tc:emergency:EDXL:DE:1.0",
    "urn:oasis:names:tc:emergency:EDXL:DE:2.0",
}
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"

_PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = _PACKAGE_DIR / "schemas" / "CAP-v1.2.xsd"
ADMIN1_PATH = _PACKAGE_DIR.parent / "assets" / "geo" / "admin1.geojson"

#: Points on the approximated circle (geodesic, WGS84).
CIRCLE_POINTS = 64
#: CAP language when ``<language>`` is absent (CAP 1.2 section 3.2.2).
DEFAULT_LANGUAGE = "en-US"

_TITLE_MAX = 300
_DESCRIPTION_MAX = 20_000
_SOURCE_MAX = 100
_REASON_MAX = 400

_GEOD = Geod(ellps="WGS84")

# ISO 3166-1 alpha-2 codes officially assigned, plus XK (Kosovo, user-assigned;
# the code this project uses for it).
ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
    BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV
    CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD
    GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
    IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK
    LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW
    MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR
    PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
    ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY
    UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
    """.split()
)
_ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_ISO2_TOKEN = re.compile(r"^[A-Z]{2}$")
_ADDRESS_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_BAD_TEXT_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# -- CAP vocabularies -> ours ---------------------------------------------------

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


def _q(name: str) -> str:
    return f"{{{CAP12_NS}}}{name}"


# -- the schema, loaded once ----------------------------------------------------

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
    """The OASIS CAP 1.2 schema, parsed on first use without network access."""
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


def _short(text: str, limit: int = _REASON_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_cap12(alert: etree._Element) -> None:
    """Raise ``Rejected`` naming the first schema error, if any."""
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
    raise Rejected(_short(f"CAP 1.2 schema: {where}{message}"))


# -- entry points (called by alerts.xml_formats) --------------------------------


def decode_cap_alert(alert: etree._Element, envelope: dict[str, Any] | None = None) -> Alert:
    """Validate and map one CAP 1.2 ``<alert>`` element (root or embedded)."""
    if alert.getparent() is not None:
        # Validate a standalone copy: the schema wants <alert> as document root.
        alert = copy.deepcopy(alert)
    validate_cap12(alert)
    return _map_alert(alert, envelope or {})


def decode_edxl(root: etree._Element) -> Alert:
    """An EDXL-DE envelope: decode the one CAP 1.2 alert it carries."""
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
    distribution_id = _text(root.find(f"{{{ns}}}distributionID"))
    if distribution_id:
        envelope["edxl_distribution_id"] = distribution_id
    sender_id = _text(root.find(f"{{{ns}}}senderID"))
    if sender_id:
        envelope["edxl_sender_id"] = sender_id
    status = _text(root.find(f"{{{ns}}}distributionStatus"))
    if status:
        envelope["edxl_distribution_status"] = status
    return decode_cap_alert(alerts[0], envelope)


def refuse_alert_collection(root: etree._Element) -> None:
    """A non-standard root holding several CAP alerts: always refused."""
    count = sum(
        1
        for child in root
        if isinstance(child.tag, str) and etree.QName(child).localname == "alert"
    )
    raise Rejected(
        f"<{etree.QName(root).localname}> holds {count} CAP alerts: one message must carry "
        "exactly one alert; send each <alert> as its own message"
    )


# -- text helpers ---------------------------------------------------------------


def _text(element: etree._Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def _child(parent: etree._Element, name: str) -> str:
    return _text(parent.find(_q(name)))


def _children(parent: etree._Element, name: str) -> list[str]:
    return [_text(e) for e in parent.findall(_q(name))]


def _one_line(text: str, limit: int) -> str:
    text = " ".join(_BAD_TEXT_CHARS.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _free_text(text: str, limit: int) -> str:
    text = _BAD_TEXT_CHARS.sub("", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _datetime(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"CAP <{what}> is not a date-time: {_short(value, 80)!r}") from None
    if parsed.tzinfo is None:
        raise Rejected(f"CAP <{what}> has no time zone: {_short(value, 80)!r}")
    return parsed


# -- the mapping ----------------------------------------------------------------


def _references(text: str) -> list[str]:
    identifiers: list[str] = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) < 3 or not parts[1].strip():
            raise Rejected(
                f"CAP <references> entry {_short(triple, 120)!r} is not 'sender,identifier,sent'"
            )
        identifier = ",".join(parts[1:-1]).strip()
        if identifier not in identifiers:
            identifiers.append(identifier)
    return identifiers


def _addresses(text: str) -> list[str]:
    tokens = []
    for quoted, bare in _ADDRESS_TOKEN.findall(text):
        token = (quoted or bare).strip()
        if token:
            tokens.append(token)
    return tokens


def _severity(info: etree._Element) -> Severity:
    severity = SEVERITY_MAP.get(_child(info, "severity"), Severity.LOW)
    if _child(info, "urgency") == "Immediate" and _child(info, "certainty") in BUMP_CERTAINTIES:
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


def _language(info: etree._Element) -> str:
    return _child(info, "language") or DEFAULT_LANGUAGE


def _main_info(infos: list[etree._Element]) -> etree._Element:
    for info in infos:
        if _language(info).lower().startswith("en"):
            return info
    return infos[0]


def _title_and_description(info: etree._Element) -> tuple[str, str]:
    title = _one_line(_child(info, "headline") or _child(info, "event"), _TITLE_MAX)
    parts = [p for p in (_child(info, "description"), _child(info, "instruction")) if p]
    return title, _free_text("\n\n".join(parts), _DESCRIPTION_MAX)


def _source(sender: str) -> str:
    source = _one_line(sender, _SOURCE_MAX)
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
    return code if code in ISO_3166_ALPHA2 else None


def _map_alert(alert: etree._Element, envelope: dict[str, Any]) -> Alert:
    identifier = _child(alert, "identifier")
    sender = _child(alert, "sender")
    status = _child(alert, "status")
    cap_msg_type = _child(alert, "msgType")
    scope = _child(alert, "scope")

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
    reported_at = _datetime(_child(alert, "sent"), "sent")

    references_element = alert.find(_q("references"))
    references = _references(_text(references_element)) if references_element is not None else []
    if msg_type in ("update", "cancel") and not references:
        state = "empty" if references_element is not None else "missing"
        raise Rejected(
            f"CAP {cap_msg_type} with {state} <references>: an {cap_msg_type} must name the "
            "message(s) it replaces as 'sender,identifier,sent' (zero references is invalid)"
        )

    extra: dict[str, Any] = {"sender": sender, "cap_status": status}
    country = _sender_country(sender)
    if country:
        extra["sender_country"] = country
    cap_source = _child(alert, "source")
    if cap_source:
        extra["cap_source"] = _one_line(cap_source, 500)
    note = _child(alert, "note")
    if note:
        extra["note"] = _free_text(note, 2000)
    incidents = _child(alert, "incidents")
    if incidents:
        extra["incidents"] = _one_line(incidents, 500)

    # scope -> releasable_to
    addresses = _addresses(_child(alert, "addresses"))
    if addresses:
        extra["addresses"] = addresses
    releasable_to: list[str] | None
    if scope == "Public":
        releasable_to = ["ALL"]
    elif scope == "Restricted":
        releasable_to = None
        extra["restriction"] = _one_line(_child(alert, "restriction"), 1000)
    else:  # Private
        nations = [t for t in addresses if _ISO2_TOKEN.match(t) and t in ISO_3166_ALPHA2]
        releasable_to = nations or None
    extra["scope"] = scope

    # signatures are kept but not verified (yet)
    extra["signed"] = alert.find(f"{{{XMLDSIG_NS}}}Signature") is not None
    extra["signature_verified"] = False

    infos = alert.findall(_q("info"))
    if infos:
        main = _main_info(infos)
        main_language = _language(main)
        title, description = _title_and_description(main)
        if not title:
            raise Rejected("CAP <info> has neither <headline> nor <event> text")
        event = _child(main, "event")
        categories = _children(main, "category")
        alert_type = _alert_type(categories, event)
        severity = min((_severity(info) for info in infos), key=lambda s: s.rank)
        translations: dict[str, dict[str, str]] = {}
        for info in infos:
            language = _language(info)
            if info is main or language.lower() == main_language.lower() or language in translations:
                continue
            other_title, other_description = _title_and_description(info)
            if other_title:
                translations[language] = {"title": other_title, "description": other_description}
        extra.update(
            {
                "language": main_language,
                "category": categories,
                "event": _one_line(event, 500),
                "urgency": _child(main, "urgency"),
                "certainty": _child(main, "certainty"),
                "cap_severity": _child(main, "severity"),
            }
        )
        for name in ("effective", "onset", "expires"):
            value = _child(main, name)
            if value:
                extra[name] = _datetime(value, name).isoformat()
        sender_name = _child(main, "senderName")
        if sender_name:
            extra["sender_name"] = _one_line(sender_name, 500)
        web = _child(main, "web")
        if web:
            extra["web"] = _one_line(web, 1000)
    else:
        if msg_type != "cancel":
            raise Rejected(
                f"CAP {cap_msg_type} has no <info> block: nothing to show "
                "(only a Cancel may come without one)"
            )
        main_language = DEFAULT_LANGUAGE
        title = _one_line("Cancellation of " + ", ".join(references), _TITLE_MAX)
        description = ""
        alert_type = AlertType.OTHER
        severity = Severity.LOW
        translations = {}

    areas = [(info, area) for info in infos for area in info.findall(_q("area"))]
    geometry = _geometry(areas, main_language)
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
        raise Rejected("CAP alert does not fit alert schema v1: " + format_validation_error(exc)) from None


# -- geometry -------------------------------------------------------------------


class _Geometry:
    def __init__(self) -> None:
        self.location: Location | None = None
        self.area: Area | None = None
        self.extra: dict[str, Any] = {}


def _lat_lon(token: str, what: str) -> tuple[float, float]:
    parts = token.split(",")
    if len(parts) != 2:
        raise Rejected(f"CAP {what}: {_short(token, 60)!r} is not a 'lat,lon' pair")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise Rejected(f"CAP {what}: {_short(token, 60)!r} is not a 'lat,lon' pair of numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise Rejected(f"CAP {what}: {_short(token, 60)!r} is out of range (lat -90..90, lon -180..180)")
    return lat, lon


def _polygon_ring(text: str) -> list[list[float]]:
    ring = []
    for token in text.split():
        lat, lon = _lat_lon(token, "polygon")
        ring.append([lon, lat])
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))  # close it
    if len(ring) < 4:
        raise Rejected(f"CAP polygon has {len(ring)} points; a closed polygon needs at least 4")
    return ring


def _circle(text: str) -> tuple[tuple[float, float], float]:
    parts = text.split()
    if len(parts) != 2:
        raise Rejected(f"CAP circle {_short(text, 80)!r} is not 'lat,lon radius'")
    lat, lon = _lat_lon(parts[0], "circle")
    try:
        radius_km = float(parts[1])
    except ValueError:
        raise Rejected(f"CAP circle radius {_short(parts[1], 40)!r} is not a number") from None
    if not math.isfinite(radius_km) or radius_km < 0:
        raise Rejected(f"CAP circle radius {_short(parts[1], 40)!r} must be a number of km >= 0")
    return (lat, lon), radius_km


def _circle_polygons(lat: float, lon: float, radius_km: float) -> list[list[list[float]]]:
    """Exterior rings (lon, lat) approximating a geodesic circle; split at the antimeridian."""
    radius_m = radius_km * 1000.0
    for pole in (90.0, -90.0):
        _, _, to_pole = _GEOD.inv(lon, lat, lon, pole)
        if to_pole <= radius_m:
            raise Rejected(f"CAP circle at {lat},{lon} with radius {radius_km} km contains a pole: not supported")
    azimuths = np.linspace(0.0, 360.0, CIRCLE_POINTS, endpoint=False)
    lons, lats, _ = _GEOD.fwd(
        np.full(CIRCLE_POINTS, lon), np.full(CIRCLE_POINTS, lat), azimuths, np.full(CIRCLE_POINTS, radius_m)
    )
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if not (np.all(np.isfinite(lons)) and np.all(np.isfinite(lats))):
        raise Rejected(f"CAP circle at {lat},{lon} with radius {radius_km} km cannot be computed")
    if float(lons.max() - lons.min()) <= 180.0:
        ring = [[float(x), float(y)] for x, y in zip(lons, lats)]
        return [ring + [list(ring[0])]]
    # Crosses the antimeridian: unwrap around the centre, then cut at +-180.
    unwrapped = np.where(lons - lon > 180.0, lons - 360.0, np.where(lons - lon < -180.0, lons + 360.0, lons))
    polygon = shapely.geometry.Polygon(zip(unwrapped, lats))
    rings = []
    for shift, window in ((0.0, (-180.0, -90.0, 180.0, 90.0)), (360.0, (-540.0, -90.0, -180.0, 90.0)),
                          (-360.0, (180.0, -90.0, 540.0, 90.0))):
        part = polygon.intersection(shapely.geometry.box(*window))
        for piece in getattr(part, "geoms", [part]):
            if isinstance(piece, shapely.geometry.Polygon) and not piece.is_empty:
                rings.append([[float(x) + shift, float(y)] for x, y in piece.exterior.coords])
    return rings


def _as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    return float(value)


def _polygon_parts(geometry: Any) -> list[shapely.geometry.Polygon]:
    """The non-empty polygons in a shapely geometry (of any kind)."""
    if isinstance(geometry, shapely.geometry.Polygon):
        return [geometry] if not geometry.is_empty and geometry.area > 0 else []
    return [part for member in getattr(geometry, "geoms", []) for part in _polygon_parts(member)]


def _geojson(polygons: list[shapely.geometry.Polygon]) -> dict[str, Any]:
    geometry = polygons[0] if len(polygons) == 1 else shapely.geometry.MultiPolygon(polygons)
    mapped = shapely.geometry.mapping(geometry)
    return {"type": mapped["type"], "coordinates": _as_lists(mapped["coordinates"])}


def _area_from_rings(rings: list[list[list[float]]]) -> dict[str, Any]:
    """One ring -> Polygon as sent; several -> their union (Polygon or MultiPolygon)."""
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": [rings[0]]}
    try:
        merged = shapely.union_all([shapely.make_valid(shapely.geometry.Polygon(r)) for r in rings])
        parts = _polygon_parts(merged)
        if parts:
            return _geojson(parts)
    except Exception:  # noqa: BLE001  shapely raises several types; keep the rings as sent
        pass
    return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}


def _make_area(geojson: dict[str, Any], what: str) -> Area:
    try:
        return Area.model_validate(geojson)
    except ValidationError as exc:
        raise Rejected(f"CAP {what} is not a usable area: " + format_validation_error(exc)) from None


def _geometry(areas: list[tuple[etree._Element, etree._Element]], main_language: str) -> _Geometry:
    result = _Geometry()
    rings: list[list[list[float]]] = []
    seen: set[str] = set()
    points: list[tuple[float, float]] = []
    geocodes: list[dict[str, str]] = []
    descriptions: list[str] = []
    kinds: list[str] = []

    for info, area in areas:
        description = _one_line(_child(area, "areaDesc"), 1000)
        if description and description not in descriptions and _language(info).lower() == main_language.lower():
            descriptions.append(description)
        for text in _children(area, "polygon"):
            key = " ".join(text.split())
            if key in seen:
                continue
            seen.add(key)
            rings.append(_polygon_ring(text))
            kinds.append("polygon")
        for text in _children(area, "circle"):
            key = "circle " + " ".join(text.split())
            if key in seen:
                continue
            seen.add(key)
            (lat, lon), radius_km = _circle(text)
            if radius_km == 0:
                points.append((lat, lon))
            else:
                rings.extend(_circle_polygons(lat, lon, radius_km))
            kinds.append("circle")
        for geocode in area.findall(_q("geocode")):
            item = {"valueName": _child(geocode, "valueName"), "value": _child(geocode, "value")}
            if item not in geocodes:
                geocodes.append(item)

    if descriptions:
        result.extra["area_desc"] = "; ".join(descriptions)
    if geocodes:
        result.extra["geocodes"] = geocodes

    if rings:
        result.area = _make_area(_area_from_rings(rings), "polygon/circle")
        result.extra["geometry_source"] = "+".join(sorted(set(kinds)))
        return result
    if points:
        lat, lon = points[0]
        result.location = Location(lat=lat, lon=lon)
        result.extra["geometry_source"] = "circle"
        return result
    resolved = _resolve_geocodes([g["value"] for g in geocodes])
    if resolved is not None:
        codes, geojson = resolved
        result.area = _make_area(geojson, f"region {', '.join(codes)}")
        result.extra["geometry_source"] = "geocode"
        result.extra["resolved_geocodes"] = codes
        return result
    result.location = Location(lat=0.0, lon=0.0)
    result.extra["geometry_unknown"] = True
    result.extra["geometry_source"] = "none"
    return result


# -- ISO 3166-2 geocodes against the shipped admin-1 regions ---------------------

_regions_lock = threading.Lock()
_regions: dict[str, dict[str, Any]] | None = None


def _admin1_regions() -> dict[str, dict[str, Any]]:
    global _regions
    with _regions_lock:
        if _regions is None:
            regions: dict[str, dict[str, Any]] = {}
            try:
                with ADMIN1_PATH.open(encoding="utf-8") as handle:
                    features = json.load(handle)["features"]
                for feature in features:
                    code = (feature.get("properties") or {}).get("iso_3166_2")
                    geometry = feature.get("geometry")
                    if code and geometry and code not in regions:
                        regions[code] = geometry
            except (OSError, ValueError, KeyError, TypeError):
                regions = {}  # no boundaries shipped: geocodes stay unresolved
            _regions = regions
        return _regions


def _resolve_geocodes(values: list[str]) -> tuple[list[str], dict[str, Any]] | None:
    candidates = [v.upper() for v in values if _ISO_3166_2.match(v.upper())]
    if not candidates:
        return None
    regions = _admin1_regions()
    codes = [code for code in dict.fromkeys(candidates) if code in regions]
    if not codes:
        return None
    if len(codes) == 1:
        return codes, regions[codes[0]]
    merged = shapely.union_all([shapely.make_valid(shapely.geometry.shape(regions[c])) for c in codes])
    parts = _polygon_parts(merged)
    if not parts:
        return None
    return codes, _geojson(parts)
