"""Response assets as map traces: circle markers only (the map runs air-gapped).

Two traces, drawn below the incidents (``layers.traces``): a ring whose colour and size say the
type group (ground, specialist, medical, air, maritime) and, inside it, a dot
whose colour says the status (ready, committed, maintenance, off duty);
assets off duty or in maintenance are drawn paler. Coordinates are plain
lists (a few hundred points at most), so the browser can move one point by
assigning ``data[i].lat[k]`` with a partial update (see ``assets/assets_live.js``).
Each dot's ``customdata`` is ``asset:<id>``; clicking it shows the asset.
Their places in the figure are ``layers.traces``.
"""
from __future__ import annotations

from html import escape

from alerts.core.assets import TYPE_GROUPS, Asset, AssetStatus, TypeGroup
from alerts.i18n import N_, number, terms
from alerts.i18n import gettext as _
from layers.traces import ASSET_DOT, ASSET_RING, MAP_TRACES

STATUS_COLOURS = {
    AssetStatus.READY: "#1a9850",
    AssetStatus.COMMITTED: "#2166ac",
    AssetStatus.MAINTENANCE: "#8c8c8c",
    AssetStatus.OFF_DUTY: "#c7c7c7",
}
GROUP_COLOURS = {
    TypeGroup.GROUND: "#3f3f3f",
    TypeGroup.SPECIALIST: "#7b3294",
    TypeGroup.MEDICAL: "#d6604d",
    TypeGroup.AIR: "#35978f",
    TypeGroup.MARITIME: "#08306b",
}
GROUP_SIZES = {TypeGroup.GROUND: 15, TypeGroup.SPECIALIST: 15, TypeGroup.MEDICAL: 15,
               TypeGroup.AIR: 19, TypeGroup.MARITIME: 19}
#: The status dot's size (px). Larger than an incident's core (``layers.incidents.CORE_SIZE``) on purpose:
#: plotly picks the hover label by distance minus radius, floored at ``1 - 3/radius`` inside a marker, so
#: inside both the smaller marker wins; a larger asset dot lets the incident above it answer hover.
DOT_SIZE = 10
ASSET_PREFIX = "asset:"
#: The words for the type groups (the legend's rings), translated where shown.
GROUP_WORDS = {TypeGroup.GROUND: N_("ground"), TypeGroup.SPECIALIST: N_("specialist"),
               TypeGroup.MEDICAL: N_("medical"), TypeGroup.AIR: N_("air"), TypeGroup.MARITIME: N_("maritime")}


def group_word(group: TypeGroup) -> str:
    """A type group in words, in the current language (``GROUP_WORDS``; a group it does not know as itself)."""
    return _(GROUP_WORDS[group]) if group in GROUP_WORDS else group.value.replace("_", " ")


def asset_label(asset: Asset) -> str:
    """The hover text of one asset (HTML as plotly renders it; names escaped) in the current language (type
    and status through ``alerts.i18n.terms``; the name, nation code and id as they are)."""
    where = f"→ {escape(asset.assigned_to)}<br>" if asset.assigned_to else ""
    speed = _("%(speed)s km/h") % {"speed": number(asset.speed_kmh)}
    head = _("ASSET · %(name)s") % {"name": asset.name}
    return (f"<b>{escape(head)}</b><br>"
            f"{escape(terms.asset_type(asset.type.value))} · {escape(asset.nation)}<br>"
            f"{escape(terms.asset_status(asset.status.value))} · {escape(speed)}<br>{where}"
            f"<span style='font-size:10px'>{escape(asset.id)}</span>")


def asset_point(asset: Asset) -> dict:
    """One asset as the browser patches it into the traces."""
    group = TYPE_GROUPS[asset.type]
    pale = asset.status in (AssetStatus.MAINTENANCE, AssetStatus.OFF_DUTY)
    return {"id": asset.id, "lat": asset.position.lat, "lon": asset.position.lon,
            "ring": GROUP_COLOURS[group], "size": GROUP_SIZES[group], "dot": STATUS_COLOURS[asset.status],
            "opacity": 0.45 if pale else 0.9, "text": asset_label(asset)}


def asset_traces(assets: list[Asset], visible: bool = True) -> list[dict]:
    """The ring and dot traces for ``assets`` (in this order; the browser keeps it)."""
    points = [asset_point(a) for a in assets]
    col = lambda key: [p[key] for p in points]  # noqa: E731
    lon, lat = col("lon"), col("lat")
    ring = {"type": "scattermap", "name": MAP_TRACES[ASSET_RING], "lon": lon, "lat": lat, "mode": "markers",
            "marker": {"size": col("size"), "color": col("ring"), "opacity": col("opacity")},
            "hoverinfo": "skip", "showlegend": False, "visible": visible}
    dot = {"type": "scattermap", "name": MAP_TRACES[ASSET_DOT], "lon": list(lon), "lat": list(lat), "mode": "markers",
           "marker": {"size": DOT_SIZE, "color": col("dot"), "opacity": 1.0},
           "customdata": [ASSET_PREFIX + a.id for a in assets], "hovertext": col("text"),
           "hoverinfo": "text", "showlegend": False, "visible": visible}
    return [ring, dot]
