"""The deployment example (docs/deploy) uses only commands, flags and settings that exist, and is the
topology its README describes: three web processes, two ingest workers, a primary, a replica, three
sentinels, nginx in front."""
from __future__ import annotations

import configparser
import re
import shlex

import pytest
import yaml

from alerts.store.client import sentinel_parts
from dashboard.cli import build_parser
from dashboard.settings import SETTINGS, Settings
from tests.conftest import ROOT

DEPLOY = ROOT / "docs" / "deploy"
ENVS = {s.env for s in SETTINGS if s.env}


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]


def _parses(argv: list[str]) -> object:
    """The CLI's own parser accepts ``argv`` (a flag it lacks exits: the test fails naming it)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"crisisdash does not accept: {' '.join(argv)}")


def _settings(env: dict[str, str]) -> Settings:
    unknown = set(env) - ENVS
    assert not unknown, f"not settings of the app: {unknown}"
    return Settings.from_env(env)  # raises for a value the app would refuse at start


def _sentinel_monitor() -> tuple[str, str, int]:
    """The (name, host, quorum) of ``sentinel monitor`` in sentinel.conf."""
    line = next(ln for ln in (DEPLOY / "sentinel.conf").read_text().splitlines() if ln.startswith("sentinel monitor"))
    _, _, name, host, _port, quorum = line.split()
    return name, host, int(quorum)


def test_dep001_the_compose_example_is_the_described_topology_with_commands_and_settings_that_exist():
    services = _compose()
    app = {n: s for n, s in services.items() if s.get("command", [""])[0] == "crisisdash"}
    serve = {n: s for n, s in app.items() if s["command"][1] == "serve"}
    ingest = {n: s for n, s in app.items() if s["command"][1] == "ingest"}
    assert len(serve) == 3 and len(ingest) == 2 and len(app) == 5
    for name, service in app.items():
        args = _parses(service["command"][1:])
        if name in serve:
            assert args.no_ingest and args.host == "0.0.0.0", name  # the workers ingest, not the web processes
        env = {k: str(v) for k, v in service["environment"].items()}
        settings = _settings(env)
        parts = sentinel_parts(settings.redis_url)
        monitored, primary, quorum = _sentinel_monitor()
        assert parts.master == monitored and primary == "valkey-primary" and quorum == 2
        assert {host for host, _ in parts.sentinels} == {n for n in services if n.startswith("sentinel-")}
        assert settings.wait_replicas == 1
        assert settings.trusted_proxy_list == [f"{services['proxy']['networks']['default']['ipv4_address']}/32"]
    assert len({s["environment"]["CRISIS_CONSUMER"] for s in ingest.values()}) == 2  # one consumer name each
    assert services["valkey-replica"]["command"][services["valkey-replica"]["command"].index("--replicaof") + 1] \
        == "valkey-primary"
    assert len([n for n in services if n.startswith("sentinel-")]) == 3
    upstream = re.findall(r"server (app-\d):(\d+)", (DEPLOY / "nginx.conf").read_text())
    assert sorted(upstream) == sorted((n, s["command"][s["command"].index("--port") + 1]) for n, s in serve.items())


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keys keep their case
    unit.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return unit


def test_dep002_the_systemd_units_run_commands_that_exist_with_the_shared_settings():
    env = dict(line.split("=", 1) for line in (DEPLOY / "systemd" / "env").read_text().splitlines()
               if line and not line.startswith("#"))
    settings = _settings(env)
    assert sentinel_parts(settings.redis_url).master == _sentinel_monitor()[0] and settings.wait_replicas == 1
    for name, instance, command in (("crisisdash-serve@.service", "8051", "serve"),
                                    ("crisisdash-ingest@.service", "1", "ingest")):
        unit = _unit(name)
        assert unit["Service"]["EnvironmentFile"] == "/etc/crisisdash/env"
        program, *argv = shlex.split(unit["Service"]["ExecStart"].replace("%i", instance))
        assert program.endswith("/crisisdash") and argv[0] == command
        args = _parses(argv)
        if command == "serve":
            assert args.no_ingest and args.port == int(instance)
        assert unit["Service"]["KillSignal"] == "SIGTERM" and unit["Service"]["Restart"] == "on-failure"
    consumer = _unit("crisisdash-ingest@.service")["Service"]["Environment"]
    assert consumer.startswith("CRISIS_CONSUMER=") and "%i" in consumer  # one consumer name per instance
