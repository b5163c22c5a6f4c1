"""``create_app``: the only place that wires the services, the API, the live streams and the pages together.

Nothing happens at import time. ``create_app(settings)`` builds the process's
services (``dashboard.services.build_services``) unless given them, loads the
read models, starts the live feed, and returns the Dash app (FastAPI backend)
whose ``server.state.services`` routes and callbacks reach (``dashboard.auth.context``).
Call ``shutdown(app)`` to stop it.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from datetime import timedelta
from html import escape as html_escape

import dash
from dash import Dash, dcc, html
from fastapi import FastAPI

from alerts import i18n
from alerts.actions.audit_retention import AuditRetention
from alerts.actions.periodic import run_every
from alerts.actions.record_retention import RecordRetention
from alerts.actions.replay import forget_idle
from alerts.core.markings import Classifications, Tlp
from alerts.core.viewer import Viewer
from alerts.i18n import N_, terms
from alerts.i18n import gettext as _
from alerts.store.client import UNAVAILABLE
from alerts.store.record import RecordStreams
from dashboard import api, callback_errors
from dashboard.auth.context import context_if_any
from dashboard.components import exercise_band, language
from dashboard.components.ids import (
    ALARM_ANNOUNCE,
    ALARM_TEXT,
    CRITICAL_BANNER,
    MUTE_SOUND,
    SIGN_OUT,
    contract_element,
)
from dashboard.degraded import DegradedMiddleware
from dashboard.edge import install as install_edge
from dashboard.edge.jsonbody import JsonBody
from dashboard.heap import give_back_freed_memory
from dashboard.services import Services, build_services
from dashboard.settings import Settings

log = logging.getLogger(__name__)
ATTRIBUTION = N_("Boundaries: Made with Natural Earth; regions © OpenStreetMap contributors, "
                  "Elastic Maps Service (ODbL).")


def classification_banner(scheme: Classifications, where: str) -> html.Div:
    """The classification banner at the top or bottom (``where``) of every page: the lowest level, raised
    by ``assets/marking.js`` to the most restrictive marking on screen. It publishes the deployment's
    levels (``data-levels``, lowest first) and the TLP labels (``data-tlps``), so the script ranks
    markings as the server does; ``marking-level-N`` (N the level's rank) colours it."""
    return html.Div(scheme.lowest, className=f"classification {where} marking-level-0", id=f"classification-{where}",
                    **language.UNTRANSLATED, **{"data-marking-banner": where, "data-levels": json.dumps(scheme.levels),
                       "data-tlps": json.dumps([t.value for t in Tlp])})


#: What the sound button says until the browser allows sound (``assets/alarm.js`` then says on / off).
SOUND_BLOCKED = N_("Sound: click anywhere to allow")
SOUND_RULE = N_("Browsers play no sound on a page before you click or press a key on it (their autoplay rule). "
                "After that, a short tone sounds for each new critical alert; this button mutes it.")


def alarm_strip() -> html.Div:
    """The critical alarm of every page (``assets/alarm.js`` fills it from the page's live stream): a strip of
    reserved height under the navigation, so it never moves the page when it rings; the sound button, which
    explains the browsers' autoplay rule; and the ``aria-live="assertive"`` region a new critical alert is
    announced in."""
    return html.Div(className="alarm-holder", children=[
        html.Div(id=CRITICAL_BANNER, className="alarm-strip quiet", **{"data-alarm": "0"}, children=[
            html.Span(id=ALARM_TEXT, className="alarm-text", children=_("No critical alert awaiting acknowledgment")),
            html.Button(_(SOUND_BLOCKED), id=MUTE_SOUND, className="mute-sound", title=_(SOUND_RULE),
                        **{"aria-pressed": "false", "data-blocked": _(SOUND_BLOCKED)}),
        ]),
        html.Div(id=ALARM_ANNOUNCE, className="visually-hidden", **{"aria-live": "assertive", "aria-atomic": "true"}),
    ])


#: The page's own title, as Dash's pages write it (already HTML-escaped) in the page's ``twitter:title``.
_PAGE_TITLE = re.compile(r'<meta property="twitter:title" content="([^"]*)"')


def in_language(page: str) -> str:
    """Dash's HTML page in the request's language (``alerts.i18n.current``): ``<html lang>``, the document's
    ``<title>`` (the page's own, translated by its ``page_title``, not Dash's app title) and the loading
    text shown until the scripts draw the page."""
    found = _PAGE_TITLE.search(page)
    title = found.group(1) if found else html_escape(_(language.APP_NAME))
    page = page.replace('<html lang="en">', f'<html lang="{i18n.current()}">', 1)
    page = re.sub(r"<title>[^<]*</title>", lambda _m: f"<title>{title}</title>", page, count=1)
    loading = html_escape(_("Loading…"))
    return re.sub(r">\s*Loading\.\.\.\s*<", lambda _m: ">" + loading + "<", page, count=1)


def _frame(settings: Settings) -> html.Div:
    """Every page's frame: classification banners, the navigation the viewer may use, the page."""
    context = context_if_any()
    viewer = context.viewer if context else Viewer("", "none", "")  # layout validation runs outside a request
    pages = [page for page in dash.page_registry.values()
             if page.get("permission") is None or viewer.can(page["permission"])]
    return html.Div(
        className="frame",
        children=[
            classification_banner(settings.scheme, "top"),
            exercise_band.band(context.services.centre if context else None, viewer),
            html.Header(
                className="topbar",
                children=[
                    html.Span(_("Crisis Response Coordination"), className="brand"),
                    html.Nav([dcc.Link(_(page["name"]), href=page["relative_path"]) for page in pages]),
                    html.Span(className="whoami", id="whoami", **language.UNTRANSLATED,
                              children=f"{viewer.name} · {terms.role(viewer.role)} · {viewer.nation}"),
                    language.chooser(viewer),
                    html.Button(_("Sign out"), id=SIGN_OUT, className="sign-out"),
                ],
            ),
            alarm_strip(),
            html.Div(dash.page_container, className="page"),
            html.Footer(className="attribution", children=_(ATTRIBUTION)),
            classification_banner(settings.scheme, "bottom"),
            contract_element(int(settings.live_ping_seconds * 1000)),
        ],
    )


_page_callbacks: tuple[list, dict, list] | None = None


def _offer_page_callbacks() -> None:
    """Import the pages (each registers its page and its ``dash.callback``s) and put their callbacks where
    the next app takes them.

    Dash moves the callbacks registered with ``dash.callback`` into the first app set up and clears them
    (``dash._callback.GLOBAL_CALLBACK_*``), and a module's callbacks register once, at import: a second
    app in the same process (tests run several) would have pages without callbacks. The first import's
    callbacks are kept and offered again to every app.
    """
    global _page_callbacks
    from dash import _callback

    from dashboard.components import exercise_band, language  # noqa: F401  (their callbacks)
    from dashboard.pages import (  # noqa: F401, A004
        aar,
        audit,
        evaluation,
        exercises,
        map,
        queue,
        replay,
        sharing,
        situation,
    )

    if _page_callbacks is None:
        _page_callbacks = (list(_callback.GLOBAL_CALLBACK_LIST), dict(_callback.GLOBAL_CALLBACK_MAP),
                           list(_callback.GLOBAL_INLINE_SCRIPTS))
    callbacks, by_output, scripts = _page_callbacks
    _callback.GLOBAL_CALLBACK_LIST[:] = callbacks
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_MAP.update(by_output)
    _callback.GLOBAL_INLINE_SCRIPTS[:] = scripts


def create_app(settings: Settings, services: Services | None = None) -> Dash:
    """The Dash app (FastAPI backend) for ``settings``, its read models loaded and its live feed running."""
    i18n.load_all()  # a broken catalogue stops the start, not a page
    services = services or build_services(settings)
    try:
        services.live.bootstrap()
    except UNAVAILABLE as error:  # Redis is away: serve the degraded banner; the live feed bootstraps later
        log.warning("Redis unreachable at start (%s); serving in degraded mode until it answers", error)
        services.outage.failed(f"{type(error).__name__}: {error}")
    services.live.start()
    retention = start_audit_retention(settings, services)

    app = Dash(
        __name__,
        # FastAPI's /docs and /redoc load Swagger UI and ReDoc from a CDN, which the CSP refuses and an
        # air-gapped site cannot reach (no installed package ships them): off; the description is /openapi.json
        server=FastAPI(title="Crisis dashboard", docs_url=None, redoc_url=None),
        backend="fastapi",
        use_pages=True,
        pages_folder="",
        assets_folder=str(settings.assets_dir),
        title="Crisis dashboard",
        update_title=None,
        suppress_callback_exceptions=True,
        on_error=callback_errors.on_error,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)  # WCAG 3.1.1
    interpolate = app.interpolate_index
    app.interpolate_index = lambda **parts: in_language(interpolate(**parts))
    _offer_page_callbacks()

    app.layout = lambda: _frame(settings)
    app.server.state.services = services
    app.server.state.audit_retention = retention
    # inside the authentication (added next), outside Dash's own middleware, which parses callback bodies
    app.server.add_middleware(JsonBody, callbacks=lambda: app.callback_map)
    api.mount(app.server, services)
    # outermost (after the authentication that needs Redis): a 503 with a reason while Redis is away
    app.server.add_middleware(DegradedMiddleware, outage=services.outage, retry_after=settings.retry_after_seconds,
                              marking=settings.scheme.lowest)
    # Dash's FastAPI backend sets itself up (assets, scripts, the pages router) in hooks run
    # before a request to "/" or "/_dash-*" only: a first visit to another page (e.g. /queue)
    # would get a page without our scripts and styles. Run them now, everything registered.
    for hook in list(app.backend._before_request_funcs):  # noqa: SLF001
        hook()
    install_edge(app.server, settings, app.csp_hashes(), larger_bodies=api.LARGER_BODIES)  # last: outermost, its headers on every answer
    return app


#: How often a server process hands the heap's free pages back (``give_back_freed_memory``; seconds).
TRIM_EVERY = 60.0


def start_audit_retention(settings: Settings, services: Services) -> threading.Event:
    """Run the audit retention (``alerts.actions.audit_retention``: archive, then trim) in a daemon thread,
    now and hourly, the record retention (``alerts.actions.record_retention``) every minute, and the process's
    housekeeping: it forgets the replay record when unused (``alerts.actions.replay.forget_idle``,
    ``CRISIS_REPLAY_IDLE``) and hands the heap's free pages back every ``TRIM_EVERY`` seconds (a list or
    summary over a million alerts leaves about 200 MB of freed temporaries in the process otherwise:
    bench/README.md section 10). Returns the event that stops all three. (The replay record is read when
    first used, under the record archive's lock: nothing is trimmed between its read of the archive and of
    the streams.)"""
    retention = AuditRetention(services.centre.audit, settings.audit_archive,
                               timedelta(days=settings.audit_retention_days), settings.audit_max_entries)
    stop = threading.Event()
    streams = RecordStreams(services.client, services.keys)
    record = RecordRetention(streams, settings.record_archive / settings.prefix,
                             timedelta(days=settings.record_retention_days))
    threading.Thread(target=retention.run, args=(stop,), name="audit-retention", daemon=True).start()
    threading.Thread(target=record.run, args=(stop,), name="record-retention", daemon=True).start()
    idle = services.centre.record_idle

    def housekeeping() -> None:
        if forget_idle(services.centre):
            log.info("the replay record was unused for %s: forgotten until the next replay", idle)
        give_back_freed_memory()

    every = TRIM_EVERY if idle is None else min(TRIM_EVERY, max(idle.total_seconds() / 2, 1.0))
    threading.Thread(target=run_every, args=(stop, every, housekeeping, "housekeeping", log),
                     name="housekeeping", daemon=True).start()
    return stop


def shutdown(app: Dash) -> None:
    """Stop the live feed and close the Redis client of ``app``."""
    getattr(app.server.state, "audit_retention", threading.Event()).set()
    checks = getattr(app.server.state, "password_checks", None)
    if checks is not None:
        checks.close()
    app.server.state.services.close()
