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
