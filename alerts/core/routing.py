"""Routing: the reporting nation, releasability and markings of an incoming alert, decided once at ingest.

| step | rule |
|------|------|
| feed | the feed of the listener it arrived on (``arrived_on``, the TAK listener's and bridge's ``--feed``), whatever the content claims, unless that feed is a ``relay``; else the registered feed its content matches (``alerts.core.feeds.FeedRegistry.sender``) |
| reporting nation | the feed's nation; else our JSON ``source`` when it is an ISO 3166-1 alpha-2 code; else unknown |
| releasability | what the message says (below); else the feed's ``releasable_to``; else **unrouted** |
| classification | what the message says; else the feed's; else the lowest level |
| TLP, caveats | what the message says; else the feed's TLP |

What a message says, per format:

- **CAP 1.2** (section 3.2.1): ``scope`` Public is releasable to all; Private
  with ``addresses`` naming nation codes, to those; Restricted with a
  ``restriction`` in the NATO form ``REL TO A, B`` or ``Releasable to A, B``
  (alpha-2 or alpha-3; ``XK``/``XKX`` Kosovo), to those, from a registered
  sender or not. The ``restriction`` may also carry a classification in upper
  case (``NATO RESTRICTED``) and ``TLP:<label>``.
- **CoT** (MIL-STD-6090 event attributes as TAK writes them): ``access``
  (classification), ``caveat``, ``releasableTo`` (also spelt ``releaseableTo``).
- **Our JSON / GeoJSON**: ``releasable_to``, ``classification``, ``caveats``, ``tlp``.

``source`` is never a releasability: an unregistered JSON alert without
``releasable_to`` is unrouted whatever its ``source`` says. A feed's own
nation is always among the nations its alerts are released to. A REL TO list
that names something that is not a country (``NATO``, ``FVEY``) never falls
back to the feed default: from a registered feed the alert is released to
that feed's nation only (its own officers see it at once; a release to others
is a releasability change, ``alerts.actions.sharing``), from anyone else it is
unrouted (an admin decides). A classification that
is not one of the deployment's levels, or an unknown TLP label, cannot be
honoured at all: ``MarkingError`` (ingest dead-letters the message).

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from alerts.core.feeds import Feed, FeedRegistry, Origin
from alerts.core.identity import COT_CANCEL
from alerts.core.markings import (
    RELEASABLE_TO_ALL,
    Classifications,
    MarkingError,
    Tlp,
    caveats_of,
    find_rel_to,
    find_tlp,
    parse_nations,
    parse_tlp,
)
from alerts.core.model import Alert, Routing
from alerts.core.nations import is_alpha2

#: CoT ``access`` values that mean "not marked" (TAK writes ``Undefined`` by default).
_COT_UNMARKED = {"", "UNDEFINED", "UNKNOWN", "NONE"}


def origin_of(alert: Alert) -> Origin:
    """What ``alert`` says about its sender, by format (CAP: ``sender``; CoT: uid and callsign; else ``source``)."""
    extra = alert.model_extra or {}
    if "cap_status" in extra and "sender" in extra:
        return Origin("cap", cap_sender=str(extra["sender"]))
    if extra.get("cot_type"):
        uid = (alert.references or [alert.id])[0] if extra.get("cot_type") == COT_CANCEL else alert.id
        return Origin("cot", cot_uid=uid, cot_callsign=str(extra.get("callsign") or ""))
    return Origin("json", source=alert.source)


def _said_releasability(alert: Alert, origin: Origin) -> list[str] | None:
    """The releasability the message itself states, or None; ``MarkingError`` if it names a non-country."""
    extra = alert.model_extra or {}
    if origin.format == "cap" and extra.get("scope") == "Restricted":
        return find_rel_to(str(extra.get("restriction") or ""))
    if origin.format == "cot":
        text = str(extra.get("cot_releasable_to") or "").strip()
        return parse_nations(text) if text else None
    return list(alert.releasable_to) if alert.releasable_to is not None else None


def _said_markings(alert: Alert, origin: Origin, scheme: Classifications
                   ) -> tuple[str | None, tuple[str, ...], Tlp | None]:
    """(classification, caveats, TLP) the message states; ``MarkingError`` for what cannot be honoured."""
    extra = alert.model_extra or {}
    if origin.format == "cap":
        restriction = str(extra.get("restriction") or "")
        return scheme.find(restriction), (), find_tlp(restriction)
    if origin.format == "cot":
        access = str(extra.get("cot_access") or "").strip()
        level = None if access.upper() in _COT_UNMARKED else scheme.level(access)
        caveat = str(extra.get("cot_caveat") or "")
        return level, caveats_of(c for c in caveat.split(",")), None
    level = scheme.level(alert.classification) if alert.classification else None
    tlp = parse_tlp(alert.tlp) if alert.tlp else None
    return level, caveats_of(alert.caveats or ()), tlp


def _with_nation(nations: list[str], feed: Feed | None) -> list[str]:
    """``nations`` plus the registered feed's own nation (an originator always sees its own alerts)."""
    if RELEASABLE_TO_ALL in nations:
        return [RELEASABLE_TO_ALL]
    if feed is not None and feed.nation not in nations:
        return [feed.nation, *nations]
    return nations


