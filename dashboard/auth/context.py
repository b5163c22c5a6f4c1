"""How a route or a Dash callback reaches the caller and the process's services.

``create_app`` puts the ``Services`` on ``app.state`` and hands them to the
``AuthMiddleware``, which sets, for the duration of each authenticated
request, a context variable holding both. FastAPI routes use the dependencies
``services_of`` / ``caller``; Dash callbacks (plain functions, run inside the
request) use ``callback_context``. No module-level registry is involved: two
apps in one process never share services by accident.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass

from fastapi import HTTPException, Request

from alerts.core.viewer import Viewer
from dashboard.services import Services


@dataclass(frozen=True)
class RequestContext:
    """The process's services and the authenticated caller of one request."""

    services: Services
    viewer: Viewer


_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("crisis_request", default=None)


def enter(context: RequestContext) -> contextvars.Token:
    """Make ``context`` current (the middleware calls this); returns the token to ``leave`` with."""
    return _context.set(context)


def leave(token: contextvars.Token) -> None:
    """Restore the context that was current before ``enter``."""
    _context.reset(token)


def services_of(request: Request) -> Services:
    """FastAPI dependency: the process's services (from ``app.state``)."""
    return request.app.state.services


def caller(request: Request) -> Viewer:
    """FastAPI dependency: the authenticated caller (401 if there is none)."""
    viewer = getattr(request.state, "viewer", None)
    if viewer is None:
        raise HTTPException(401, "authentication required")
    return viewer


def callback_context() -> RequestContext:
    """The services and viewer behind the Dash callback (or page layout) being run.

    Raises ``PermissionError`` outside an authenticated request.
    """
    context = _context.get()
    if context is None:
        raise PermissionError("no authenticated viewer for this callback")
    return context


def context_if_any() -> RequestContext | None:
    """The current request's context, or None (e.g. while Dash validates a layout at start-up)."""
    return _context.get()
