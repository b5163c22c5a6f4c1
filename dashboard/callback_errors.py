"""What a Dash callback that raises answers: never a bare 500 for input it cannot use.

Any callback can be POSTed directly with any JSON, so a malformed input (a string where a dict was sent,
a list for a click's ``customdata``) must not crash into Dash's generic 500, logged nowhere. ``on_error``
(Dash's app-wide callback error handler) logs the callback and the exception and answers "no update"
(``PreventUpdate``: HTTP 204), so the page keeps what it shows. Two kinds still propagate: Redis being
unreachable (the degraded-mode middleware answers 503 with its reason, ``dashboard.degraded``) and a
missing caller (``PermissionError``: the auth middleware's business).
"""
from __future__ import annotations

import logging

import dash
from dash.exceptions import PreventUpdate

from alerts.store.client import UNAVAILABLE

log = logging.getLogger(__name__)


def on_error(error: Exception) -> None:
    """Dash ``on_error``: re-raise what other layers answer; log anything else and leave the outputs."""
    if isinstance(error, (*UNAVAILABLE, PermissionError)):
        raise error
    outputs = getattr(dash.ctx, "outputs_list", None)
    log.warning("callback %s refused its input (%s: %s); nothing updated", outputs, type(error).__name__, error,
                exc_info=error)
    raise PreventUpdate
