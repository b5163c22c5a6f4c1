"""The audit page is marked with the most restrictive marking of the alerts its entries name."""
from __future__ import annotations

import json

from alerts.actions import workflow
from alerts.core.viewer import Viewer
from dashboard.auth.context import RequestContext, enter, leave
from tests.conftest import make_alert, wait_for


def _marking(layout) -> dict:
    found = []

    def walk(node):
        if getattr(node, "id", None) == "audit-marking":
            found.append(json.loads(getattr(node, "data-marking")))
        for child in getattr(node, "children", None) or []:
            if hasattr(child, "children") or hasattr(child, "id"):
                walk(child)

    walk(layout)
    return found[0]


def test_adp001_the_audit_page_carries_the_marking_of_the_alerts_it_quotes(app_server):
    import dashboard.pages.audit as page

    services = app_server.services
    secret = make_alert(source="RS", releasable_to=["RS"], classification="SECRET", tlp="RED")
    app_server.ingest(secret)
    wait_for(lambda: services.centre.index.get(secret["id"]) is not None, what="the alert in the read model")
    officer = Viewer("adp-duty", "duty_officer", "RS", via="session", clearance="SECRET")
    workflow.acknowledge(services.centre, officer, secret["id"], via="test")
    auditor = Viewer("adp-auditor", "auditor", "AL", via="session", clearance="UNCLASSIFIED")
    token = enter(RequestContext(services, auditor))
    try:
        marking = _marking(page.layout())
    finally:
        leave(token)
    assert marking["classification"] == "SECRET" and marking["tlp"] == "RED"
