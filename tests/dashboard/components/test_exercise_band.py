"""The EXERCISE band's refresh sends nothing while what it says is unchanged, and the new notices when it
changed."""
from __future__ import annotations

import pytest

from alerts import i18n
from tests.alerts.actions.test_errors import fresh_catalogues, translated  # noqa: F401  (a fixture)
from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _web


def _refresh(web, shown):
    spec = next(s for s in web.get("/_dash-dependencies").json() if "exercise-band-sig.data" in s["output"])
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in spec["output"].strip(".").split("...")]
    response = web.post("/_dash-update-component", json={
        "output": spec["output"], "outputs": outputs, "inputs": [{**i, "value": 1} for i in spec["inputs"]],
        "state": [{**s, "value": shown} for s in spec["state"]], "changedPropIds": ["exercise-band-live.data"]})
    assert response.status_code in (200, 204), response.text
    return response.json()["response"] if response.status_code == 200 else {}


NOTICES = [{"kind": "running", "id": "ex-2", "name": "LATER", "text": "EXERCISE LATER"},
           {"kind": "stopped", "id": "ex-1", "name": "DRINA", "at": "10:00", "reason": "flood", "names": ["DRINA"],
            "text": "EXERCISE DRINA STOPPED 10:00 UTC - REAL-WORLD STOP: flood"}]


def _said(children) -> str:
    """The text of a notice's children (a string, or spans and strings)."""
    if isinstance(children, str):
        return children
    return "".join(c if isinstance(c, str) else _said(c.children) for c in children)


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

    children, class_name = _content(NOTICES)
    by_class = {c.className: [_said(span.children) for span in c.children] for c in children}
    assert by_class == {"exercise-play": ["EXERCISE LATER"],
                        "exercise-stop": ["EXERCISE DRINA STOPPED 10:00 UTC - REAL-WORLD STOP: flood"]}
    assert _content(NOTICES[:1])[1] == "exercise-band"             # play alone: the normal band


@pytest.mark.usefixtures("fresh_catalogues")
def test_xbd003_a_stop_is_worded_in_the_viewer_language_its_names_and_reason_as_given(tmp_path, monkeypatch):
    from dashboard.components.exercise_band import _content

    translated(tmp_path, monkeypatch, "hr", {
        "EXERCISE %(names)s STOPPED %(at)s UTC - REAL-WORLD STOP: %(reason)s":
            "VJEŽBA %(names)s ZAUSTAVLJENA u %(at)s UTC - STVARNI DOGAĐAJ: %(reason)s",
        "EXERCISE PLAY STOPPED %(at)s UTC - REAL-WORLD STOP: %(reason)s":
            "VJEŽBA ZAUSTAVLJENA u %(at)s UTC - STVARNI DOGAĐAJ: %(reason)s"})
    token = i18n.use("hr")
    try:
        stop = _content([NOTICES[1]])[0][0].children[0]
        unnamed = _content([{**NOTICES[1], "id": "", "name": "", "names": []}])[0][0].children[0]
    finally:
        i18n.reset(token)
    assert _said(stop.children) == "VJEŽBA DRINA ZAUSTAVLJENA u 10:00 UTC - STVARNI DOGAĐAJ: flood"
    content = [part.children for part in stop.children if getattr(part, "data-translate", None) == "no"]
    assert content == ["DRINA", "flood"]
    assert _said(unnamed.children) == "VJEŽBA ZAUSTAVLJENA u 10:00 UTC - STVARNI DOGAĐAJ: flood"
