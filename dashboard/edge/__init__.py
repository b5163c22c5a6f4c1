"""The web edge: what every response carries and what every request may be.

``install(server, settings, script_hashes)`` puts, in front of everything the
server answers (outermost first): ``SecurityHeaders`` (``headers``: CSP, frame
protection, HSTS and ``Secure`` cookies over HTTPS), ``HeadLimit`` (``server``:
431 for too many or too large headers), ``BodyLimit`` (``body``: 413 past
``max_request_bytes``), ``NotFound`` (``notfound``: 404 for a path that is no
page, route or static file, not Dash's page shell; 405 for a GET of a
POST-only route); answers 404 (not 500) for a path under
``/_dash-component-suites/`` that names no file Dash serves; and gives the
process its ``StreamLimits`` (``dashboard.live.limits``) at
``server.state.stream_limits``. ``tls`` runs the server over HTTPS. Call it
last in ``create_app``, after every other middleware, so its headers are on
every answer, the others' refusals included. ``JsonBody`` (``jsonbody``: 422 for
a JSON body with ``NaN``/``Infinity``, 400 for a body Dash's callback endpoint
cannot use) is installed by ``create_app`` inside the authentication, so only
callers it lets through have their bodies parsed.
"""
from __future__ import annotations

from collections.abc import Iterable

from dash.exceptions import DependencyException
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from dashboard.edge.body import BodyLimit
from dashboard.edge.headers import SecurityHeaders, content_security_policy
from dashboard.edge.notfound import NotFound
from dashboard.edge.server import HeadLimit
from dashboard.live.limits import StreamLimits
from dashboard.settings import Settings


def _no_such_file(_request: Request, _exc: DependencyException) -> JSONResponse:
    return JSONResponse({"detail": "no such component file"}, status_code=404)


def install(server: FastAPI, settings: Settings, script_hashes: Iterable[str],
            larger_bodies: dict[str, int] | None = None) -> None:
    """Wrap ``server`` in the edge (see the module docstring); ``script_hashes`` are the CSP hash sources of
    the inline scripts of Dash's index page (``Dash.csp_hashes()``); ``larger_bodies`` the paths that take
    bodies over ``max_request_bytes`` (path -> bytes)."""
    server.add_exception_handler(DependencyException, _no_such_file)
    server.state.stream_limits = StreamLimits(settings.max_streams_per_user, settings.max_streams)
    server.add_middleware(NotFound, server=server, marking=settings.scheme.lowest)
    server.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes, larger=larger_bodies)
    server.add_middleware(HeadLimit)
    server.add_middleware(SecurityHeaders, policy=content_security_policy(script_hashes),
                          hsts_seconds=settings.hsts_seconds)
