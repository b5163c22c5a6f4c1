"""The design rules that keep the code easy to see, checked by reading the imports."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The domain core: no Dash, no Redis, no web framework.
CORE = ["model", "decode", "xmlsafe", "xml_formats", "cap", "cot", "geography", "events", "query", "index",
        "summary", "roles", "checklists", "escalation", "lifecycle"]
CORE += ["assets", "coverage"]  # response assets (issue 5)
CORE += ["cot_out", "geojson", "situation", "sitrep"]  # standard formats out, situation picture


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_arc001_the_domain_core_imports_neither_dash_nor_redis():
    for name in CORE:
        imported = _imports(ROOT / "alerts" / f"{name}.py")
        assert not imported & {"dash", "redis", "fastapi", "starlette", "plotly", "dashboard", "layers"}, name


def test_arc002_dependencies_point_inward():
    for path in (ROOT / "alerts").glob("*.py"):
        assert not _imports(path) & {"dashboard", "layers", "dash"}, path.name
    for path in (ROOT / "layers").glob("*.py"):
        assert not _imports(path) & {"dashboard", "redis", "dash"}, path.name


def test_arc003_redis_key_names_are_spelled_only_in_keys_py():
    for path in list((ROOT / "alerts").glob("*.py")) + list((ROOT / "dashboard").rglob("*.py")):
        if path.name == "keys.py":
            continue
        text = path.read_text(encoding="utf-8")
        for fragment in ('":alerts', ":alert:", ":events\"", ":audit\"", ":inbox\"", 'f"{self.prefix}'):
            assert fragment not in text, (path.name, fragment)
