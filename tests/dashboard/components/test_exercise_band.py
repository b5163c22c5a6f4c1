"""The EXERCISE band's refresh sends nothing while what it says is unchanged, and the new notices when it
changed."""
from __future__ import annotations

from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _web


def _refresh(web, shown):
    spec = next(s for s in web.get("/_dash-dependencies").json() if "exercise-band-sig.data" in s["output"])
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in spec["output"].strip(".").split("...")]
    response = web.post("/_dash-update-component", json={
        "output": spec["output"], "outputs": outputs, "inputs": [{**i, "value": 1} for i in spec["inputs"]],
        "state": [{**s, "value": shown} for s in spec["state"]], "changedPropIds": ["exercise-band-tick.n_intervals"]})
    assert response.status_code in (200, 204), response.text
    return response.json()["response"] if response.status_code == 200 else {}


def test_xbd001_the_band_is_sent_only_when_it_changes(app_server):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "xbd-duty", "duty_officer", "RS")
    web = _web(app_server, user)
    first = _refresh(web, None)
    shown = first["exercise-band-sig"]["data"]
    assert "hidden" in first["exercise-band"]["className"]
    assert _refresh(web, shown) == {}
    web.close()


def test_xbd002_a_stop_is_its_own_notice_and_later_play_keeps_the_normal_band():
    from dashboard.components.exercise_band import _content

    notices = [{"kind": "running", "id": "ex-2", "name": "LATER", "text": "EXERCISE LATER"},
               {"kind": "stopped", "id": "ex-1", "name": "DRINA",
                "text": "EXERCISE DRINA STOPPED 10:00 UTC - REAL-WORLD STOP: flood"}]
    children, class_name = _content(notices)
    by_class = {c.className: [span.children for span in c.children] for c in children}
    assert by_class == {"exercise-play": ["EXERCISE LATER"],
                        "exercise-stop": ["EXERCISE DRINA STOPPED 10:00 UTC - REAL-WORLD STOP: flood"]}
    assert _content(notices[:1])[1] == "exercise-band"             # play alone: the normal band
