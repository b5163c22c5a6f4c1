"""``create_app``: the only place that wires Redis, the read model, the API and the pages together."""
from __future__ import annotations

import dash
from dash import Dash, dcc, html

from dashboard import api
from dashboard import services as services_module
from dashboard.auth import Viewer, viewer_if_any
from dashboard.services import Services
from dashboard.settings import Settings


def _frame(settings: Settings) -> html.Div:
    banner = settings.classification
    viewer = viewer_if_any() or Viewer("", "none", "")  # layout validation runs outside a request
    pages = [page for page in dash.page_registry.values()
             if page.get("permission") is None or viewer.can(page["permission"])]
    return html.Div(
        className="frame",
        children=[
            html.Div(banner, className="classification top", id="classification-top"),
            html.Header(
                className="topbar",
                children=[
                    html.Span("Crisis Response Coordination", className="brand"),
                    html.Nav([dcc.Link(page["name"], href=page["relative_path"]) for page in pages]),
                    html.Span(className="whoami", id="whoami",
                              children=f"{viewer.name} · {viewer.role.replace('_', ' ')} · {viewer.nation}"),
                    html.Button("Sign out", id="sign-out", className="sign-out"),
                ],
            ),
            html.Div(dash.page_container, className="page"),
            html.Footer(
                className="attribution",
                children="Boundaries: Made with Natural Earth; regions © OpenStreetMap contributors, "
                "Elastic Maps Service (ODbL).",
            ),
            html.Div(banner, className="classification bottom", id="classification-bottom"),
        ],
    )


def create_app(settings: Settings, services: Services | None = None) -> Dash:
    """Build the Dash app (FastAPI backend) for ``settings``.

    Connects to Redis, loads the read model and starts the process's live
    feed follower. Nothing happens at import time; call ``shutdown(app)`` to stop.
    """
    services = services or Services.connect(settings)
    services_module.install(services)
    services.follower.bootstrap()
    services.follower.start()

    app = Dash(
        __name__,
        backend="fastapi",
        use_pages=True,
        pages_folder="",
        assets_folder=str(settings.assets_dir),
        title="Crisis dashboard",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    from dashboard.pages import map as _map_page  # noqa: F401  (registers the page)

    from dashboard.pages import audit as _audit_page  # noqa: F401
    from dashboard.pages import situation as _situation_page  # noqa: F401
    from dashboard.pages import responder as _responder_page  # noqa: F401

    app.layout = lambda: _frame(settings)
    api.mount(app.server)
    # Dash's FastAPI backend sets itself up (assets, scripts, the pages router) in hooks run
    # before a request to "/" or "/_dash-*" only: a first visit to another page (e.g. /queue)
    # would get a page without our scripts and styles. Run them now, everything registered.
    for hook in list(app.backend._before_request_funcs):  # noqa: SLF001
        hook()
    app.server.state.services = services
    return app


def shutdown(app: Dash) -> None:
    services: Services = app.server.state.services
    services.follower.stop()
    services.client.close()
