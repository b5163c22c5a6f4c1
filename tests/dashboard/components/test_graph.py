"""Every graph of the pages is built by ``dashboard.components.graph``: no Plotly logo, no link out."""
from __future__ import annotations

import ast
from pathlib import Path

from dashboard.components.graph import GRAPH_CONFIG, graph

DASHBOARD = Path(__file__).resolve().parents[3] / "dashboard"


def test_gra001_every_graph_has_the_one_config_without_logo_or_link_out():
    built = graph("g", config={"scrollZoom": True})
    assert built.config["displaylogo"] is False and built.config["showLink"] is False
    assert built.config["scrollZoom"] is True and GRAPH_CONFIG.items() <= built.config.items()
    direct = []
    for path in DASHBOARD.rglob("*.py"):
        if path.name == "graph.py" and path.parent.name == "components":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Graph":
                direct.append(f"{path.relative_to(DASHBOARD)}:{node.lineno}")
    assert direct == [], "build graphs with dashboard.components.graph.graph"


def test_gra002_plotly_speaks_the_request_language_from_our_catalogues_and_cldr():
    from alerts import i18n
    from dashboard.components.plotly_locale import MESSAGES

    assert "locale" not in graph("g").config  # English: plotly.js's own
    token = i18n.use("el")
    try:
        config = graph("g").config
    finally:
        i18n.reset(token)
    assert config["locale"] == "el" and set(config["locales"]["el"]["dictionary"]) == set(MESSAGES)
    assert config["locales"]["el"]["dictionary"]["Zoom in"] == i18n.load("el").translations.gettext("Zoom in")
    formats = config["locales"]["el"]["format"]
    assert formats["months"][0] == "Ιανουάριος" and formats["days"][0] == "Κυριακή"  # CLDR, Sunday first
    assert formats["decimal"] == "," and len(formats["shortMonths"]) == 12
