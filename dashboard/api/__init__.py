"""The HTTP API under ``/api/v1`` (JSON; OpenAPI at ``/openapi.json``; no ``/docs``: it would load from a CDN).

``mount`` adds every router, the one mapping from domain errors to HTTP
status (``ActionError`` -> its status with ``{"detail": message, ...extra}``,
``BadQuery`` -> 422, a request that fails validation -> 422 whose errors echo no
value JSON cannot carry: ``_invalid``), ``AuthMiddleware`` in front of everything and, in front
of that, the trusted-proxy handling of ``X-Forwarded-For`` (``dashboard.auth.limits``). Route
handlers only translate: the work is in ``alerts.actions``.
"""
from __future__ import annotations

import json

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from alerts.actions.errors import ActionError
from alerts.core.query import BadQuery
from dashboard.api import (
    aar,
    alerts,
    assets,
    exercises,
    exports,
    replay,
    sharing,
    workflow,
)
from dashboard.auth import login
from dashboard.auth.checks import PasswordChecks
from dashboard.auth.limits import EdgeLimits, ForwardedFor
from dashboard.auth.middleware import AuthMiddleware
from dashboard.live import routes as live_routes
from dashboard.services import Services

API_PREFIX = "/api/v1"
#: Routes that take bodies over ``CRISIS_MAX_REQUEST_BYTES`` (path -> bytes): the MSEL upload.
LARGER_BODIES = {API_PREFIX + "/exercises": exercises.MAX_UPLOAD}
#: Every router of the API and the live streams, in the order they are matched.
ROUTERS = (workflow.router, assets.router, sharing.router, aar.router, exercises.router, replay.router,
           alerts.router, exports.router)


def _action_error(_request: Request, exc: ActionError) -> JSONResponse:
    return JSONResponse({"detail": exc.message, **exc.extra}, status_code=exc.status)


def _bad_query(_request: Request, exc: BadQuery) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def _invalid(_request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422 ``{"detail": [errors]}`` with each error's ``loc``, ``msg`` and ``type`` only: what was
    sent is never echoed (a non-finite number, which JSON cannot carry, or a lone surrogate, which UTF-8
    cannot, made FastAPI's own answer fail with a 500), and the answer is ASCII JSON whatever ``msg`` holds."""
    found = [{k: error[k] for k in ("loc", "msg", "type") if k in error} for error in exc.errors()]
    return Response(json.dumps({"detail": jsonable_encoder(found)}, ensure_ascii=True), status_code=422,
                    media_type="application/json")


def mount(server: FastAPI, services: Services) -> None:
    """Add the API, the live streams and sign-in to ``server``, all behind ``AuthMiddleware``."""
    server.add_exception_handler(ActionError, _action_error)
    server.add_exception_handler(BadQuery, _bad_query)
    server.add_exception_handler(RequestValidationError, _invalid)
    server.include_router(login.router)
    for router in ROUTERS:  # the /alerts/{id}/... routes come before /alerts/{id}, which takes any path
        server.include_router(router, prefix=API_PREFIX)
    server.include_router(live_routes.router)

    @server.api_route(API_PREFIX + "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                      include_in_schema=False)
    def unknown(path: str):
        """Anything else under the API prefix: 404 (not the Dash page the catch-all would serve)."""
        raise HTTPException(404, f"no API route {API_PREFIX}/{path}")

    @server.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @server.api_route("/api", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @server.api_route("/_dash-component-suites/", methods=["GET"], include_in_schema=False)
    @server.api_route("/docs", methods=["GET"], include_in_schema=False)
    @server.api_route("/docs/{path:path}", methods=["GET"], include_in_schema=False)
    @server.api_route("/redoc", methods=["GET"], include_in_schema=False)
    def not_a_page(path: str = ""):
        """Paths that are no page (``/api`` itself, ``/api//v1/...``, the component folder, FastAPI's ``/docs`` and ``/redoc``, off in ``create_app`` as they load from a CDN): 404,
        never the page shell (which names the Python and Dash versions)."""
        raise HTTPException(404, "no such route")

    favicon = services.settings.assets_dir / "favicon.ico"

    @server.get("/favicon.ico", include_in_schema=False)
    def favicon_ico() -> FileResponse:
        """The site's icon (``assets/favicon.ico``), where browsers look for it without a link tag."""
        return FileResponse(favicon, media_type="image/x-icon")

    limits = EdgeLimits.build(services.settings, services.client, services.keys, services.centre.audit)
    server.state.edge_limits = limits
    server.state.password_checks = PasswordChecks(services.settings.login_checks)  # sign-ins' own threads
    server.add_middleware(AuthMiddleware, services=services, limits=limits)  # runs before Dash's own middleware
    # Outermost: the client's address from X-Forwarded-For only when the peer is a trusted proxy.
    server.add_middleware(ForwardedFor, trusted_hosts=services.settings.trusted_proxy_list)
