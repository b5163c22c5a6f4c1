"""The response queue lists the most urgent open alerts up to its limit, and says how many there are in all."""
from __future__ import annotations

from alerts.actions import workflow
from alerts.core.viewer import Viewer
from tests.conftest import alert_pipeline, make_alert, payload

DUTY_RS = Viewer("duty-rs", "duty_officer", "RS", via="session", clearance="UNCLASSIFIED")


def test_wfl001_the_queue_lists_its_limit_and_counts_every_open_alert_the_viewer_may_see(centre, client, keys,
                                                                                          regions):
    alerts = [make_alert(source="RS", releasable_to=["RS"], severity="critical" if i < 3 else "low")
              for i in range(12)] + [make_alert(source="MK", releasable_to=["MK"])]  # not for RS
    alert_pipeline(client, keys, regions).process([("test", payload(a)) for a in alerts])
    centre.index.load(list(centre.alerts.all_alerts()), "0-0")
    listed = workflow.open_queue(centre, DUTY_RS, limit=5)
    assert len(listed) == 5 and workflow.open_count(centre, DUTY_RS) == 12
    assert {e.stored.alert.severity.value for e in listed[:3]} == {"critical"}  # most urgent first
