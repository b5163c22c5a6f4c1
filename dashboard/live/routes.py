"""The live streams (server-sent events): ``GET /live/map``, ``/live/alerts`` and ``/live/assets``.

``/live/alerts`` takes the same filters as ``/api/v1/alerts``; it sends
``alert`` for an alert recorded after the cursor (or newly released to the
viewer: released from Unrouted, releasability widened) and ``update`` for a
change to one (acknowledged, in progress, escalated, resolved, cancelled),
each with the alert's plain data (``dashboard.live.payloads.alert_data``) and
its events-stream id, and ``withdraw`` (``{"id": ...}``) for an alert no
longer released to the viewer (``alerts.actions.visibility.sight`` decides
which). ``/live/assets`` sends ``asset`` with an asset's point, and ``asset_withdraw`` (``{"id": ...}``) to the
viewers of a nation that could see an asset until a change of its nation or releasability took it from them.
``/live/map``
is both in one connection (what the map page opens: one connection per tab):
the filters of ``/live/alerts``, events of both, ids ``<alerts id>,<assets id>``.
Every stream resumes after ``Last-Event-ID`` (or ``after``; for ``/live/map``
both cursors joined by ``,``; anything but stream ids answers 422), sends only
what the viewer may see, pings (``event: ping``) when quiet, and caps its
replay (``event: rebuild``; see ``dashboard.live.sse``); a stream that falls
more than ``live_max_lag_seconds`` (``CRISIS_LIVE_MAX_LAG``) behind the live
feed gets ``event: rebuild`` too, its backlog dropped. Viewers with the same
filters, nation and clearance share each live event's frame (built once for
them all: ``Source.key`` is the viewer's ``restricted`` query). With a ``status``
filter, ``update`` events are sent whatever the new status, so a viewer of
open alerts learns that one closed. The streams re-check their caller every
few seconds (``dashboard.auth.recheck``) and end with ``revoked`` once the
caller signed out, lost its token or account, or changed role, nation or
clearance. Each stream takes a place of ``dashboard.live.limits.StreamLimits``
(``app.state.stream_limits``; kinds ``map``, ``alerts``, ``assets``): one past
a user's limit pushes out that user's oldest of that kind (``event: superseded``);
one past the process's total answers 503.

The critical alarm (``alerts.core.alarm``: critical alerts nobody acknowledged, of those the viewer may
see; their count and the newest few, never the whole list) is ``event: alarm``, sent as the stream opens
and after each event that changes it: on ``/live/alarm`` (kind ``alarm``: what every page but the map, queue
and situation opens) and, with ``alarm=true``, on ``/live/map`` and ``/live/alerts``. It is a state, not an
event (``dashboard.live.sse``, state sources): it has no id and is not replayed. The same streams carry
``event: band`` (``{"signature"}``) as they open and whenever some page's EXERCISE band may have changed
(``alerts.actions.band``): the page reads its band again; no page polls for it.
"""
from __future__ import annotations

import json
from functools import partial

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from alerts import i18n
from alerts.actions.alarm import alarm_for, concerns
from alerts.actions.centre import Centre
from alerts.actions.visibility import (
    CHANGED,
    GAINED,
    LOST,
    asset_seen_now,
    asset_withdrawn,
    released_now,
    restricted,
    sight,
)
from alerts.core.events import AlertEvent, AssetEvent
from alerts.core.query import AlertQuery
from alerts.core.viewer import Viewer
from dashboard.auth.context import caller, services_of
from dashboard.auth.recheck import Recheck
from dashboard.live.limits import Lease, TooManyStreams
from dashboard.live.payloads import alarm_data, alert_data, asset_data
from dashboard.live.sse import Frame, Source, sse_events, valid_cursor
from dashboard.params import alert_filters
from dashboard.services import Services

router = APIRouter()
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
#: The SSE event each ``sight`` of an alert event is sent as.
ALERT_EVENT_NAMES = {GAINED: "alert", CHANGED: "update", LOST: "withdraw"}


def _lease(request: Request, viewer: Viewer, kind: str) -> Lease:
    """The stream's place (``dashboard.live.limits``); 503 with the reason when the process is full."""
    try:
        return request.app.state.stream_limits.open(viewer.name, kind)
    except TooManyStreams as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "30"}) from None


