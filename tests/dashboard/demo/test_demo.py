"""The live demo's scenario goes through the real pipeline: marked alerts routed, one emergency unrouted."""
from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from dashboard.demo.alerts import MARKINGS, SCENARIO, scenario_payloads
from tests.conftest import alert_pipeline


def test_dem001_every_scenario_message_is_accepted_and_routed_as_designed(client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions)
    result = pipeline.process([("demo", raw) for _, raw in scenario_payloads(7, datetime.now(UTC))])
    assert not result.dead and len(result.accepted) == len(SCENARIO) + 1
    routed = {s.alert.id: s.routing for s in result.accepted}
    unrouted = [i for i, r in routed.items() if not r.routed]
    assert unrouted == ["ANDROID-demo7-9-1-1"]  # the TAK emergency nobody registered: for the admins to release
    assert all(s.alert.exercise for s in result.accepted)
    for offset, markings in MARKINGS.items():
        routing = routed[f"demo-7-{offset:03d}"]
        assert routing.classification == markings["classification"] and routing.tlp.value == markings["tlp"]


def test_dem002_the_demo_exercise_loads_the_sample_msel_starts_and_is_not_loaded_twice(centre, client, keys):
    """The sample MSEL in docs/msel/ (earthquake plus cross-border chlorine release) is valid, is started by
    the demo, and a second demo start keeps the exercise in play."""
    from alerts.core.exercises import ExerciseState
    from alerts.store.exercises import ExerciseStore
    from dashboard.demo.exercise import EXCON, NAME, start_demo_exercise

    services = SimpleNamespace(centre=centre)  # what start_demo_exercise reads of the services
    centre.exercises = ExerciseStore(client, keys)
    first = start_demo_exercise(services)
    again = start_demo_exercise(services)
    played = centre.exercises.all()
    assert len(played) == 1 and played[0].name == NAME and played[0].state is ExerciseState.RUNNING
    assert set(played[0].nations) == {"RS", "BA", "HR", "ME"} and len(played[0].injects) == 15
    assert any(i.backup_for for i in played[0].injects) and played[0].id in first and played[0].id in again
    assert EXCON.role == "exercise_control"


def test_dem003_the_scenario_plays_once_per_start_and_again_on_demand(client, keys, redis_url, prefix):
    """Field report: the demo replayed its scenario in a loop, adding critical alerts for ever."""
    import subprocess
    import sys
    import threading

    from dashboard.demo.alerts import run_demo
    from tests.conftest import ROOT, wait_for

    stop = threading.Event()
    thread = threading.Thread(target=run_demo, args=(client, keys, stop, 11), kwargs={"wait": lambda s: stop.is_set()})
    thread.start()
    once = len(SCENARIO) + 1
    wait_for(lambda: client.xlen(keys.inbox) >= once, what="the scenario played")
    assert thread.is_alive()  # played, and now idle until stopped (not playing again at once)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and client.xlen(keys.inbox) == once

    done = subprocess.run([sys.executable, "-m", "dashboard.cli", "demo", "play", "--at-once", "--redis-url",
                           redis_url, "--prefix", prefix], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert client.xlen(keys.inbox) == 2 * once
    assert done.stdout.count("sent: ") == once and "Chlorine leak at rail yard" in done.stdout


def test_dem004_the_demo_users_are_printed_with_what_each_sees(centre, client, keys):
    from alerts.store.accounts import Accounts
    from dashboard.demo.users import DEMO_USERS, create_demo_users
    from dashboard.settings import Settings

    # what create_demo_users reads of the services
    services = SimpleNamespace(centre=centre, settings=Settings(), accounts=Accounts(client, keys, Settings().scheme))
    printed = create_demo_users(services)
    for name, role, nation, clearance, _ in DEMO_USERS:
        line = next(line for line in printed.splitlines() if line.strip().startswith(name + " "))
        assert role in line and f"{nation}, up to {clearance}" in line
        assert services.accounts.get_user(name).nation == nation


def test_dem005_the_start_up_banner_names_the_scheme_the_server_speaks(redis_url, prefix):
    """``serve --demo`` prints where to open the dashboard: https:// when it serves TLS (--certfile/--keyfile),
    http:// otherwise; an IPv6 listen address in brackets."""
    from pathlib import Path

    from dashboard.demo.users import create_demo_users
    from dashboard.services import build_services
    from dashboard.settings import Settings

    tls = {"tls_certfile": Path("cert.pem"), "tls_keyfile": Path("key.pem")}
    for extra, expected in (({"port": 8443, **tls}, "Open https://127.0.0.1:8443/ and sign in."),
                            ({"port": 8050}, "Open http://127.0.0.1:8050/ and sign in."),
                            ({"host": "::1", "port": 8050}, "Open http://[::1]:8050/ and sign in.")):
        services = build_services(Settings(redis_url=redis_url, prefix=prefix, **extra))
        try:
            assert create_demo_users(services).splitlines()[-1] == expected
        finally:
            services.close()
