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
FILTER_PANEL = "filter-panel"
# every page: the EXERCISE band
EXERCISE_BAND = "exercise-band"
EXERCISE_BAND_TICK = "exercise-band-tick"
EXERCISE_BAND_SIG = "exercise-band-sig"
# the response queue page
CRITICAL_BANNER = "critical-banner"
MUTE_SOUND = "mute-sound"
# every page
SIGN_OUT = "sign-out"
CONTRACT = "crisis-contract"  # the one id the scripts know by name

#: How many alerts the latest-alerts list shows.
LIST_LIMIT = 50


def page_contract() -> dict:
    """What the browser scripts need to know: component ids, trace indices, what a click may pick and in which
    order (``hits``, ``layers.traces.hit_layers``), the opening view's extent (``regionBounds``: west, south,
    east, north), list length, the prefix of an asset's id on the map (``assetPrefix``)."""
    return {
        "ids": {"map": INCIDENT_MAP, "list": ALERT_LIST, "count": SHOWN_COUNT, "status": LIVE_STATUS,
                "selected": SELECTED_ALERT, "details": ALERT_DETAILS, "signOut": SIGN_OUT,
                "criticalBanner": CRITICAL_BANNER,
                "mute": MUTE_SOUND, "watchdog": WATCHDOG,
                "feedList": FEED_LIST, "newPill": NEW_PILL, "sheet": DETAIL_SHEET, "sheetClose": DETAIL_CLOSE,
                "picker": MAP_PICKER, "filters": FILTER_PANEL},
        "traces": trace_indices(),
        "hits": hit_layers(),
        "regionBounds": list(REGION_BOUNDS),
        "listLimit": LIST_LIMIT,
        "assetPrefix": ASSET_PREFIX,
    }


def contract_element() -> html.Div:
    """A hidden element carrying ``page_contract`` as JSON in ``data-contract``."""
    return html.Div(id=CONTRACT, hidden=True, **{"data-contract": json.dumps(page_contract())})
