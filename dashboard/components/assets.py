"""Pieces of page for response assets: the legend, an asset's details, an incident's tasking panel."""
from __future__ import annotations

from dash import html

from alerts.core.assets import Asset, AssetStatus, TypeGroup
from dashboard.components.alerts import swatch
from dashboard.components.times import utc_time
from layers.assets import GROUP_COLOURS, STATUS_COLOURS


def asset_legend() -> html.Div:
    """The asset legend: status (dot), kind (ring), coverage."""
    return html.Div(
        className="legend asset-legend",
        id="asset-legend",
        children=[
            html.H4("Assets: status (dot)"),
            html.Div([swatch(STATUS_COLOURS[s], s.value.replace("_", " "), False) for s in AssetStatus]),
            html.H4("Assets: kind (ring; air and sea larger)"),
            html.Div([swatch(GROUP_COLOURS[g], g.value, True) for g in TypeGroup]),
            html.P("Coverage: green area reachable in time; red dots are places out of reach.", className="muted"),
        ],
    )


def _button(action: str, asset_id: str, alert_id: str, label: str) -> html.Button:
    return html.Button(label, id={"type": "task-asset", "action": action, "asset": asset_id, "alert": alert_id},
                       className=f"task-button {action}", n_clicks=0)


def asset_details(asset: Asset | None, can_task: bool) -> html.Div:
    """One asset's details card, with Release when the viewer may task and it is assigned."""
    if asset is None:
        return html.Div("Not found.", className="muted")
    releasable = ", ".join(asset.releasable_to) if asset.releasable_to else f"{asset.nation} only (not stated)"
    rows = [
        ("Id", asset.id), ("Type", asset.type.value.replace("_", " ")), ("Nation", asset.nation),
        ("Status", asset.status.value.replace("_", " ")), ("Assigned to", asset.assigned_to or "—"),
        ("Capabilities", ", ".join(asset.capabilities) or "—"), ("Speed", f"{asset.speed_kmh:g} km/h"),
        ("Position", f"{asset.position.lat:.4f}, {asset.position.lon:.4f}"),
        ("Home base", f"{asset.home_base.lat:.4f}, {asset.home_base.lon:.4f}"),
        ("Releasable to", releasable), ("Updated", utc_time(asset.updated_at)),
    ]
    release = _button("release", asset.id, asset.assigned_to, "Release") if can_task and asset.assigned_to else None
    return html.Div(className="details-card", id="asset-card", children=[
        html.H3(["Asset · ", asset.name]),
        html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]),
        release,
    ])


def tasking_panel(alert_id: str, assigned: list[Asset], suggestions: list[dict], can_task: bool,
                  message: str = "") -> list:
    """Assigned assets (with Release) and the nearest suitable ready ones (with Assign)."""
    items = [html.Li([html.Span(a.name, className="title"), f" · {a.nation} · {a.status.value}",
                      _button("release", a.id, alert_id, "Release") if can_task else None],
                     **{"data-asset-id": a.id}) for a in assigned]
    suggested = [html.Li([html.Span(s["asset"].name, className="title"),
                          html.Div(f"{s['asset'].type.value.replace('_', ' ')} · {s['asset'].nation} · "
                                   f"{s['distance_km']:.0f} km · ETA {s['eta_minutes']:.0f} min", className="meta"),
                          _button("assign", s["asset"].id, alert_id, "Assign") if can_task else None],
                         **{"data-asset-id": s["asset"].id}) for s in suggestions]
    return [html.Div(className="details-card", id="tasking-card", children=[
        html.H3("Response assets"),
        html.P(message, className="muted", id="tasking-message") if message else None,
        html.H4("Assigned"),
        html.Ul(items, className="asset-list", id="assigned-assets") if items else html.P("none", className="muted"),
        html.H4("Nearest suitable, ready"),
        html.Ul(suggested, className="asset-list", id="suggested-assets") if suggested
        else html.P("no suitable ready asset released to you", className="muted"),
    ])]
