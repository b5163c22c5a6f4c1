"""Who the caller is: the one place every route and callback asks."""
from __future__ import annotations

from dataclasses import dataclass, replace

from fastapi import Request

from alerts.query import AlertQuery
from dashboard.settings import Settings


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    nation: str | None  # None: not restricted by releasability (system use)

    def restrict(self, query: AlertQuery, settings: Settings) -> AlertQuery:
        """``query`` narrowed to what this viewer may see."""
        return replace(query, nation=self.nation, default_to_source=settings.default_to_source)


SYSTEM = Viewer(name="system", role="admin", nation=None)


def current_viewer(request: Request) -> Viewer:
    return SYSTEM


def viewer_for_callback() -> Viewer:
    """The viewer behind the Dash callback being run."""
    return SYSTEM
