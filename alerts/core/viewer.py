"""Who is looking: a viewer's name, role and nation, and what that lets them see and do.

Every read path (API, pages, live push, exports) narrows its query with
``Viewer.restrict`` and every action asks ``Viewer.can``, so releasability and
permissions are decided here and in ``alerts.core.roles``, nowhere else.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from alerts.core.markings import Classifications, MarkingError
from alerts.core.model import StoredAlert
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission, Role, allowed


@dataclass(frozen=True)
class Viewer:
    """A signed-in user (or the system) as the rules see it.

    ``nation`` is ISO 3166-1 alpha-2 (``XK`` for Kosovo); ``None`` means not
    restricted by releasability, for the system's own work only. ``clearance``
    is a classification level (``alerts.core.markings``); ``None`` means any
    (the system only). ``via`` says how the caller proved who it is
    (``session``, ``token``, ``cli``, ``system``). ``language`` is the user interface language the user
    chose (a BCP 47 tag, ``alerts.i18n.SHIPPED``), "" for none chosen (the browser's is used).
    """

    name: str
    role: str
    nation: str | None
    via: str = "system"
    clearance: str | None = None
    #: Where the request came from (an IP address; "" when unknown), for the audit trail: not part of who
    #: the viewer is, so two requests of one user compare equal.
    address: str = field(default="", compare=False)
    language: str = field(default="", compare=False)

    def can(self, permission: Permission) -> bool:
        """Whether this viewer's role has ``permission`` (the table in ``alerts.core.roles``)."""
        return allowed(self.role, permission)

    def cleared(self, scheme: Classifications) -> frozenset[str] | None:
        """The levels this viewer may see ("" for unmarked content); a clearance the deployment no
        longer lists counts as the lowest level. None for the system (any level)."""
        if self.clearance is None:
            return None
        try:
            levels = scheme.cleared(self.clearance)
        except MarkingError:
            levels = frozenset({scheme.lowest})
        return levels | {""}

    def restrict(self, query: AlertQuery, scheme: Classifications) -> AlertQuery:
        """``query`` narrowed to what this viewer may see: released to its nation, within its clearance."""
        return replace(query, nation=self.nation, cleared=self.cleared(scheme))

    def may_see(self, stored: StoredAlert, scheme: Classifications) -> bool:
        """Whether ``stored`` is released to this viewer and within its clearance."""
        return self.restrict(AlertQuery(), scheme).releasable(stored)


#: The system itself (ingest, escalation): sees everything, may do everything an admin may.
SYSTEM = Viewer(name="system", role=Role.ADMIN.value, nation=None)
