"""What a viewer may see and do: the one place the "visible alert" lookup and the permission check live.

Releasability: an alert (or asset) not released to the viewer, or above its
clearance, answers exactly as if it did not exist (``NotFound``). An asset
released to the viewer but tasked to an alert the viewer may not see shows
as committed, to nothing it can name (``shown_asset``): every read path of
assets goes through ``visible_assets`` / ``visible_asset``. Permissions:
``require`` raises ``Forbidden`` naming what the role may not do.
"""
from __future__ import annotations

from collections.abc import Callable

from alerts.actions.centre import Centre
from alerts.actions.errors import Forbidden, NotFound
from alerts.core.assets import Asset
from alerts.core.model import StoredAlert
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer


def require(viewer: Viewer, permission: Permission) -> None:
    """Raise ``Forbidden`` unless the viewer's role has ``permission``."""
    if not viewer.can(permission):
        raise Forbidden(f"role {viewer.role} may not {permission.value.replace('_', ' ')}")


def restricted(centre: Centre, viewer: Viewer, query: AlertQuery | None = None) -> AlertQuery:
    """``query`` (default: everything) narrowed to what ``viewer`` may see."""
    return viewer.restrict(query or AlertQuery(), centre.scheme)


def visible_alert(centre: Centre, viewer: Viewer, alert_id: str) -> StoredAlert:
    """The alert, if it exists and is released to ``viewer``; else ``NotFound``."""
    stored = centre.index.get(alert_id, restricted(centre, viewer))
    if stored is None:
        raise NotFound(f"no alert {alert_id!r}")
    return stored


def visible_alerts(centre: Centre, viewer: Viewer, query: AlertQuery) -> list[StoredAlert]:
    """Every alert matching ``query`` that ``viewer`` may see, newest report first."""
    rows = centre.index.select(restricted(centre, viewer, query))
    return [centre.index.get(alert_id) for alert_id in rows["id"]]


def shown_asset(centre: Centre, viewer: Viewer, asset: Asset,
                lookup: Callable[[str], StoredAlert | None] | None = None) -> Asset:
    """``asset`` as ``viewer`` may see it: ``assigned_to`` kept only when the viewer may see that alert
    (else None: the asset shows as committed, to nothing named). ``lookup`` finds the alert (default:
    the read model; a process without one passes the store's ``get``)."""
    if asset.assigned_to is None:
        return asset
    tasked = (lookup or centre.index.get)(asset.assigned_to)
    if tasked is not None and restricted(centre, viewer).releasable(tasked):
        return asset
    return asset.model_copy(update={"assigned_to": None})


def visible_assets(centre: Centre, viewer: Viewer) -> list[Asset]:
    """Every asset released to ``viewer``, each as ``shown_asset`` gives it."""
    return [shown_asset(centre, viewer, asset) for asset in centre.asset_index.visible(viewer.nation)]


def visible_asset(centre: Centre, viewer: Viewer, asset_id: str) -> Asset:
    """The asset, if it exists and is released to ``viewer`` (read from the store: tasking needs
    the newest record), as ``shown_asset`` gives it; else ``NotFound``."""
    asset = centre.asset_index.get(asset_id, viewer.nation)
    if asset is None:
        stored = centre.assets.get(asset_id)
        asset = stored if stored is not None and stored.visible_to(viewer.nation) else None
    if asset is None:
        raise NotFound(f"no asset {asset_id!r}")
    return shown_asset(centre, viewer, asset)
