"""The README keeps its promises: commands, schema fields, API routes, settings and the tree are documented.

Every check iterates the real thing (the parser, the models, the routers the
app mounts, the settings table, the package folders), never a hand-kept list.
"""
from __future__ import annotations

from pathlib import Path

from alerts.core.assets import Asset, AssetStatus, AssetType
from alerts.core.model import Alert, AlertType, Severity
from alerts.core.roles import Role
from dashboard.cli import build_parser
from dashboard.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _routes():
    """(method, path) of every route the app serves under /api/v1 and /live (as documented: ``{id}``)."""
    from dashboard.api import API_PREFIX, ROUTERS
    from dashboard.live.routes import router as live_router

    for router, prefix in [*((r, API_PREFIX) for r in ROUTERS), (live_router, "")]:
        for route in router.routes:
            for method in route.methods:
                yield method, prefix + route.path.replace("{alert_id:path}", "{id}")


def test_doc001_every_cli_command_is_documented():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for name, sub in commands.items():
        actions = getattr(sub, "_subparsers", None)
        if actions is None:
            assert f"crisisdash {name}" in README, name
            continue
        for action in actions._group_actions[0].choices:  # noqa: SLF001
            assert f"crisisdash {name} {action}" in README, (name, action)


def test_doc002_every_schema_field_type_severity_and_role_is_documented():
    for field in [*Alert.model_fields, *Asset.model_fields]:
        assert f"`{field}`" in README, field
    for value in [*AlertType, *Severity, *Role, *AssetType, *AssetStatus]:
        assert f"`{value.value}`" in README, value


def test_doc003_every_route_is_documented_with_its_method():
    routes = sorted(set(_routes()))
    assert len(routes) >= 20
    for method, path in routes:
        assert f"`{method} {path}`" in README, (method, path)


def test_doc004_the_readme_gives_exactly_the_two_setup_commands_and_ci_runs_the_second():
    blocks = README.split("## Set up on a new machine", 1)[1].split("## ", 1)[0].split("```sh")[1:]
    commands = [block.split("```", 1)[0].strip() for block in blocks]
    assert len(commands) == 2
    assert "crisisdash serve --demo" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_doc005_every_setting_is_in_the_readme_table_with_its_variable_flag_and_default():
    for setting in SETTINGS:
        row = next((r for r in README.splitlines() if r.startswith(f"| {setting.name} |")), None)
        assert row is not None and f"`{setting.env}`" in row, setting.env
        assert f"`{setting.default}`" in row, (setting.env, setting.default)
        if setting.flag:
            assert f"`{setting.flag}`" in row, (setting.env, setting.flag)
    for name in ("`checklists/`", "crisis:escalations", "crisis:assets:inbox", "crisis:assets:dead",
                 "crisis:assets:events"):
        assert name in README, name


def test_doc006_the_architecture_section_names_every_package_folder():
    section = README.split("## How it fits together", 1)[1].split("\n## ", 1)[0]
    folders = [p for p in sorted((ROOT / "alerts").iterdir()) if (p / "__init__.py").exists()]
    folders += [p for p in sorted((ROOT / "dashboard").iterdir()) if (p / "__init__.py").exists()]
    assert len(folders) >= 9
    for folder in folders:
        relative = folder.relative_to(ROOT).as_posix()
        named = f"`{relative}/`" in section or f"`{folder.name}/`" in section
        assert named, relative
