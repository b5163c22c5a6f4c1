"""What a viewer may see and do: the one place the "visible alert" lookup and the permission check live.

Releasability: an alert (or asset) not released to the viewer, or above its
clearance, answers exactly as if it did not exist (``NotFound``). An asset
released to the viewer but tasked to an alert the viewer may not see shows
as committed, to nothing it can name (``shown_asset``): every read path of
assets goes through ``visible_assets`` / ``visible_asset``; whether an asset
is released to a viewer at all is ``asset_released`` (for a live event,
``asset_seen_now``). How one alert event
changes what a viewer sees (it comes into sight, changes in sight, or goes out
of sight) is ``sight``: the live streams and the TAK sender both ask it.
Permissions: ``require`` raises ``Forbidden`` naming what the role may not do.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from alerts.actions.centre import Centre
from alerts.actions.errors import Forbidden, NotFound
from alerts.core.assets import Asset
from alerts.core.events import ALERT_CREATED, ALERT_ROUTED, AlertEvent, AssetEvent
from alerts.core.model import StoredAlert
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.i18n import N_

#: How an alert event changes a viewer's picture (``sight``).
Sight = Literal["gained", "changed", "lost"]
GAINED: Sight = "gained"
CHANGED: Sight = "changed"
LOST: Sight = "lost"


#: What ``require`` says a role may not do, one whole sentence per permission (translatable).
REFUSALS = {
    Permission.VIEW: N_("role %(role)s may not view"),
    Permission.ACKNOWLEDGE: N_("role %(role)s may not acknowledge"),
    Permission.COMPLETE_STEP: N_("role %(role)s may not complete step"),
    Permission.RESOLVE: N_("role %(role)s may not resolve"),
    Permission.TASK_ASSETS: N_("role %(role)s may not task assets"),
    Permission.CHANGE_RELEASABILITY: N_("role %(role)s may not change releasability"),
    Permission.EXPORT: N_("role %(role)s may not export"),
    Permission.RELEASE_UNROUTED: N_("role %(role)s may not release unrouted"),
    Permission.MANAGE_USERS: N_("role %(role)s may not manage users"),
    Permission.READ_AUDIT: N_("role %(role)s may not read audit"),
    Permission.READ_ALL_AUDIT: N_("role %(role)s may not read all audit"),
    Permission.CONTROL_EXERCISES: N_("role %(role)s may not control exercises"),
    Permission.EVALUATE_EXERCISES: N_("role %(role)s may not evaluate exercises"),
}


def require(viewer: Viewer, permission: Permission) -> None:
    """Raise ``Forbidden`` unless the viewer's role has ``permission`` (its message: ``REFUSALS``)."""
    if not viewer.can(permission):
        if permission in REFUSALS:
            raise Forbidden(REFUSALS[permission], values={"role": viewer.role})
        raise Forbidden(N_("role %(role)s may not %(permission)s"),
                        values={"role": viewer.role, "permission": permission.value.replace("_", " ")})


def restricted(centre: Centre, viewer: Viewer, query: AlertQuery | None = None) -> AlertQuery:
    """``query`` (default: everything) narrowed to what ``viewer`` may see."""
    return viewer.restrict(query or AlertQuery(), centre.scheme)


def visible_alert(centre: Centre, viewer: Viewer, alert_id: str) -> StoredAlert:
    """The alert, if it exists and is released to ``viewer``; else ``NotFound``."""
    stored = centre.index.get(alert_id, restricted(centre, viewer))
    if stored is None:
        raise NotFound(N_("no alert %(alert)s"), values={"alert": repr(alert_id)})
    return stored


def visible_alerts(centre: Centre, viewer: Viewer, query: AlertQuery) -> list[StoredAlert]:
    """Every alert matching ``query`` that ``viewer`` may see, newest report first."""
    rows = centre.index.select(restricted(centre, viewer, query))
    return centre.index.get_many(rows["id"])


def sight(query: AlertQuery, event: AlertEvent) -> Sight | None:
    """What ``event`` means to a viewer of ``query`` (already ``restricted`` to the viewer):

    - ``"gained"``: the alert comes into sight (recorded and matching; or re-routed so that it is now
      released to the viewer and matches);
    - ``"changed"``: an alert the viewer sees (whatever its new status: a viewer of open alerts learns
      that one closed) changed;
    - ``"lost"``: re-routed so that it is no longer released to the viewer;
    - None: nothing the viewer sees or asked for.
    """
    if event.kind == ALERT_CREATED:
        return GAINED if query.matches(event.alert) else None
    changes = replace(query, status="all")
    now = changes.matches(event.alert)
    if event.kind != ALERT_ROUTED:
        return CHANGED if now else None
    before = changes.matches(event.seen_before())
    if now:
        return CHANGED if before else GAINED if query.matches(event.alert) else None
    return LOST if before else None


