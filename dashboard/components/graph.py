"""Every chart and map of the pages, with one configuration: no Plotly logo or link out (the dashboard runs
air-gapped, and a link to plotly.com is a way out of it), no "edit in Chart Studio", and Plotly's own words
in the page's language (``dashboard.components.plotly_locale``)."""
from __future__ import annotations

from dash import dcc

from dashboard.components.plotly_locale import locale_config

#: The Plotly.js config of every graph (https://plotly.com/javascript/configuration-options/).
GRAPH_CONFIG = {"displaylogo": False, "showLink": False, "showSendToCloud": False, "showEditInChartStudio": False}


def graph(id: str, *, config: dict | None = None, **props) -> dcc.Graph:
    """A ``dcc.Graph`` with ``GRAPH_CONFIG``, the request's language (``locale``, ``locales``) and ``config``
    (e.g. ``{"scrollZoom": True}``), and ``props``. Call it while a page is drawn (inside the request)."""
    return dcc.Graph(id=id, config=GRAPH_CONFIG | locale_config() | (config or {}), **props)