def _cursors(request: Request, after: str | None, defaults: list[str]) -> list[str]:
    """Where each source resumes: ``Last-Event-ID``, else ``after``, else now; 422 unless it is one stream id
    per source (joined by ``,``)."""
    raw = (request.headers.get("last-event-id") or after or "").strip()
    cursors = [c.strip() for c in raw.split(",")] if raw else defaults
    if len(cursors) != len(defaults) or not all(valid_cursor(c) for c in cursors):
        shape = ",".join(["1700000000000-0"] * len(defaults))
        raise HTTPException(422, f"Last-Event-ID / after: not a stream id (e.g. {shape})")
    return cursors


def _alert_frame(centre: Centre, query: AlertQuery, event: AlertEvent) -> Frame:
    """What ``event`` is sent as to the viewers of ``query`` (``restricted``); depends on nothing else."""
    name = ALERT_EVENT_NAMES.get(sight(query, event))
    if name == "withdraw":
        return name, json.dumps({"id": event.alert.id})
    if name is None or not released_now(centre, query, event.alert.id):
        return None  # a replayed event of an alert no longer released to the viewer: its content never again
    return name, json.dumps(alert_data(event.alert))


def _asset_frame(centre: Centre, query: AlertQuery, event: AssetEvent) -> Frame:
    """What ``event`` is sent as to the viewers of ``query`` (``restricted``, no filters): ``asset`` with its
    point, or ``asset_withdraw`` (its id only) when this change took it from the viewers' nation, who could
    see it just before; depends on nothing else."""
    asset = asset_seen_now(centre, query, event.asset)
    if asset is not None:
        return "asset", json.dumps(asset_data(asset))
    return ("asset_withdraw", json.dumps({"id": event.asset.id})) if asset_withdrawn(query, event) else None


def _spoken(language: str, frame, *args) -> Frame:
    """``frame(*args)`` worded in ``language`` (its hover texts and labels): frames are made on the live
    feed's thread, outside any request, once for every viewer of the same key."""
    token = i18n.use(language)
    try:
        return frame(*args)
    finally:
        i18n.reset(token)


def _alert_source(centre: Centre, viewer: Viewer, filters: AlertQuery, services: Services, cursor: str) -> Source:
    # the group key is everything the frame depends on: the viewer's filters, nation and clearance (the query),
    # and the language its words are in
    query, language = restricted(centre, viewer, filters), i18n.current()
    return Source(services.live.alerts, centre.alerts.events_since, cursor,
                  partial(_spoken, language, _alert_frame, centre, query), key=("alert", query, language))


def _asset_source(centre: Centre, viewer: Viewer, services: Services, cursor: str) -> Source:
    query, language = restricted(centre, viewer), i18n.current()  # nation and clearance; the words' language
    return Source(services.live.assets, centre.assets.events_since, cursor,
                  partial(_spoken, language, _asset_frame, centre, query), key=("asset", query, language))


def _alarm_frame(centre: Centre, query: AlertQuery, event: AlertEvent | None = None) -> Frame:
    """``alarm`` with the viewer's critical alarm now (``alarm_data``) when ``event`` (None: as the stream
    opens) concerns a critical alert the viewer sees, saw or comes to see; else nothing. ``query`` is the
    viewer's ``restricted`` query without filters: the alarm is the same on every page."""
    if event is not None and (not concerns(event) or sight(query, event) is None):
        return None
    return "alarm", json.dumps(alarm_data(alarm_for(centre, query)))


def _alarm_source(centre: Centre, viewer: Viewer, services: Services) -> Source:
    """The critical alarm as a state source (``dashboard.live.sse``) on the alerts fan-out."""
    query, language = restricted(centre, viewer), i18n.current()  # nation and clearance; the titles' language
    return Source(services.live.alerts, lambda _cursor, _count: [], centre.index.cursor,
                  partial(_spoken, language, _alarm_frame, centre, query), key=("alarm", query, language),
                  opening=partial(_spoken, language, _alarm_frame, centre, query))


def _band_source(services: Services) -> Source:
    """The EXERCISE band's digest (``alerts.actions.band.band_signature``) as a state source on the band
    fan-out: ``band`` as the stream opens and whenever any band may have changed; the page then reads its own
    band again. The same for every viewer (it says only "look again")."""
    live = services.live
    frame = lambda signature=None: ("band", json.dumps({"signature": signature or live.band_signature}))  # noqa: E731
    return Source(live.band, lambda _cursor, _count: [], "0-0", lambda event: frame(event.signature),
                  key=("band",), opening=frame)


