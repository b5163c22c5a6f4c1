"""What a viewer may see and do: the one place the "visible alert" lookup and the permission check live.

Releasability: an alert (or asset) not released to the viewer answers exactly
as if it did not exist (``NotFound``). Permissions: ``require`` raises
``Forbidden`` naming what the role may not do.
"""
from __future__ import annotations

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
    return viewer.restrict(query or AlertQuery(), centre.default_to_source)


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


def visible_asset(centre: Centre, viewer: Viewer, asset_id: str) -> Asset:
    """The asset, if it exists and is released to ``viewer`` (read from the store: tasking needs
    the newest record); else ``NotFound``."""
    asset = centre.asset_index.get(asset_id, viewer.nation)
    if asset is None:
        stored = centre.assets.get(asset_id)
        asset = stored if stored is not None and stored.visible_to(viewer.nation) else None
    if asset is None:
        raise NotFound(f"no asset {asset_id!r}")
    return asset
