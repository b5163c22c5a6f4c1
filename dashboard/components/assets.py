"""Pieces of page for response assets: the legend, an asset's details, an incident's tasking panel.

Words are in the request's language (``alerts.i18n``; asset types and statuses through
``alerts.i18n.terms``); content (asset names, ids, nation codes, capability codes) is marked
``UNTRANSLATED``.
"""
from __future__ import annotations

from dash import html

from alerts import i18n
from alerts.core.assets import Asset, AssetStatus, TypeGroup
from alerts.i18n import gettext as _
from alerts.i18n import terms
from dashboard.components.alerts import swatch
from dashboard.components.language import UNTRANSLATED
from dashboard.components.times import utc_time
from layers.assets import GROUP_COLOURS, STATUS_COLOURS, group_word


def asset_legend() -> html.Div:
    """The asset legend: status (dot), kind (ring), coverage."""
    return html.Div(
        className="legend asset-legend",
        id="asset-legend",
        children=[
            html.H4(_("Assets: status (dot)")),
            html.Div([swatch(STATUS_COLOURS[s], terms.asset_status(s.value), False) for s in AssetStatus]),
            html.H4(_("Assets: kind (ring; air and sea larger)")),
            html.Div([swatch(GROUP_COLOURS[g], group_word(g), True) for g in TypeGroup]),
            html.P(_("Coverage: green area reachable in time; red dots are places out of reach."), className="muted"),
        ],
    )


def _button(action: str, asset_id: str, alert_id: str, label: str) -> html.Button:
    return html.Button(label, id={"type": "task-asset", "action": action, "asset": asset_id, "alert": alert_id},
                       className=f"task-button {action}", n_clicks=0)


def _content(value: str) -> html.Span | str:
    """``value`` (an id, a name, codes) as content, never translated; "—" for nothing."""
    return html.Span(value, **UNTRANSLATED) if value else "—"


def asset_details(asset: Asset | None, can_task: bool) -> html.Div:
    """One asset's details card, with Release when the viewer may task and it is assigned."""
    if asset is None:
        return html.Div(_("Not found."), className="muted")
    releasable = (_content(", ".join(asset.releasable_to)) if asset.releasable_to
                  else _("%(nation)s only (not stated)") % {"nation": asset.nation})
    rows = [
        (_("Id"), _content(asset.id)), (_("Type"), terms.asset_type(asset.type.value)),
        (_("Nation"), _content(asset.nation)), (_("Status"), terms.asset_status(asset.status.value)),
        (_("Assigned to"), _content(asset.assigned_to)),
        (_("Capabilities"), _content(", ".join(asset.capabilities))),
        (_("Speed"), _("%(speed)s km/h") % {"speed": i18n.number(asset.speed_kmh)}),
        (_("Position"), f"{asset.position.lat:.4f}, {asset.position.lon:.4f}"),
        (_("Home base"), f"{asset.home_base.lat:.4f}, {asset.home_base.lon:.4f}"),
        (_("Releasable to"), releasable), (_("Updated"), utc_time(asset.updated_at)),
    ]
    release = (_button("release", asset.id, asset.assigned_to, _("Release")) if can_task and asset.assigned_to
               else None)
    return html.Div(className="details-card", id="asset-card", children=[
        html.H3([_("Asset"), " · ", _content(asset.name)]),
        html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]),
        release,
    ])


def tasking_panel(alert_id: str, assigned: list[Asset], suggestions: list[dict], can_task: bool,
                  message: str | list = "") -> list:
    """Assigned assets (with Release) and the nearest suitable ready ones (with Assign); ``message`` (text
    or Dash children, already in the request's language) above them."""
    items = [html.Li([html.Span(a.name, className="title", **UNTRANSLATED), " · ", _content(a.nation), " · ",
                      terms.asset_status(a.status.value),
                      _button("release", a.id, alert_id, _("Release")) if can_task else None],
                     **{"data-asset-id": a.id}) for a in assigned]
    suggested = [html.Li([html.Span(s["asset"].name, className="title", **UNTRANSLATED),
                          html.Div([terms.asset_type(s["asset"].type.value), " · ", _content(s["asset"].nation),
                                    " · ", _("%(distance)s km · ETA %(eta)s min") % {
                                        "distance": i18n.number(round(s["distance_km"])),
                                        "eta": i18n.number(round(s["eta_minutes"]))}], className="meta"),
                          _button("assign", s["asset"].id, alert_id, _("Assign")) if can_task else None],
                         **{"data-asset-id": s["asset"].id}) for s in suggestions]
    return [html.Div(className="details-card", id="tasking-card", children=[
        html.H3(_("Response assets")),
        html.P(message, className="muted", id="tasking-message") if message else None,
        html.H4(_("Assigned")),
        html.Ul(items, className="asset-list", id="assigned-assets") if items
        else html.P(_("none"), className="muted"),
        html.H4(_("Nearest suitable, ready")),
        html.Ul(suggested, className="asset-list", id="suggested-assets") if suggested
        else html.P(_("no suitable ready asset released to you"), className="muted"),
    ])]
