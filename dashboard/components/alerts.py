"""Pieces of page about alerts: the exercise tag, markings, an alert's details, the map legend.

The latest-alerts list is rendered in the browser from plain data
(``dashboard.live.payloads.alert_data``, ``assets/live.js``), the same way for
built and live items.

Markings on the page: whatever shows an alert (or content drawn from
several) carries ``marking_attributes``: ``data-marking``, the marking as
JSON (``Marking.as_dict`` or ``dashboard.live.payloads.marking_data``).
``assets/marking.js`` raises the page's classification banners to the most
restrictive marking of every such element present (the frame publishes the
deployment's levels on the banners, ``dashboard.app``).

Words are in the request's language (``alerts.i18n``; coded values through ``alerts.i18n.terms``); content
(headlines, descriptions, ids, senders, region names, markings) is marked ``UNTRANSLATED``.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from dash import dcc, html

from alerts.core.markings import RELEASABLE_TO_ALL, Classifications, Marking
from alerts.core.model import AlertType, Severity, StoredAlert
from alerts.core.roles import Role
from alerts.core.viewer import Viewer
from alerts.i18n import gettext as _
from alerts.i18n import terms
from alerts.i18n.content import localized
from dashboard.components.language import UNTRANSLATED
from dashboard.components.times import utc_time
from dashboard.live.payloads import marking_data
from layers.incidents import CLOSED_COLOUR, EXERCISE_HALO, SEVERITY_COLOURS, TYPE_COLOURS, type_label

#: The page where an alert's releasability is changed or requested (``?alert=<id>``).
SHARING_PATH = "/sharing"


def exercise_tag(exercise: bool) -> html.Span | None:
    """The EXERCISE tag, or None for a real alert."""
    return html.Span(_("EXERCISE"), className="exercise-tag") if exercise else None


def fill(message: str, **values) -> list:
    """Dash children of a translated ``message`` with its ``%(name)s`` placeholders replaced by ``values``
    (text or components, e.g. a name in an ``UNTRANSLATED`` span): the sentence stays one message for the
    translator, and the content in it stays marked. ``fill(_("done by %(name)s"), name=html.Span(...))``."""
    parts = re.split(r"%\((\w+)\)s", message)
    return [values[part] if odd else part for odd, part in ((i % 2 == 1, p) for i, p in enumerate(parts))
            if odd or part]


def marking_attributes(marking: Marking | dict) -> dict[str, str]:
    """``data-marking`` for an element that shows content of ``marking`` (read by ``assets/marking.js``)."""
    data = marking.as_dict() if isinstance(marking, Marking) else marking
    return {"data-marking": json.dumps(data, separators=(",", ":"))}


def alert_marking_attributes(stored: StoredAlert, scheme: Classifications) -> dict[str, str]:
    """``marking_attributes`` of one alert (its marking under the deployment's ``scheme``)."""
    return marking_attributes(marking_data(stored, scheme))


def _releasability(stored: StoredAlert):
    """Who the alert is released to: words, or the nations' codes (content, ``UNTRANSLATED``)."""
    nations = stored.routing.releasable_to
    if nations is None:
        return _("nobody yet (unrouted)")
    return _("all nations") if RELEASABLE_TO_ALL in nations else html.Span(", ".join(nations), **UNTRANSLATED)


def _content(value) -> html.Span:
    """``value`` (an id, a name, a sender, a marking) as content: never translated."""
    return html.Span(value, **UNTRANSLATED)


def details_panel(stored: StoredAlert | None, scheme: Classifications) -> html.Div:
    """One alert's details card ("Not found." for None): its marking line first (the card is marked,
    ``marking_attributes``), and a "Releasability…" link to the sharing page for the alert."""
    if stored is None:
        return html.Div(_("Not found."), className="muted")
    alert = stored.alert
    marking = stored.routing.marking(scheme)
    regions = ", ".join(r.name for r in stored.placement.regions[:6]) or "—"
    if len(stored.placement.regions) > 6:
        regions += f" (+{len(stored.placement.regions) - 6})"
    code = stored.placement.country
    country = terms.country(code) if code else stored.placement.country_name
    rows = [
        (_("Id"), _content(stored.id)),
        (_("Severity"), terms.severity(alert.severity.value)),
        (_("Type"), type_label(alert.type.value)),
        (_("Status"), terms.status(stored.status.value)),
        (_("Country"), [country or "—", " (", _content(code) if code else "?", ")"]),
        (_("Regions"), _content(regions)),
        (_("Reported"), utc_time(alert.reported_at, id="details-reported")),
        (_("Received"), utc_time(stored.received_at)),
        (_("Source"), _content(alert.source)),
        (_("Marking"), _content(marking.line())),
        (_("Releasable to"), _releasability(stored)),
        (_("Position"), f"{stored.lat:.4f}, {stored.lon:.4f}" if stored.located else _("unlocated")),
    ]
    # a CAP alert that carries an <info> in the viewer's language is shown in it (alerts.i18n.content)
    title, description, language = localized(alert.title, alert.description, alert.translations,
                                              str((alert.model_extra or {}).get("language") or ""))
    return html.Div(
        className="details-card",
        id="details-card",
        **{"data-alert-id": stored.id},
        **marking_attributes(marking),
        children=[
            html.Div(marking.line(), className="marking-line", id="details-marking", **UNTRANSLATED),
            html.H3([exercise_tag(alert.exercise), " ", html.Span(title, lang=language or None, **UNTRANSLATED)]),
            html.P(description, lang=language or None, **UNTRANSLATED) if description else None,
            html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]),
            dcc.Link(_("Releasability…"), href=f"{SHARING_PATH}?alert={quote(stored.id, safe='')}",
                     className="releasability-link", id="releasability-link"),
        ],
    )


def swatch(colour: str, label: str, ring: bool) -> html.Span:
    """One legend entry: a filled dot or a ring of ``colour``, then ``label``."""
    style = {"borderColor": colour} if ring else {"background": colour}
    return html.Span([html.I(className="ring" if ring else "dot", style=style), label], className="swatch")


def legend() -> html.Div:
    """The incident legend: severity (dot), type (ring), closed, the exercise halo; drawing order. In the
    request's language."""
    return html.Div(
        className="legend",
        children=[
            html.H4(_("Severity (dot)")),
            html.Div([swatch(SEVERITY_COLOURS[s], terms.severity(s.value), False) for s in Severity]),
            html.H4(_("Type (ring)")),
            html.Div([swatch(TYPE_COLOURS[t], type_label(t.value), True) for t in AlertType]),
            html.Div([swatch(CLOSED_COLOUR, _("closed (resolved or cancelled)"), False)]),
            html.Div([swatch(EXERCISE_HALO, _("exercise (outer gold ring; EXERCISE in its label)"), True)]),
            html.P(_("Incidents are drawn above assets. Where several features overlap, a click lists them all."),
                   className="muted"),
        ],
    )


def exercise_view_default(viewer: Viewer) -> str:
    """The real/exercise switch's first position for ``viewer``: ``real`` (real only) for leadership, who
    must never take play for reality in a briefing; ``all`` for everyone else. Switchable on the page."""
    return "real" if viewer.role == Role.LEADERSHIP.value else "all"
