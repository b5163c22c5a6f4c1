"""Pieces of page about alerts: the exercise tag, an alert's details, the map legend.

The latest-alerts list is rendered in the browser from plain data
(``dashboard.live.payloads.alert_data``, ``assets/live.js``), the same way for
built and live items.
"""
from __future__ import annotations

from dash import html

from alerts.core.model import AlertType, Severity, StoredAlert
from layers.incidents import CLOSED_COLOUR, SEVERITY_COLOURS, TYPE_COLOURS, type_label


def exercise_tag(exercise: bool) -> html.Span | None:
    """The EXERCISE tag, or None for a real alert."""
    return html.Span("EXERCISE", className="exercise-tag") if exercise else None


def details_panel(stored: StoredAlert | None) -> html.Div:
    """One alert's details card ("Not found." for None)."""
    if stored is None:
        return html.Div("Not found.", className="muted")
    alert = stored.alert
    regions = ", ".join(r.name for r in stored.placement.regions[:6]) or "—"
    if len(stored.placement.regions) > 6:
        regions += f" (+{len(stored.placement.regions) - 6})"
    releasable = ", ".join(alert.releasable_to) if alert.releasable_to else f"{alert.source} only (not stated)"
    rows = [
        ("Id", stored.id),
        ("Severity", alert.severity.value),
        ("Type", type_label(alert.type.value)),
        ("Status", stored.status.value),
        ("Country", f"{stored.placement.country_name or '—'} ({stored.placement.country or '?'})"),
        ("Regions", regions),
        ("Reported", alert.reported_at.isoformat()),
        ("Received", stored.received_at.isoformat(timespec="seconds")),
        ("Source", alert.source),
        ("Releasable to", releasable),
        ("Position", f"{stored.lat:.4f}, {stored.lon:.4f}" if stored.located else "unlocated"),
    ]
    return html.Div(
        className="details-card",
        id="details-card",
        children=[
            html.H3([exercise_tag(alert.exercise), " ", alert.title]),
            html.P(alert.description) if alert.description else None,
            html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]),
        ],
    )


def swatch(colour: str, label: str, ring: bool) -> html.Span:
    """One legend entry: a filled dot or a ring of ``colour``, then ``label``."""
    style = {"borderColor": colour} if ring else {"background": colour}
    return html.Span([html.I(className="ring" if ring else "dot", style=style), label], className="swatch")


def legend() -> html.Div:
    """The incident legend: severity (dot), type (ring), closed, exercises paler."""
    return html.Div(
        className="legend",
        children=[
            html.H4("Severity (dot)"),
            html.Div([swatch(SEVERITY_COLOURS[s], s.value, False) for s in Severity]),
            html.H4("Type (ring)"),
            html.Div([swatch(TYPE_COLOURS[t], type_label(t.value), True) for t in AlertType]),
            html.Div([swatch(CLOSED_COLOUR, "closed (resolved or cancelled)", False)]),
            html.P("Pale markers are exercises.", className="muted"),
        ],
    )
