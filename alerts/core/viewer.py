"""Who is looking: a viewer's name, role and nation, and what that lets them see and do.

Every read path (API, pages, live push, exports) narrows its query with
``Viewer.restrict`` and every action asks ``Viewer.can``, so releasability and
permissions are decided here and in ``alerts.core.roles``, nowhere else.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from alerts.core.model import StoredAlert
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission, Role, allowed


@dataclass(frozen=True)
class Viewer:
    """A signed-in user (or the system) as the rules see it.

    ``nation`` is ISO 3166-1 alpha-2 (``XK`` for Kosovo); ``None`` means not
    restricted by releasability, for the system's own work only. ``via`` says
    how the caller proved who it is (``session``, ``token``, ``cli``, ``system``).
    """

    name: str
    role: str
    nation: str | None
    via: str = "system"

    def can(self, permission: Permission) -> bool:
        """Whether this viewer's role has ``permission`` (the table in ``alerts.core.roles``)."""
        return allowed(self.role, permission)

    def restrict(self, query: AlertQuery, default_to_source: bool = True) -> AlertQuery:
        """``query`` narrowed to what this viewer may see.

        ``default_to_source``: whether an alert without ``releasable_to`` is
        released to its reporting nation only (the default) or to everyone.
        """
        return replace(query, nation=self.nation, default_to_source=default_to_source)

    def may_see(self, stored: StoredAlert, default_to_source: bool = True) -> bool:
        """Whether ``stored`` is released to this viewer."""
        return self.restrict(AlertQuery(), default_to_source).releasable(stored)


#: The system itself (ingest, escalation): sees everything, may do everything an admin may.
SYSTEM = Viewer(name="system", role=Role.ADMIN.value, nation=None)
