"""Response assets as use cases: suggestions for an incident, what is assigned to it, assign, release.

Assign and release need ``task_assets`` (``Forbidden``); the alert and the
asset must both be released to the viewer (``NotFound``); the asset's state
decides (``alerts.core.assets.assigned`` / ``released``, ``Conflict``
otherwise); nothing is tasked to a closed alert (``alerts.core.response.check_open``: resolved, cancelled,
expired), while releasing from one stays allowed. The change is a compare-and-set on the stored asset, shown at
once in this process's asset read model, and audited.
"""
from __future__ import annotations

from alerts.actions.centre import Centre
from alerts.actions.errors import Conflict, NotFound
from alerts.actions.visibility import require, shown_asset, visible_alert, visible_asset, visible_assets
from alerts.core.assets import Asset, TaskingRefused, assigned, released
from alerts.core.events import AssetAssigned, AssetReleased
from alerts.core.model import StoredAlert
from alerts.core.response import AlreadyClosed, check_open
from alerts.core.roles import Permission
from alerts.core.suitability import suggest
from alerts.core.viewer import Viewer
from alerts.i18n import N_


def suggestions(centre: Centre, viewer: Viewer, stored: StoredAlert, limit: int = 10) -> list[dict]:
    """The quickest ready, suitable assets released to ``viewer`` that can reach an alert it may see
    (``alerts.core.suitability.suggest``, with the centre's ``reach``).

    Each ``{"asset": Asset, "distance_km": float (3 decimals), "eta_minutes": float (1 decimal)}``.
    """
    if not stored.located:  # an unlocated alert has no distance to anything
        return []
    found = suggest(centre.asset_index.table(), stored.alert.type, stored.lon, stored.lat, viewer.nation, limit,
                    centre.reach)
    return [{"asset": shown_asset(centre, viewer, s["asset"]), "distance_km": round(s["distance_km"], 3), "eta_minutes": round(s["eta_minutes"], 1)}
            for s in found]


def assigned_to(centre: Centre, viewer: Viewer, alert_id: str) -> list[Asset]:
    """The assets released to ``viewer`` that are tasked to ``alert_id``, by id."""
    return sorted((a for a in visible_assets(centre, viewer) if a.assigned_to == alert_id), key=lambda a: a.id)


def assign(centre: Centre, viewer: Viewer, alert_id: str, asset_id: str, *, ip: str = "") -> Asset:
    """Task a ready asset to an alert: it becomes ``committed``, ``assigned_to`` the alert."""
    return _task(centre, viewer, alert_id, asset_id, ip, assigned, AssetAssigned)


def release(centre: Centre, viewer: Viewer, alert_id: str, asset_id: str, *, ip: str = "") -> Asset:
    """Release an asset from the alert it is tasked to: ``ready`` again."""
    return _task(centre, viewer, alert_id, asset_id, ip, released, AssetReleased)


def _task(centre: Centre, viewer: Viewer, alert_id: str, asset_id: str, ip: str, rule, event) -> Asset:
    require(viewer, Permission.TASK_ASSETS)
    visible_alert(centre, viewer, alert_id)
    visible_asset(centre, viewer, asset_id)
    if rule is assigned:
        try:
            check_open(centre.alerts.get(alert_id), centre.workflow.state(alert_id))
        except AlreadyClosed as exc:
            raise Conflict(N_("cannot task an asset to %(alert)s: %(reason)s"),
                           values={"alert": repr(alert_id), "reason": exc}) from None
    try:
        changed = centre.assets.change(asset_id, lambda asset: rule(asset, alert_id, centre.clock()))
    except TaskingRefused as exc:
        raise Conflict.of(exc) from None
    if changed is None:
        raise NotFound(N_("no asset %(asset)s"), values={"asset": repr(asset_id)})
    after = changed[1]
    centre.asset_index.put(after)
    centre.record(viewer, event(asset_id, alert_id=alert_id, status=after.status.value), ip)
    return shown_asset(centre, viewer, after)