def released_now(centre: Centre, query: AlertQuery, alert_id: str) -> bool:
    """Whether the alert ``alert_id`` is released *now* to the viewer of ``query`` (``restricted``): its current
    routing in the read model, not the one an event recorded. A replayed event (a reconnect after a cursor)
    carries the alert as it was then; once narrowed, or classified above the viewer's clearance, its content
    must not be sent again. An alert the read model does not hold yet (just recorded) is judged by its event."""
    routing = centre.index.routing(alert_id)  # (held: no record read)
    if routing is not None:
        return query.releases(routing)
    current = centre.index.get(alert_id)
    return current is None or query.releasable(current)


def asset_seen_now(centre: Centre, query: AlertQuery, asset: Asset) -> Asset | None:
    """``asset`` (as an event recorded it) as the viewer of ``query`` (``restricted(centre, viewer)``, no
    filters) may see it now: None unless it is released to the query's nation both as recorded and as it stands
    now in the asset read model (see ``released_now``); else as ``shown_asset`` gives it. It depends on the
    viewer only through ``query`` (its nation and clearance), so the live streams share its answer among viewers
    with equal queries."""
    current = centre.asset_index.get(asset.id, None)
    if not asset.visible_to(query.nation) or (current is not None and not current.visible_to(query.nation)):
        return None
    return _shown(centre, query, asset)


def asset_withdrawn(query: AlertQuery, event: AssetEvent) -> bool:
    """Whether ``event`` took its asset from the viewers of ``query`` (``restricted``): they could see it just
    before (``AssetEvent.released_before``) and may not now."""
    if event.released_before is None or event.asset.visible_to(query.nation):
        return False
    owner, releasable_to = event.released_before
    return event.asset.model_copy(update={"nation": owner, "releasable_to": releasable_to}).visible_to(query.nation)


def asset_released(viewer: Viewer, asset: Asset) -> bool:
    """Whether ``asset`` is released to ``viewer`` (its nation is among the asset's releasable nations,
    or the asset is released to all)."""
    return asset.visible_to(viewer.nation)


def shown_asset(centre: Centre, viewer: Viewer, asset: Asset,
                lookup: Callable[[str], StoredAlert | None] | None = None) -> Asset:
    """``asset`` as ``viewer`` may see it: ``assigned_to`` kept only when the viewer may see that alert
    (else None: the asset shows as committed, to nothing named). ``lookup`` finds the alert (default:
    the read model; a process without one passes the store's ``get``)."""
    return _shown(centre, restricted(centre, viewer), asset, lookup)


def _shown(centre: Centre, query: AlertQuery, asset: Asset,
           lookup: Callable[[str], StoredAlert | None] | None = None) -> Asset:
    if asset.assigned_to is None:
        return asset
    routing = centre.index.routing(asset.assigned_to) if lookup is None else None  # (held: no record read)
    if routing is not None:
        if query.releases(routing):
            return asset
        return asset.model_copy(update={"assigned_to": None})
    tasked = (lookup or centre.index.get)(asset.assigned_to)
    if tasked is not None and query.releasable(tasked):
        return asset
    return asset.model_copy(update={"assigned_to": None})


def visible_assets(centre: Centre, viewer: Viewer) -> list[Asset]:
    """Every asset released to ``viewer``, each as ``shown_asset`` gives it."""
    return [shown_asset(centre, viewer, asset) for asset in centre.asset_index.visible(viewer.nation)]


def visible_asset(centre: Centre, viewer: Viewer, asset_id: str) -> Asset:
    """The asset, if it exists and is released to ``viewer`` (read from the store: tasking needs
    the newest record), as ``shown_asset`` gives it; else ``NotFound``."""
    asset = centre.asset_index.get(asset_id, None)
    if asset is None or not asset_released(viewer, asset):
        asset = centre.assets.get(asset_id)
    if asset is None or not asset_released(viewer, asset):
        raise NotFound(N_("no asset %(asset)s"), values={"asset": repr(asset_id)})
    return shown_asset(centre, viewer, asset)
