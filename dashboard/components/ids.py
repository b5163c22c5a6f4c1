"""Component ids shared beyond one page module, and the page contract the browser scripts read.

Every id the browser scripts touch, and every id of the live map, is named
here; the scripts in ``assets/`` read the ids (and the map's trace indices,
``layers.traces``) from the contract element the frame renders
(``contract_element``), so no id or trace index is spelled in two languages.
Ids used only inside one page module stay there.
"""
from __future__ import annotations

import json

from dash import html

from alerts import i18n
from layers.assets import ASSET_PREFIX
from layers.basemap import REGION_BOUNDS
from layers.traces import hit_layers, trace_indices

# the live map page
INCIDENT_MAP = "incident-map"
ALERT_LIST = "alert-list"
SHOWN_COUNT = "shown-count"
LIVE_STATUS = "live-status"
LIVE_SOURCE = "live-source"
LIVE_CONNECTION = "live-connection"
SELECTED_ALERT = "selected-alert"
ALERT_DETAILS = "alert-details"
ASSET_SUGGESTIONS = "asset-suggestions"
WATCHDOG = "watchdog"
FILTER_SEVERITY = "filter-severity"
FILTER_TYPE = "filter-type"
FILTER_COUNTRY = "filter-country"
FILTER_WINDOW = "filter-window"
FILTER_EXERCISE = "filter-exercise"
LAYER_TOGGLES = "layer-toggles"
COVERAGE_CAPABILITY = "coverage-capability"
COVERAGE_MINUTES = "coverage-minutes"
COVERAGE_GAPS = "coverage-gaps"
FEED_LIST = "feed-list"  # the list and its "N new" pill: the list holds still while the pointer or focus is in it
NEW_PILL = "new-alerts-pill"
DETAIL_SHEET = "detail-sheet"  # the selected alert's (or asset's) details: side sheet / bottom sheet
DETAIL_CLOSE = "detail-close"
MAP_PICKER = "map-picker"  # what is under the pointer, when several features are there
MAP_VIEW = "map-view"  # what the live map shows (zoom, centre, bounds), for the build (layers.cells)
MAP_MOVED = "map-moved"  # the view, set only when the build follows it (spec "partial"): rebuilds the map
FILTER_PANEL = "filter-panel"
# every page: the EXERCISE band
EXERCISE_BAND = "exercise-band"
EXERCISE_BAND_LIVE = "exercise-band-live"  # set by the scripts on each live "band" event
EXERCISE_BAND_SIG = "exercise-band-sig"
# the response queue page
QUEUE_LIVE = "queue-live"  # a store the page's live stream sets (assets/page_live.js): the queue is read again
SELECTED_CASE = "selected-case"
CHECKLIST_PANEL = "checklist-panel"  # the selected alert's checklist: side sheet (desktop) / bottom sheet (phone)
CHECKLIST_CLOSE = "checklist-close"
RESOLVE_DIALOG = "resolve-dialog"  # "resolve with N steps open?" (a modal dialog)
# the situation page
SITUATION_LIVE = "sit-live"  # as QUEUE_LIVE
# every page: the critical alarm (assets/alarm.js), a strip of reserved height under the navigation
CRITICAL_BANNER = "critical-banner"
ALARM_TEXT = "alarm-text"
MUTE_SOUND = "mute-sound"
ALARM_ANNOUNCE = "alarm-announce"  # aria-live="assertive": a new critical alert is announced
SIGN_OUT = "sign-out"
CONTRACT = "crisis-contract"  # the one id the scripts know by name

#: How many alerts the latest-alerts list shows.
LIST_LIMIT = 50
#: The live stream each page opens (``assets/page_live.js``): the map opens its own ``/live/map`` (``live.js``),
#: which carries the alarm too; the queue the alerts and the alarm; the situation page alerts, assets (its
#: ready/committed tile) and the alarm; every other page the alarm alone. ``refresh``: the store a page's live events set (so its callbacks read the page again),
#: at most once per ``ms``.
LIVE_PAGES = {"/": "map", "/queue": "alerts", "/situation": "all"}
LIVE_URLS = {"alerts": "/live/alerts?alarm=true", "all": "/live/map?alarm=true", "alarm": "/live/alarm"}
LIVE_REFRESH = {"/queue": {"store": QUEUE_LIVE, "ms": 200}, "/situation": {"store": SITUATION_LIVE, "ms": 1000}}


def page_contract(ping_ms: int = 15_000) -> dict:
    """What the browser scripts need to know: component ids, trace indices, what a click may pick and in which
    order (``hits``, ``layers.traces.hit_layers``), the page's language and the messages its scripts show
    (``i18n``, ``alerts.i18n.browser_catalogue``), the opening view's extent (``regionBounds``: west, south,
    east, north), list length, the prefix of an asset's id on the map (``assetPrefix``), which live stream each
    page opens and what its events refresh (``live``: ``LIVE_PAGES``, ``LIVE_URLS``, ``LIVE_REFRESH``; ``pingMs``,
    how often the server pings a quiet stream, ``CRISIS_LIVE_PING``, for the scripts' stale watchdog)."""
    return {
        "ids": {"map": INCIDENT_MAP, "list": ALERT_LIST, "count": SHOWN_COUNT, "status": LIVE_STATUS,
                "selected": SELECTED_ALERT, "details": ALERT_DETAILS, "signOut": SIGN_OUT,
                "criticalBanner": CRITICAL_BANNER, "alarmText": ALARM_TEXT, "alarmAnnounce": ALARM_ANNOUNCE,
                "mute": MUTE_SOUND, "watchdog": WATCHDOG, "selectedCase": SELECTED_CASE,
                "checklistPanel": CHECKLIST_PANEL, "checklistClose": CHECKLIST_CLOSE, "resolveDialog": RESOLVE_DIALOG,
                "feedList": FEED_LIST, "newPill": NEW_PILL, "sheet": DETAIL_SHEET, "sheetClose": DETAIL_CLOSE,
                "picker": MAP_PICKER, "filters": FILTER_PANEL, "bandLive": EXERCISE_BAND_LIVE},
        "traces": trace_indices(),
        "hits": hit_layers(),
        "regionBounds": list(REGION_BOUNDS),
        "listLimit": LIST_LIMIT,
        "assetPrefix": ASSET_PREFIX,
        "live": {"pages": LIVE_PAGES, "urls": LIVE_URLS, "refresh": LIVE_REFRESH, "pingMs": ping_ms},
        "i18n": i18n.browser_catalogue(),
    }


def contract_element(ping_ms: int = 15_000) -> html.Div:
    """A hidden element carrying ``page_contract`` as JSON in ``data-contract``."""
    return html.Div(id=CONTRACT, hidden=True, **{"data-contract": json.dumps(page_contract(ping_ms))})
