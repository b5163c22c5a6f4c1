"""Which alert a message is: the producer identity, per the standard each format follows.

| format | identity | the same alert again | source |
|--------|----------|----------------------|--------|
| CAP 1.2 | ``cap:<sender>/<identifier>`` | the same sender and identifier | CAP 1.2 section 3.2.1: a message is identified by sender and identifier; ``references`` lists ``sender,identifier,sent`` |
| CoT emergency | ``cot:<scope>/<uid>`` (unregistered: ``cot:<uid>``) | a repeated report of an open emergency with that uid (from that feed) | ATAK raises 911 etc. on uid ``<device>-9-1-1`` and cancels it with ``b-a-o-can`` on the same uid; the next emergency reuses the uid |
| CoT cancel | ``cot-cancel:<scope>/<uid>@<time>`` (unregistered: ``cot-cancel:<uid>@<time>``) | the same cancel resent | |
| our JSON | ``json:<source>/<id>`` | the same source and id | this project's schema v1 |

The format is read from the extras only its decoder sets (``cap_status`` and
``sender``, ``cot_type``); our JSON decoders refuse those names
(``alerts.core.model.RESERVED_EXTRAS``), so a JSON message can never take a
CAP sender's or a TAK device's identity. Parts are percent-encoded
(``urllib.parse.quote``) so that no two identities read alike; they are
compared exactly (``json:RS/...`` and ``json:rs/...`` are two producers). The same identity again is the same alert (a duplicate, never a
second record); a different identity never overwrites another alert, even
with the same producer ``id``: the newcomer then gets a distinct key
(``<id>~<12 hex digits>``, from the SHA-1 of its identity; if another alert
holds that key already, e.g. one whose producer id is that very string, of
its identity and a counter, ``#1``, ``#2``..., until one is free), while an
id that is unique keeps its own name. A CoT emergency is *renewable*: raised again
after its alert was closed (cancelled, resolved) or went stale, it is a new
alert (key ``<uid>~<12 hex digits of the message's identity and time>``).

References (CAP Update/Cancel, CoT cancels, our ``msg_type``/``references``)
name identities the same way: a CAP reference only counts for the same
sender, ours only for the same source, so one producer cannot close another's
alerts; a CoT cancel names its uid. A CoT uid is chosen by the device, so CoT
identities are scoped by the way in: what arrived on a TAK listener by the
listener's feed (a relay's too, so an emergency and its cancel relayed by one
TAK server meet whatever feed each was recognised as), what came by the
internal stream by the feed it was routed to (so a registered device's report
is the same alert whichever way it came); unscoped only when unregistered. A
feed that names a relay as ``relayed_by`` shares that relay's scope
(``alerts.core.feeds.FeedRegistry.identity_scope``): a device sending directly
and through that TAK server is one alert. A device on the MK listener can
neither take a BA emergency's uid (its 911 is MK's own alert, BA's stays BA's)
nor cancel it.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

#: An ``alerts.core.model.Alert`` (typed loosely: the model computes identities with these functions).
Alert = Any

#: CoT alarm types that are renewable emergencies (``alerts.formats.cot.decode.ALERT_TYPES``).
COT_CANCEL = "b-a-o-can"


def _part(value: str) -> str:
    return quote(value, safe="@.:-_")


def cap_identity(sender: str, identifier: str) -> str:
    """The identity of a CAP message."""
    return f"cap:{_part(sender)}/{_part(identifier)}"


def _cot_scope(scope: str | None) -> str:
    return f"{_part(scope)}/" if scope else ""


def identity_of(alert: Alert, scope: str | None = None) -> str:
    """The producer identity of ``alert`` (see the module docstring); ``scope``: for a CoT message, the feed of
    the TAK listener it arrived on, else the feed it was routed to (None: unregistered)."""
    extra = alert.model_extra or {}
    if "cap_status" in extra and "sender" in extra:
        return cap_identity(str(extra["sender"]), alert.id)
    cot_type = extra.get("cot_type")
    if cot_type == COT_CANCEL:
        uid = (alert.references or [alert.id])[0]
        return f"cot-cancel:{_cot_scope(scope)}{_part(uid)}@{alert.reported_at.isoformat()}"
    if cot_type:
        return f"cot:{_cot_scope(scope)}{_part(alert.id)}"
    return f"json:{_part(alert.source)}/{_part(alert.id)}"


def scope_of(identity: str) -> str | None:
    """The feed scope of a CoT identity (``identity_of``'s ``scope``), else None."""
    kind, _, rest = identity.partition(":")
    if kind not in ("cot", "cot-cancel") or "/" not in rest:
        return None
    return unquote(rest.split("/", 1)[0])


def renewable(alert: Alert) -> bool:
    """Whether the identity may be raised again as a new alert once closed (a CoT emergency)."""
    cot_type = (alert.model_extra or {}).get("cot_type")
    return bool(cot_type) and cot_type != COT_CANCEL


def referenced_identities(alert: Alert, scope: str | None = None) -> list[str]:
    """The identities ``alert`` updates or cancels (none for a plain alert); ``scope`` as for ``identity_of``
    (a CoT cancel closes only the emergencies of its own scope)."""
    if alert.msg_type == "alert" or not alert.references:
        return []
    extra = alert.model_extra or {}
    if "cap_status" in extra and "sender" in extra:
        sender = str(extra["sender"])
        found = []
        for ref in extra.get("cap_references") or [{"sender": sender, "identifier": r} for r in alert.references]:
            if ref.get("sender") == sender and ref.get("identifier") != alert.id:
                found.append(cap_identity(sender, ref["identifier"]))
        return list(dict.fromkeys(found))
    if extra.get("cot_type"):
        return [f"cot:{_cot_scope(scope)}{_part(ref)}" for ref in dict.fromkeys(alert.references)]
    own = identity_of(alert)
    return [i for i in (f"json:{_part(alert.source)}/{_part(ref)}" for ref in dict.fromkeys(alert.references))
            if i != own]
