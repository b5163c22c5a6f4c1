"""The response workflow through the HTTP API, against a running server on real Redis."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import redis

from alerts.store.audit import AuditLog
from alerts.core.checklists import Templates
from alerts.store.keys import Keys
from alerts.core.model import Severity, StoredAlert
from alerts.store.producer import send_to_stream
from tests.conftest import ROOT, add_user, make_alert, payload, wait_for

WORKFLOW_ACTIONS = ("alert.acknowledge", "checklist.step_done", "alert.resolve")


def _post(server, path: str, user, json=None) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1{path}", headers=user.headers, json=json, timeout=20)


def _ingest(server, alert: dict, user) -> dict:
    client = redis.Redis.from_url(server.redis_url)
    send_to_stream(client, Keys(server.prefix), [payload(alert)])
    path = f"/alerts/{quote(alert['id'], safe='')}"
    return wait_for(lambda: server.api(path, user).status_code == 200 and server.api(path, user).json(),
                    what="the alert to reach the API")


@pytest.fixture(scope="module")
def crew(server):
    """Twelve users who may acknowledge (duty officers and responders of four nations)."""
    specs = [(f"wf-ack-{i:02d}", "responder" if i % 2 else "duty_officer", ["RS", "GR", "MK", "BG"][i % 4])
             for i in range(12)]
    return [add_user(server.redis_url, server.prefix, name, role, nation) for name, role, nation in specs]


def test_wfl001_the_whole_lifecycle_through_the_api(server, users, crew):
    alert = make_alert(type="terrorism", severity="critical", title="Explosion at bus station",
                       releasable_to=["RS", "GR", "MK", "BG", "HR"])
    duty, responder, leader = users["duty-rs"], users["resp-gr"], users["lead-hr"]
    _ingest(server, alert, duty)
    path = f"/alerts/{quote(alert['id'], safe='')}"

    # The checklist was opened by ingest, with the template's steps for a critical terrorism alert.
    checklist = server.api(f"{path}/checklist", responder).json()
    body = server.api(path, duty).json()
    stored = StoredAlert.model_validate({"alert": {k: v for k, v in body.items() if k not in
                                                   ("placement", "received_at", "status", "position")},
                                         "placement": body["placement"], "received_at": body["received_at"],
                                         "lat": body["position"]["lat"], "lon": body["position"]["lon"]})
    expected = Templates.load(ROOT / "checklists").checklist_for(stored)
    assert [s["title"] for s in checklist["steps"]] == [s.title for s in expected]
    assert [s["due_at"] for s in checklist["steps"]] == [s.due_at.isoformat() for s in expected]
    assert [s["n"] for s in checklist["steps"]] == list(range(1, len(expected) + 1))
    assert any("EOD/CBRN" in s["title"] for s in checklist["steps"])
    assert checklist["status"] == "new" and checklist["acknowledged"] is None
    assert checklist["escalation_level"] == 0

    # Leadership may not acknowledge; steps cannot be worked before an acknowledgment.
    assert _post(server, f"{path}/ack", leader).status_code == 403
    assert _post(server, f"{path}/checklist/1/done", responder).status_code == 409

    # Twelve at once: exactly one wins, the other eleven learn who did.
    barrier = threading.Barrier(len(crew))
    answers: list[httpx.Response] = [None] * len(crew)  # type: ignore[list-item]

    def ack(i: int) -> None:
        barrier.wait()
        answers[i] = _post(server, f"{path}/ack", crew[i])

    threads = [threading.Thread(target=ack, args=(i,)) for i in range(len(crew))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 11, codes
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert winner["by"] in {u.name for u in crew}
    for refused in (a for a in answers if a.status_code == 409):
        assert (refused.json()["by"], refused.json()["at"]) == (winner["by"], winner["at"])
    assert _post(server, f"{path}/ack", duty).json()["by"] == winner["by"]  # and later ones too
    assert server.api(f"{path}/checklist", duty).json()["status"] == "acknowledged"
    wait_for(lambda: server.api(path, duty).json()["status"] == "acknowledged", what="the read model to learn it")

    # Steps, by named users, with notes.
    done = _post(server, f"{path}/checklist/1/done", responder, {"note": "Confirmed by RS police"})
    assert done.status_code == 200, done.text
    assert done.json()["done_by"] == responder.name and done.json()["note"] == "Confirmed by RS police"
    assert _post(server, f"{path}/checklist/1/done", duty).status_code == 409
    assert _post(server, f"{path}/checklist/99/done", duty).status_code == 404
    assert _post(server, f"{path}/checklist/2/done", duty).status_code == 200
    assert _post(server, f"{path}/checklist/2/done", leader).status_code == 403
    checklist = server.api(f"{path}/checklist", duty).json()
    assert checklist["status"] == "in_progress"
    assert [(s["n"], s["done_by"]) for s in checklist["steps"][:3]] == [
        (1, responder.name), (2, duty.name), (3, None)]
    assert checklist["steps"][0]["done_at"] and checklist["steps"][0]["note"] == "Confirmed by RS police"

    # Resolution: duty officers only.
    assert _post(server, f"{path}/resolve", responder).status_code == 403
    resolved = _post(server, f"{path}/resolve", duty, {"note": "Scene cleared"})
    assert resolved.status_code == 200 and resolved.json()["by"] == duty.name
    assert _post(server, f"{path}/resolve", duty).status_code == 409
    wait_for(lambda: server.api(path, duty).json()["status"] == "resolved", what="the read model to learn it")
    assert _post(server, f"{path}/checklist/3/done", duty).status_code == 409

    # Every transition is in the audit trail, in order.
    audit = AuditLog(redis.Redis.from_url(server.redis_url), Keys(server.prefix)).read_all()
    trail = [(e.action, e.actor, e.detail.get("step")) for e in audit
             if e.object == alert["id"] and e.action in WORKFLOW_ACTIONS]
    assert trail == [("alert.acknowledge", winner["by"], None),
                     ("checklist.step_done", responder.name, 1),
                     ("checklist.step_done", duty.name, 2),
                     ("alert.resolve", duty.name, None)]


def test_wfl002_releasability_another_nation_gets_404(server, users):
    alert = make_alert(severity="high", releasable_to=["RS"], source="RS")
    duty = users["duty-rs"]
    _ingest(server, alert, duty)
    path = f"/alerts/{quote(alert['id'], safe='')}"
    outsider = add_user(server.redis_url, server.prefix, "wf-resp-fr", "responder", "FR")
    assert _post(server, f"{path}/ack", outsider).status_code == 404
    assert server.api(f"{path}/checklist", outsider).status_code == 404
    assert _post(server, f"{path}/checklist/1/done", outsider).status_code == 404
    assert _post(server, "/alerts/no-such-alert/ack", duty).status_code == 404
    assert _post(server, f"{path}/ack", duty).status_code == 200  # it was not acknowledged by the outsider


def test_wfl003_a_browser_session_needs_the_csrf_header(server, users):
    import re

    alert = make_alert(severity="low")
    user = users["resp-gr"]
    _ingest(server, alert, user)
    web = httpx.Client(base_url=server.url, timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    web.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf})
    path = f"/api/v1/alerts/{quote(alert['id'], safe='')}/ack"
    assert web.post(path).status_code == 403
    assert web.post(path, headers={"X-CSRFToken": web.cookies["_csrf_token"]}).status_code == 200


def test_wfl004_a_broken_template_stops_start_up_with_a_clear_message(tmp_path: Path):
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "checklists"
    shutil.copytree(ROOT / "checklists", folder)
    (folder / "cyber.toml").write_text('[[steps]]\ntitle = "Call the CSIRT"\nrole = "chief"\ndue_minutes = 5\n')
    from alerts.core.checklists import TemplateError

    with pytest.raises(TemplateError, match=r"checklists/cyber.toml: steps\[0\]\.role"):
        Templates.load(folder)
    (folder / "cyber.toml").unlink()
    with pytest.raises(TemplateError, match="no checklist template for: cyber"):
        Templates.load(folder)
    code = ("import sys; from pathlib import Path; from dashboard.settings import Settings;"
            "from dashboard.runtime import serve;"
            f"serve(Settings(redis_url='redis://127.0.0.1:1/0', checklists_dir=Path({str(folder)!r})))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode != 0
    assert "bad checklist template" in run.stderr and "no checklist template for: cyber" in run.stderr
    assert "Traceback" not in run.stderr


def test_wfl005_severity_decides_the_extra_steps():
    templates = Templates.load(ROOT / "checklists")
    from alerts.core.model import AlertType

    for alert_type in AlertType:
        template = templates.template(alert_type)
        critical = template.steps_for(Severity.CRITICAL)
        low = template.steps_for(Severity.LOW)
        assert len(critical) > len(low) >= 2, alert_type
        assert [s.due_minutes for s in critical] == sorted(s.due_minutes for s in critical)


def test_wfl006_the_server_runs_the_escalation_monitor(redis_url, monkeypatch):
    """``crisisdash serve`` escalates on its own (deadlines shortened through the settings)."""
    from tests.conftest import start_server, stop_server

    monkeypatch.setenv("CRISIS_ESCALATION_MINUTES", "critical=0.02")  # 1.2 s
    monkeypatch.setenv("CRISIS_ESCALATION_TICK", "0.3")
    prefix = f"test-esc-{uuid.uuid4().hex[:12]}"
    running = start_server(redis_url, prefix)
    try:
        user = add_user(redis_url, prefix, "esc-duty", "duty_officer", "MK")
        alert = make_alert(severity="critical")
        _ingest(running, alert, user)
        path = f"/alerts/{quote(alert['id'], safe='')}/checklist"
        checklist = wait_for(lambda: (c := running.api(path, user).json())["escalation_level"] == 2 and c,
                             what="the alert to reach escalation level 2")
        assert checklist["escalation"]["reason"] == "not acknowledged within 0.02 min"
        assert _post(running, path.replace("/checklist", "/ack"), user).status_code == 200
    finally:
        stop_server(running)
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
