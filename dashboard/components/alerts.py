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
"""
from __future__ import annotations

import json
from urllib.parse import quote

from dash import dcc, html

from alerts.core.markings import RELEASABLE_TO_ALL, Classifications, Marking
from alerts.core.model import AlertType, Severity, StoredAlert
from alerts.core.roles import Role
from alerts.core.viewer import Viewer
from dashboard.components.times import utc_time
from dashboard.live.payloads import marking_data
from layers.incidents import CLOSED_COLOUR, EXERCISE_HALO, SEVERITY_COLOURS, TYPE_COLOURS, type_label

#: The page where an alert's releasability is changed or requested (``?alert=<id>``).
SHARING_PATH = "/sharing"


def exercise_tag(exercise: bool) -> html.Span | None:
    """The EXERCISE tag, or None for a real alert."""
    return html.Span("EXERCISE", className="exercise-tag") if exercise else None


def marking_attributes(marking: Marking | dict) -> dict[str, str]:
    """``data-marking`` for an element that shows content of ``marking`` (read by ``assets/marking.js``)."""
    data = marking.as_dict() if isinstance(marking, Marking) else marking
    return {"data-marking": json.dumps(data, separators=(",", ":"))}


def alert_marking_attributes(stored: StoredAlert, scheme: Classifications) -> dict[str, str]:
    """``marking_attributes`` of one alert (its marking under the deployment's ``scheme``)."""
    return marking_attributes(marking_data(stored, scheme))


def _releasability(stored: StoredAlert) -> str:
    nations = stored.routing.releasable_to
    if nations is None:
        return "nobody yet (unrouted)"
    return "all nations" if RELEASABLE_TO_ALL in nations else ", ".join(nations)


def details_panel(stored: StoredAlert | None, scheme: Classifications) -> html.Div:
    """One alert's details card ("Not found." for None): its marking line first (the card is marked,
    ``marking_attributes``), and a "Releasability…" link to the sharing page for the alert."""
    if stored is None:
        return html.Div("Not found.", className="muted")
    alert = stored.alert
    marking = stored.routing.marking(scheme)
    regions = ", ".join(r.name for r in stored.placement.regions[:6]) or "—"
    if len(stored.placement.regions) > 6:
        regions += f" (+{len(stored.placement.regions) - 6})"
    rows = [
        ("Id", stored.id),
        ("Severity", alert.severity.value),
        ("Type", type_label(alert.type.value)),
        ("Status", stored.status.value),
        ("Country", f"{stored.placement.country_name or '—'} ({stored.placement.country or '?'})"),
        ("Regions", regions),
        ("Reported", utc_time(alert.reported_at, id="details-reported")),
        ("Received", utc_time(stored.received_at)),
        ("Source", alert.source),
        ("Marking", marking.line()),
        ("Releasable to", _releasability(stored)),
        ("Position", f"{stored.lat:.4f}, {stored.lon:.4f}" if stored.located else "unlocated"),
    ]
    return html.Div(
        className="details-card",
        id="details-card",
        **{"data-alert-id": stored.id},
        **marking_attributes(marking),
        children=[
            html.Div(marking.line(), className="marking-line", id="details-marking"),
            html.H3([exercise_tag(alert.exercise), " ", alert.title]),
            html.P(alert.description) if alert.description else None,
            html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]),
            dcc.Link("Releasability…", href=f"{SHARING_PATH}?alert={quote(stored.id, safe='')}",
                     className="releasability-link", id="releasability-link"),
        ],
    )


def swatch(colour: str, label: str, ring: bool) -> html.Span:
    """One legend entry: a filled dot or a ring of ``colour``, then ``label``."""
    style = {"borderColor": colour} if ring else {"background": colour}
    return html.Span([html.I(className="ring" if ring else "dot", style=style), label], className="swatch")


def legend() -> html.Div:
    """The incident legend: severity (dot), type (ring), closed, the exercise halo; drawing order."""
    return html.Div(
        className="legend",
        children=[
            html.H4("Severity (dot)"),
            html.Div([swatch(SEVERITY_COLOURS[s], s.value, False) for s in Severity]),
            html.H4("Type (ring)"),
            html.Div([swatch(TYPE_COLOURS[t], type_label(t.value), True) for t in AlertType]),
            html.Div([swatch(CLOSED_COLOUR, "closed (resolved or cancelled)", False)]),
            html.Div([swatch(EXERCISE_HALO, "exercise (outer gold ring; EXERCISE in its label)", True)]),
            html.P("Incidents are drawn above assets. Where several features overlap, a click lists them all.",
                   className="muted"),
        ],
    )


def exercise_view_default(viewer: Viewer) -> str:
    """The real/exercise switch's first position for ``viewer``: ``real`` (real only) for leadership, who
    must never take play for reality in a briefing; ``all`` for everyone else. Switchable on the page."""
    return "real" if viewer.role == Role.LEADERSHIP.value else "all"