def _page_sources(centre: Centre, viewer: Viewer, services: Services) -> list[Source]:
    """What every page's stream carries besides its own: the critical alarm and the EXERCISE band."""
    return [_alarm_source(centre, viewer, services), _band_source(services)]


def _stream(request: Request, viewer: Viewer, services: Services, kind: str,
            sources: list[Source]) -> StreamingResponse:
    """The SSE response; its lease is given back when it ends (also if its body never started)."""
    lease = _lease(request, viewer, kind)
    settings = services.settings
    body = sse_events(sources, request.is_disconnected, Recheck(services, request.scope, viewer), lease=lease,
                      ping_every=settings.live_ping_seconds, max_lag=settings.live_max_lag_seconds)
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS,
                             background=BackgroundTask(lease.close))


_COMMON = ("rebuild (the replay would exceed its cap, or the cursor was trimmed), reload, ping, status, revoked, "
           "superseded")
_ALARM = ("also send event alarm (the caller's critical alarm: count and newest few, dashboard.live.payloads."
          "alarm_data) as the stream opens and whenever it changes, and event band (the EXERCISE band may have "
          "changed: {signature}) as it opens and on each change")
_ERRORS = {422: {"description": "a filter or the cursor is not valid"},
           503: {"description": "the server holds its limit of live streams"}}


@router.get("/live/map", summary="Server-sent events: alerts and assets in one stream (what the map page opens)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": f"events alert, update, withdraw, asset, asset_withdraw, {_COMMON}"},
                       **_ERRORS})
async def live_map(request: Request, filters: AlertQuery = Depends(alert_filters), after: str | None = None,
                   alarm: bool = Query(False, description=_ALARM), viewer: Viewer = Depends(caller),
                   services: Services = Depends(services_of)) -> StreamingResponse:
    """``/live/alerts`` and ``/live/assets`` in one connection; ``after`` is ``<alerts id>,<assets id>``."""
    centre = services.centre
    alerts_at, assets_at = _cursors(request, after, [centre.index.cursor, centre.asset_index.cursor])
    sources = [_alert_source(centre, viewer, filters, services, alerts_at),
               _asset_source(centre, viewer, services, assets_at)]
    return _stream(request, viewer, services, "map", sources + (_page_sources(centre, viewer, services)
                                                               if alarm else []))


@router.get("/live/alerts", summary="Server-sent events: alerts as they arrive and change (see dashboard.live)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": f"events alert, update, withdraw, {_COMMON}"},
                       **_ERRORS})
async def live_alerts(request: Request, filters: AlertQuery = Depends(alert_filters), after: str | None = None,
                      alarm: bool = Query(False, description=_ALARM), viewer: Viewer = Depends(caller),
                      services: Services = Depends(services_of)) -> StreamingResponse:
    """Events ``alert`` (new), ``update`` (changed) and ``withdraw``, filtered like ``/api/v1/alerts``."""
    centre = services.centre
    (cursor,) = _cursors(request, after, [centre.index.cursor])
    sources = [_alert_source(centre, viewer, filters, services, cursor)]
    return _stream(request, viewer, services, "alerts", sources + (_page_sources(centre, viewer, services)
                                                                  if alarm else []))


@router.get("/live/alarm", summary="Server-sent events: the caller's critical alarm (what every other page opens)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "events alarm, band, ping, status, revoked, superseded"},
                       503: _ERRORS[503]})
async def live_alarm(request: Request, viewer: Viewer = Depends(caller),
                     services: Services = Depends(services_of)) -> StreamingResponse:
    """Event ``alarm`` as the stream opens and whenever it changes (``dashboard.live.payloads.alarm_data``)."""
    centre = services.centre
    return _stream(request, viewer, services, "alarm", _page_sources(centre, viewer, services))


@router.get("/live/assets", summary="Server-sent events: asset positions and status as they change",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": f"events asset, asset_withdraw, {_COMMON}"},
                       **_ERRORS})
async def live_assets(request: Request, after: str | None = None, viewer: Viewer = Depends(caller),
                      services: Services = Depends(services_of)) -> StreamingResponse:
    """Events ``asset``: the asset's map point, for assets released to the caller."""
    centre = services.centre
    (cursor,) = _cursors(request, after, [centre.asset_index.cursor])
    return _stream(request, viewer, services, "assets", [_asset_source(centre, viewer, services, cursor)])
