"""The command line, against a real Redis."""
from __future__ import annotations

from alerts.store.assets import AssetStore


def test_ast002_cli_import_writes_records_events_and_audit(redis_url, prefix, client, keys, tmp_path):
    from alerts.store.audit import AuditLog
    from dashboard.cli import main

    path = tmp_path / "oob.csv"
    path.write_text("id,name,nation,type,speed_kmh,lat,lon\nmk-1,One,MK,eod_team,60,42,21.4\n"
                    "mk-2,Two,MK,cbrn_team,60,41.9,21.5\n", encoding="utf-8")
    assert main(["assets", "import", str(path), "--redis-url", redis_url, "--prefix", prefix]) == 0
    store = AssetStore(client, keys)
    assert {a.id for a in store.all()} == {"mk-1", "mk-2"}
    assert client.xlen(keys.assets_events) == 2
    assert AuditLog(client, keys).read(1)[0].action == "asset.import"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,nation,type,speed_kmh,lat,lon\nmk-3,Three,MK,eod_team,-5,42,21.4\n", encoding="utf-8")
    assert main(["assets", "import", str(bad), "--redis-url", redis_url, "--prefix", prefix]) == 2
    assert store.get("mk-3") is None


def test_ast008_cli_import_honours_the_deployments_clock_skew(redis_url, prefix, client, keys, tmp_path, monkeypatch):
    """``CRISIS_MAX_CLOCK_SKEW`` applies to imported reports as to live ones (the import used the default)."""
    from datetime import UTC, datetime, timedelta

    from dashboard.cli import main

    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    path = tmp_path / "ahead.csv"
    path.write_text(f"id,name,nation,type,speed_kmh,lat,lon,updated_at\nmk-9,Nine,MK,eod_team,60,42,21.4,{ahead}\n",
                    encoding="utf-8")
    monkeypatch.setenv("CRISIS_MAX_CLOCK_SKEW", "60")
    assert main(["assets", "import", str(path), "--redis-url", redis_url, "--prefix", prefix]) == 2
    monkeypatch.setenv("CRISIS_MAX_CLOCK_SKEW", "900")
    assert main(["assets", "import", str(path), "--redis-url", redis_url, "--prefix", prefix]) == 0
    assert AssetStore(client, keys).get("mk-9").updated_at <= datetime.now(UTC)  # clamped to the centre's clock


def _parsers(parser):
    """Every parser and sub-parser of the command line, with its command path."""
    import argparse

    stack = [("crisisdash", parser)]
    while stack:
        path, current = stack.pop()
        yield path, current
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend((f"{path} {name}", sub) for name, sub in action.choices.items())


def test_cli001_every_argument_of_every_command_is_described_in_help():
    """A newcomer reads ``--help``: no option or positional argument may be left undescribed."""
    import argparse

    from dashboard.cli import build_parser

    bare = [f"{path}: {action.option_strings or action.dest}"
            for path, parser in _parsers(build_parser())
            for action in parser._actions
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help]
    assert bare == []
    publish = dict(_parsers(build_parser()))["crisisdash publish"].format_help()
    assert "- reads standard input" in publish
