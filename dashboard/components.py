"""Small pieces of page shared by pages and by the live stream (which sends list items)."""
from __future__ import annotations

import json

from dash import html
from plotly.utils import PlotlyJSONEncoder

from alerts.model import AlertType, Severity, StoredAlert
from layers.incidents import SEVERITY_COLOURS, TYPE_COLOURS, live_point, type_label


def exercise_tag(exercise: bool) -> html.Span | None:
    return html.Span("EXERCISE", className="exercise-tag") if exercise else None


def alert_list_item(stored: StoredAlert) -> html.Li:
    alert = stored.alert
    place = stored.placement.country or "—"
    if stored.placement.regions:
        place = f"{stored.placement.regions[0].name}, {place}"
    return html.Li(
        key=alert.id,  # React keeps existing items when new ones are prepended
        className=f"alert-item severity-{alert.severity.value}" + (" exercise" if alert.exercise else ""),
        **{"data-alert-id": alert.id},
        children=[
            html.Span(alert.severity.value.upper(), className=f"sev sev-{alert.severity.value}"),
            exercise_tag(alert.exercise),
            html.Span(alert.title, className="title"),
            html.Div([type_label(alert.type.value), " · ", place, " · ",
                      alert.reported_at.strftime("%d %b %H:%M UTC")], className="meta"),
        ],
    )


def details_panel(stored: StoredAlert | None) -> html.Div:
    if stored is None:
        return html.Div("Not found.", className="muted")
    alert = stored.alert
    regions = ", ".join(r.name for r in stored.placement.regions[:6]) or "—"
    if len(stored.placement.regions) > 6:
        regions += f" (+{len(stored.placement.regions) - 6})"
    releasable = ", ".join(alert.releasable_to) if alert.releasable_to else f"{alert.source} only (not stated)"
    rows = [
        ("Id", alert.id),
        ("Severity", alert.severity.value),
        ("Type", type_label(alert.type.value)),
        ("Status", stored.status.value),
        ("Country", f"{stored.placement.country_name or '—'} ({stored.placement.country or '?'})"),
        ("Regions", regions),
        ("Reported", alert.reported_at.isoformat()),
        ("Received", stored.received_at.isoformat(timespec="seconds")),
        ("Source", alert.source),
        ("Releasable to", releasable),
        ("Position", f"{stored.lat:.4f}, {stored.lon:.4f}"),
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


def legend() -> html.Div:
    def swatch(colour: str, label: str, ring: bool) -> html.Span:
        style = {"borderColor": colour} if ring else {"background": colour}
        return html.Span([html.I(className="ring" if ring else "dot", style=style), label], className="swatch")

    return html.Div(
        className="legend",
        children=[
            html.H4("Severity (dot)"),
            html.Div([swatch(SEVERITY_COLOURS[s], s.value, False) for s in Severity]),
            html.H4("Type (ring)"),
            html.Div([swatch(TYPE_COLOURS[t], type_label(t.value), True) for t in AlertType]),
            html.P("Pale markers are exercises.", className="muted"),
        ],
    )


def live_payload(stored: StoredAlert) -> dict:
    """What the live stream sends for one alert: the map point and its list item."""
    payload = live_point(stored)
    payload["item"] = json.loads(json.dumps(alert_list_item(stored), cls=PlotlyJSONEncoder))
    return payload
