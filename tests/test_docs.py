"""The README keeps its promises: commands, schema fields, API routes and settings are documented."""
from __future__ import annotations

from pathlib import Path

from alerts.model import Alert, AlertType, Severity
from alerts.roles import Role
from dashboard.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


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


def test_doc002_every_schema_field_type_and_severity_is_documented():
    for field in Alert.model_fields:
        assert f"`{field}`" in README, field
    for value in [*AlertType, *Severity, *Role]:
        assert f"`{value.value}`" in README, value


def test_doc003_every_api_route_is_documented():
    from dashboard.api import live_router, router
    from dashboard.exchange_api import router as exchange_router
    from dashboard.sitrep_api import router as sitrep_router

    for route in [*router.routes, *live_router.routes, *exchange_router.routes, *sitrep_router.routes]:
        path = route.path.replace("{alert_id:path}", "{id}")
        assert f"`GET {path}`" in README, path


def test_doc004_the_readme_gives_exactly_the_two_setup_commands_and_ci_runs_the_second():
    blocks = README.split("## Set up on a new machine", 1)[1].split("## ", 1)[0].split("```sh")[1:]
    commands = [block.split("```", 1)[0].strip() for block in blocks]
    assert len(commands) == 2
    assert "crisisdash serve --demo" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_doc005_every_workflow_route_is_documented():
    from dashboard.workflow_api import router

    for route in router.routes:
        path = route.path.replace("{alert_id:path}", "{id}")
        for method in route.methods:
            assert f"`{method} {path}`" in README, (method, path)
    for setting in ("CRISIS_ESCALATION_MINUTES", "CRISIS_ESCALATION_TICK", "`checklists/`", "crisis:escalations"):
        assert setting in README, setting


def test_doc006_every_asset_route_and_the_asset_schema_are_documented():
    from alerts.assets import Asset, AssetStatus, AssetType
    from dashboard.assets_api import live_router, router

    for route in [*router.routes, *live_router.routes]:
        path = route.path.replace("{alert_id:path}", "{id}")
        for method in route.methods:
            assert f"`{method} {path}`" in README, (method, path)
    for field in Asset.model_fields:
        assert f"`{field}`" in README, field
    for value in [*AssetType, *AssetStatus]:
        assert f"`{value.value}`" in README, value
    for name in ("crisis:assets:inbox", "crisis:assets:dead", "crisis:assets:events"):
        assert name in README, name
