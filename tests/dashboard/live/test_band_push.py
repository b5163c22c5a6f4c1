"""Every page's stream says when the EXERCISE band may have changed (``event: band``): as it opens, and within
about a second of an exercise starting or a real-world stop; pages never poll for the band. Live frames are
worded in the viewer's language (one frame per language in the fan-out)."""
from __future__ import annotations

import pytest

from alerts import i18n
from alerts.actions import exercises
from alerts.store.accounts import Accounts
from alerts.store.keys import Keys
from tests.alerts.actions.test_exercise_stop import _msel
from tests.alerts.actions.test_exercises import EXCON
from tests.conftest import add_user, make_alert
from tests.dashboard.live.test_live_push import alarm_stream, stream


@pytest.fixture(scope="module")
def officer(app_server):
    return add_user(app_server.services.settings.redis_url, app_server.prefix, "duty-band", "duty_officer", "RS")


def _band(live) -> str:
    while True:
        event, data = live.next_event()
        if event == "band":
            return data["signature"]


def test_bnd002_the_page_stream_pushes_band_changes_as_they_happen(app_server, officer):
    centre = app_server.services.centre
    with alarm_stream(app_server, officer) as live:
        opened = _band(live)  # as it opens: the page reads its band once (nothing between build and stream)
        drina = exercises.load(centre, EXCON, _msel("RS"), "BANDPUSH")
        exercises.start(centre, EXCON, drina.id)
        started = _band(live)
        assert started != opened
        exercises.stop_all(centre, EXCON, "a real flood")
        assert _band(live) not in (opened, started)


def test_bnd003_live_frames_are_worded_in_the_viewer_language(app_server, officer):
    client = app_server.services.client
    greek = add_user(app_server.services.settings.redis_url, app_server.prefix, "duty-band-el", "duty_officer", "RS")
    Accounts(client, Keys(app_server.prefix)).set_language(greek.name, "el")
    alert = make_alert(title="Worded twice", type="natural_disaster", source="RS", releasable_to=["RS"])
    with stream(app_server, officer) as english, stream(app_server, greek) as hellenic:
        app_server.ingest(alert)
        said_en = english.until(alert["id"], "alert")
        said_el = hellenic.until(alert["id"], "alert")
    assert said_en["type_label"] == "natural disaster"
    assert said_el["type_label"] == i18n.load("el").translations.gettext("natural disaster") != "natural disaster"
    assert said_el["title"] == said_en["title"] == "Worded twice"  # content is never translated


def test_bnd004_an_alert_carrying_the_viewer_language_reaches_its_list_and_alarm_in_it(app_server, officer):
    from tests.dashboard.live.test_live_push import _alarm, alarm_stream

    client = app_server.services.client
    greek = add_user(app_server.services.settings.redis_url, app_server.prefix, "duty-cap-el", "duty_officer", "RS")
    Accounts(client, Keys(app_server.prefix)).set_language(greek.name, "el")
    alert = make_alert(title="Strong earthquake", severity="critical", source="RS", releasable_to=["RS"],
                       language="en-US", translations={"el-GR": {"title": "Ισχυρός σεισμός", "description": ""}})
    with stream(app_server, greek) as hellenic, alarm_stream(app_server, greek) as alarm, \
            stream(app_server, officer) as english:
        _alarm(alarm)  # as it opens
        app_server.ingest(alert)
        assert hellenic.until(alert["id"], "alert")["title"] == "Ισχυρός σεισμός"
        assert english.until(alert["id"], "alert")["title"] == "Strong earthquake"
        ringing = _alarm(alarm)
        while alert["id"] not in [a["id"] for a in ringing["newest"]]:
            ringing = _alarm(alarm)
        assert next(a for a in ringing["newest"] if a["id"] == alert["id"])["title"] == "Ισχυρός σεισμός"