def route(alert: Alert, feeds: FeedRegistry, scheme: Classifications, arrived_on: str | None = None) -> Routing:
    """The routing of ``alert`` (see the module docstring); raises ``MarkingError`` for markings it cannot honour.

    ``arrived_on`` names the feed of the listener that received the message (the inbox entry's ``feed`` tag):
    it is the message's feed unless it is a relay (``FeedRegistry.sender``).
    """
    origin = origin_of(alert)
    feed = feeds.sender(origin, arrived_on)
    level, caveats, tlp = _said_markings(alert, origin, scheme)
    source = alert.source.upper()
    nation = feed.nation if feed else (source if origin.format == "json" and is_alpha2(source) else None)
    routing = {
        "nation": nation,
        "classification": level or (scheme.level(feed.classification) if feed and feed.classification else None),
        "caveats": list(caveats),
        "tlp": tlp or (feed.tlp if feed else None),
        "feed": feed.name if feed else None,
        "origin": origin.describe(),
    }
    try:
        said = _said_releasability(alert, origin)
    except MarkingError as exc:
        if feed is not None:  # its own nation sees it at once (a 911 is never hidden from its own officers)
            return Routing(**routing, releasable_to=[feed.nation],
                           reason=f"{exc}; released to its own nation {feed.nation} only: a release to others "
                                  f"is a releasability change")
        return Routing(**routing, reason=f"{exc}; an admin must decide who may see it")
    if said is not None:
        return Routing(**routing, releasable_to=_with_nation(said, feed))
    if feed is not None:
        return Routing(**routing, releasable_to=list(feed.releasability))
    return Routing(**routing, reason=f"no releasability in the message and no registered feed for {origin.describe()}")


class Router:
    """``route`` for one deployment's ``feeds`` and ``scheme``, remembering the routing of our JSON alerts.

    The routing of a JSON alert depends only on its ``source``, ``releasable_to``,
    ``classification``, ``tlp``, ``caveats`` and the feed it arrived on
    (``json_key``), and a producer sends many alerts alike, so each distinct
    combination is routed once and its ``Routing`` (frozen) shared by the
    alerts that have it; at most ``MAX_KEPT`` are kept (then forgotten all at
    once). CAP and CoT alerts, and markings that cannot be honoured
    (``MarkingError``, raised each time), are routed every time.
    """

    MAX_KEPT = 4096

    def __init__(self, feeds: FeedRegistry, scheme: Classifications):
        self.feeds = feeds
        self.scheme = scheme
        self._kept: dict[tuple, Routing] = {}

    def route(self, alert: Alert, arrived_on: str | None = None) -> Routing:
        """``route(alert, feeds, scheme, arrived_on)``, the same answer (see the class)."""
        key = json_key(alert, arrived_on)
        if key is None:
            return route(alert, self.feeds, self.scheme, arrived_on)
        routing = self._kept.get(key)
        if routing is None:
            routing = route(alert, self.feeds, self.scheme, arrived_on)
            if len(self._kept) >= self.MAX_KEPT:
                self._kept.clear()
            self._kept[key] = routing
        return routing


def json_key(alert: Alert, arrived_on: str | None = None) -> tuple | None:
    """Everything ``route`` reads of our JSON alert (its format is ``json`` by ``origin_of``), as a key; None
    for a CAP or CoT alert (their routing reads their extras and ids)."""
    extra = alert.model_extra or {}
    if ("cap_status" in extra and "sender" in extra) or extra.get("cot_type"):
        return None
    return (alert.source, None if alert.releasable_to is None else tuple(alert.releasable_to),
            alert.classification, alert.tlp, None if alert.caveats is None else tuple(alert.caveats), arrived_on)
