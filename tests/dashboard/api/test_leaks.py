"""Leak classes of issue 12, each a named test against ``create_app`` on a real Redis (in process).

- The audit trail, over the API and the page: an admin reads nothing about an
  alert not released to it, however the entry names it; the auditor reads all.
- ``/api/v1/health``: anonymous callers learn up/down only; an admin's alert
  count is over what it may see.
- Assets: an asset released to MK but tasked to an RS-only alert never reveals
  that alert's id to MK, on any read path (each test also checks that RS, who
  may see the alert, is shown it: the path does carry the id when allowed).
"""
from __future__ import annotations

import ast
import json
import re
from urllib.parse import quote

import httpx
import pytest

from alerts.core.assets import AssetStatus
from dashboard.components import ids
from layers.traces import ASSET_DOT
from tests.conftest import ROOT, add_user, make_alert, make_asset, payload, wait_for

# --- shared set-up ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    specs = [("lk-duty-rs", "duty_officer", "RS"), ("lk-duty-mk", "duty_officer", "MK"),
             ("lk-admin-rs", "admin", "RS"), ("lk-admin-mk", "admin", "MK"), ("lk-auditor", "auditor", "GR")]
    return {name: add_user(url, prefix, name, role, nation) for name, role, nation in specs}


def _post(app_server, path: str, user, body: dict | None = None) -> httpx.Response:
    return httpx.post(f"{app_server.url}/api/v1{path}", json=body, headers=user.headers, timeout=10)


def _loaded(app_server, *alert_ids: str) -> bool:
    return all(app_server.services.centre.index.get(i) is not None for i in alert_ids)


def _web(app_server, user) -> httpx.Client:
    """A signed-in browser session (cookie and CSRF token), to post Dash callbacks directly."""
    web = httpx.Client(base_url=app_server.url, timeout=20)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    web.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf})
    web.headers["X-CSRFToken"] = web.cookies["_csrf_token"]
    return web


def _callback(web: httpx.Client, output_id: str, values: dict[str, object], changed: str) -> dict:
    """Post the callback whose outputs include ``output_id`` as the renderer would; its ``response``."""
    spec = next(s for s in web.get("/_dash-dependencies").json() if f"{output_id}." in s["output"])
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1)))
               for o in spec["output"].strip(".").split("...")]
    value = lambda item: {**item, "value": values.get(f"{item['id']}.{item['property']}")}  # noqa: E731
    body = {"output": spec["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [value(i) for i in spec["inputs"]], "state": [value(s) for s in spec["state"]],
            "changedPropIds": [changed]}
    response = web.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    return response.json()["response"]


# --- 1. the audit trail --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worked(app_server, people):
    """RS's duty officer works an RS-only alert (one with an id that needs URL-encoding, too) over the API;
    MK's works a shared one; the system escalates the RS one."""
    from alerts.core.events import Escalated

    secret = make_alert(source="RS", releasable_to=["RS"], severity="low")
    odd = make_alert(id=f"lk odd/{secret['id'][-6:]}?#é", source="RS", releasable_to=["RS"], severity="low")
    shared = make_alert(source="RS", releasable_to=["ALL"], severity="low")
    app_server.ingest(secret, odd, shared)
    wait_for(lambda: _loaded(app_server, secret["id"], odd["id"], shared["id"]), what="the alerts in the read model")
    rs, mk = people["lk-duty-rs"], people["lk-duty-mk"]
    for alert in (secret, odd):
        path = f"/alerts/{quote(alert['id'], safe='')}"
        assert _post(app_server, f"{path}/ack", rs).status_code == 200
        assert _post(app_server, f"{path}/checklist/1/done", rs, {"note": f"note on {alert['id']}"}).status_code == 200
        assert app_server.api(f"{path}/checklist", rs).status_code == 200
    assert app_server.api(f"/alerts/{quote(secret['id'], safe='')}", mk).status_code == 404  # a probe by MK
    assert _post(app_server, f"/alerts/{quote(shared['id'], safe='')}/ack", mk).status_code == 200
    app_server.services.centre.audit.record("system", Escalated(secret["id"], level=1, reason="test"))
    return secret, odd, shared


def _spellings(alert_id: str) -> list[str]:
    """Every way a response could carry an alert id."""
    return list(dict.fromkeys([alert_id, quote(alert_id, safe=""), quote(alert_id), json.dumps(alert_id)[1:-1]]))


def _carries(text: str, alert_id: str) -> bool:
    return any(s in text for s in _spellings(alert_id))


def test_lk001_the_audit_api_shows_an_admin_nothing_about_an_alert_not_released_to_it(app_server, people, worked):
    secret, odd, shared = worked
    mk = app_server.api("/audit", people["lk-admin-mk"], limit=5000)
    assert mk.status_code == 200
    assert not _carries(mk.text, secret["id"]) and not _carries(mk.text, odd["id"])
    mine = {(e["action"], e["object"]) for e in mk.json()["items"]}
    assert ("alert.acknowledge", shared["id"]) in mine  # its own officer's work on the shared alert
    rs = app_server.api("/audit", people["lk-admin-rs"], limit=5000).json()["items"]
    by_rs = {(e["action"], e["object"]) for e in rs}
    for alert in (secret, odd):
        assert {("alert.acknowledge", alert["id"]), ("checklist.step_done", alert["id"])} <= by_rs
    assert ("alert.escalate", secret["id"]) in by_rs
    # token.use is audited once per token and hour (the RS officer's first call): RS's admin sees it
    assert [e["object"] for e in rs if e["action"] == "token.use" and e["actor"] == "lk-duty-rs"]
    assert not any(e["actor"] == "lk-duty-mk" for e in rs)  # another nation's user
    everything = app_server.api("/audit", people["lk-auditor"], limit=5000)
    assert _carries(everything.text, secret["id"]) and _carries(everything.text, odd["id"])
    assert {"lk-duty-rs", "lk-duty-mk", "system"} <= {e["actor"] for e in everything.json()["items"]}


def test_lk002_audit_paging_returns_full_pages_of_visible_entries(app_server, people, worked):
    admin = people["lk-admin-mk"]
    full = app_server.api("/audit", admin, limit=5000).json()
    assert full["next_before"] is None and len(full["items"]) >= 2  # token use: once per token and hour
    pages, before = [], full["items"][0]["entry_id"]  # reading may add entries (token use): page what was there
    while before is not None:
        page = app_server.api("/audit", admin, limit=1, before=before).json()
        assert len(page["items"]) == 1 or page["next_before"] is None
        pages += page["items"]
        before = page["next_before"]
    assert [e["entry_id"] for e in pages] == [e["entry_id"] for e in full["items"]]
    assert app_server.api("/audit", admin, before="newest").status_code == 422
    assert app_server.api("/audit", people["lk-duty-rs"]).status_code == 403


def test_lk003_the_audit_page_shows_an_admin_nothing_about_an_alert_not_released_to_it(app_server, people, worked):
    from alerts.core.roles import Role
    from alerts.core.viewer import Viewer
    from dashboard.auth.context import RequestContext, enter, leave
    from dashboard.pages import audit

    secret, odd, shared = worked

    def page_as(name: str, role: Role, nation: str) -> str:
        token = enter(RequestContext(app_server.services, Viewer(name, role.value, nation, "session", "UNCLASSIFIED")))
        try:
            return json.dumps(audit.layout().to_plotly_json(), default=lambda c: c.to_plotly_json())
        finally:
            leave(token)

    mk = page_as("lk-admin-mk", Role.ADMIN, "MK")
    assert "audit-table" in mk and _carries(mk, shared["id"])
    assert not _carries(mk, secret["id"]) and not _carries(mk, odd["id"])
    assert _carries(page_as("lk-admin-rs", Role.ADMIN, "RS"), odd["id"])
    assert _carries(page_as("lk-auditor", Role.AUDITOR, "GR"), secret["id"])
    assert "Only administrators and auditors" in page_as("lk-duty-rs", Role.DUTY_OFFICER, "RS")


# --- 2. health -------------------------------------------------------------------------------------------


def test_lk004_anonymous_health_says_up_or_down_and_nothing_that_moves_when_an_alert_arrives(app_server, people):
    from alerts.store.producer import send_to_stream

    services = app_server.services
    client, keys = services.client, services.keys
    health = lambda: httpx.get(f"{app_server.url}/api/v1/health", timeout=5)  # noqa: E731
    client.xgroup_create(keys.inbox, keys.ingest_group, id="$", mkstream=True)  # ingest down: the inbox queues
    try:
        send_to_stream(client, keys, [payload(make_alert(source="RS", releasable_to=["RS"]))])
        before = health()
        send_to_stream(client, keys, [payload(make_alert(source="RS", releasable_to=["RS"]))])
        after = health()
        assert before.json() == after.json() == {"status": "degraded"} and after.status_code == 503
        signed_in = httpx.get(f"{app_server.url}/api/v1/health", headers=people["lk-duty-mk"].headers, timeout=5)
        assert set(signed_in.json()) == {"status", "reasons"} and signed_in.json()["reasons"]
    finally:
        client.delete(keys.inbox)
    assert health().json() == {"status": "ok"}


def test_lk005_an_admins_alert_count_in_health_is_over_what_it_may_see(app_server, people):
    admin = people["lk-admin-mk"]
    loaded = lambda: httpx.get(f"{app_server.url}/api/v1/health", headers=admin.headers,  # noqa: E731
                               timeout=5).json()["alerts_loaded"]
    start = loaded()
    unreleased = make_alert(source="RS", releasable_to=["RS"])
    app_server.ingest(unreleased)
    wait_for(lambda: _loaded(app_server, unreleased["id"]), what="the RS-only alert in the read model")
    assert loaded() == start
    released = make_alert(source="RS", releasable_to=["RS", "MK"])
    app_server.ingest(released)
    wait_for(lambda: _loaded(app_server, released["id"]), what="the released alert in the read model")
    assert loaded() == start + 1
    figures = httpx.get(f"{app_server.url}/api/v1/health", headers=admin.headers, timeout=5).json()
    assert {"redis", "workers", "inboxes", "cursor", "live_clients"} <= set(figures)


# --- 3. assets tasked to an alert the viewer may not see ------------------------------------------------------


@pytest.fixture(scope="module")
def tasked(app_server, people):
    """``lk-helo`` (released to all) tasked by RS to an RS-only alert; ``lk-medic`` ready but still naming it
    (a state only a direct write makes: it shows the suggestions redact too); a shared alert near both."""
    secret = make_alert(type="mass_casualty", location={"lat": 44.82, "lon": 20.46}, source="RS",
                        releasable_to=["RS"])
    shared = make_alert(type="mass_casualty", location={"lat": 44.80, "lon": 20.40}, source="RS",
                        releasable_to=["ALL"])
    app_server.ingest(secret, shared)
    wait_for(lambda: _loaded(app_server, secret["id"], shared["id"]), what="the alerts in the read model")
    centre = app_server.services.centre
    centre.assets.put_many([
        make_asset("lk-helo", 44.81, 20.45, type_="utility_helicopter", nation="HR"),
        make_asset("lk-medic", 44.79, 20.41, type_="medical_team", nation="HR", assigned_to=secret["id"]),
    ])
    wait_for(lambda: centre.asset_index.get("lk-medic", "MK") is not None, what="the assets in the read model")
    assigned = _post(app_server, f"/alerts/{secret['id']}/assign", people["lk-duty-rs"], {"asset_id": "lk-helo"})
    assert assigned.status_code == 200 and assigned.json()["assigned_to"] == secret["id"]
    wait_for(lambda: centre.asset_index.get("lk-helo", "MK").status is AssetStatus.COMMITTED,
             what="the tasking in the read model")
    return secret, shared


def test_lk006_the_asset_list_shows_the_asset_committed_to_nothing_named(app_server, people, tasked):
    secret, _ = tasked
    mk = app_server.api("/assets", people["lk-duty-mk"])
    helo = next(a for a in mk.json()["items"] if a["id"] == "lk-helo")
    assert helo["status"] == "committed" and helo["assigned_to"] is None
    assert not _carries(mk.text, secret["id"])
    rs = app_server.api("/assets", people["lk-duty-rs"]).json()["items"]
    assert next(a for a in rs if a["id"] == "lk-helo")["assigned_to"] == secret["id"]


@pytest.mark.parametrize("path, params", [
    ("/export/assets.geojson", {}), ("/export/alerts.geojson", {}), ("/sitrep", {"format": "geojson"}),
    ("/cot", {}),
], ids=["assets-geojson", "alerts-geojson", "sitrep-geojson", "cot"])
def test_lk007_exports_never_name_the_alert(app_server, people, tasked, path, params):
    secret, _ = tasked
    mk = app_server.api(path, people["lk-duty-mk"], **params)
    assert mk.status_code == 200 and ("lk-helo" in mk.text or path == "/export/alerts.geojson")  # alerts only
    assert not _carries(mk.text, secret["id"])
    assert _carries(app_server.api(path, people["lk-duty-rs"], **params).text, secret["id"])


def _live_asset_frames(app_server, user, until: str) -> list[str]:
    """``/live/assets`` replayed from the start, read until a frame holds ``until``."""
    frames: list[str] = []
    with httpx.stream("GET", f"{app_server.url}/live/assets", params={"after": "0-0"}, headers=user.headers,
                      timeout=httpx.Timeout(10, read=10)) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                frames.append(line[6:])
                if until in line and "committed" in line:
                    return frames
    raise AssertionError(f"no frame with {until!r}")


def test_lk008_the_live_asset_stream_never_names_the_alert(app_server, people, tasked):
    secret, _ = tasked
    mk = _live_asset_frames(app_server, people["lk-duty-mk"], "lk-helo")
    assert not [f for f in mk if _carries(f, secret["id"])]
    assert _carries(_live_asset_frames(app_server, people["lk-duty-rs"], "lk-helo")[-1], secret["id"])


def _map(app_server, user) -> dict:
    values = {f"{ids.FILTER_SEVERITY}.value": ["critical", "high", "medium", "low"], f"{ids.FILTER_WINDOW}.value": 0,
              f"{ids.FILTER_EXERCISE}.value": "all", f"{ids.LAYER_TOGGLES}.value": ["assets"],
              f"{ids.COVERAGE_CAPABILITY}.value": "medevac", f"{ids.COVERAGE_MINUTES}.value": 60}
    return _callback(_web(app_server, user), ids.INCIDENT_MAP, values, f"{ids.FILTER_SEVERITY}.value")


def _hover(response: dict, asset_id: str) -> str:
    dot = response[ids.INCIDENT_MAP]["figure"]["data"][ASSET_DOT]
    return dot["hovertext"][dot["customdata"].index(f"asset:{asset_id}")]


def test_lk009_map_hover_never_names_the_alert(app_server, people, tasked):
    secret, _ = tasked
    mk = _map(app_server, people["lk-duty-mk"])
    assert "committed" in _hover(mk, "lk-helo") and not _carries(_hover(mk, "lk-helo"), secret["id"])
    assert not _carries(json.dumps(mk), secret["id"])
    assert _carries(_hover(_map(app_server, people["lk-duty-rs"]), "lk-helo"), secret["id"])


def _details(app_server, user, asset_id: str) -> str:
    picked = {"kind": "asset", "id": asset_id}  # as the map's picker selects it (assets/map_select.js)
    response = _callback(_web(app_server, user), ids.ALERT_DETAILS, {f"{ids.SELECTED_ALERT}.data": picked},
                         f"{ids.SELECTED_ALERT}.data")
    return json.dumps(response)


def test_lk010_the_asset_details_panel_never_names_the_alert(app_server, people, tasked):
    secret, _ = tasked
    mk = _details(app_server, people["lk-duty-mk"], "lk-helo")
    assert "lk-helo" in mk and "committed" in mk
    assert not _carries(mk, secret["id"])
    assert _carries(_details(app_server, people["lk-duty-rs"], "lk-helo"), secret["id"])


def test_lk011_suggestions_never_name_the_alert(app_server, people, tasked):
    secret, shared = tasked
    path = f"/alerts/{shared['id']}/suggestions"
    mk = app_server.api(path, people["lk-duty-mk"])
    medic = next(s["asset"] for s in mk.json()["items"] if s["asset"]["id"] == "lk-medic")
    assert medic["assigned_to"] is None and not _carries(mk.text, secret["id"])
    rs = app_server.api(path, people["lk-duty-rs"]).json()["items"]
    assert next(s["asset"] for s in rs if s["asset"]["id"] == "lk-medic")["assigned_to"] == secret["id"]
    panel = json.dumps(_callback(_web(app_server, people["lk-duty-mk"]), ids.ALERT_DETAILS,
                                 {f"{ids.SELECTED_ALERT}.data": {"id": shared["id"]}}, f"{ids.SELECTED_ALERT}.data"))
    assert "lk-medic" in panel and not _carries(panel, secret["id"])


def test_lk012_a_second_assign_is_refused_without_naming_the_alert(app_server, people, tasked):
    secret, shared = tasked
    refused = _post(app_server, f"/alerts/{shared['id']}/assign", people["lk-duty-mk"], {"asset_id": "lk-helo"})
    assert refused.status_code == 409 and "another incident" in refused.text
    assert not _carries(refused.text, secret["id"])


def _calls_asset_index_visible(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "visible"
               and ((isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "asset_index")
                    or (isinstance(node.func.value, ast.Name) and node.func.value.id == "asset_index"))
               for node in ast.walk(tree))


def test_lk013_only_the_visibility_module_reads_the_asset_index_unredacted():
    """``asset_index.visible(`` lists assets with ``assigned_to`` as stored: only ``visibility`` may call it."""
    callers = {str(path.relative_to(ROOT)) for package in ("alerts", "dashboard", "layers")
               for path in sorted((ROOT / package).rglob("*.py"))
               if _calls_asset_index_visible(ast.parse(path.read_text(encoding="utf-8")))}
    assert callers == {"alerts/actions/visibility.py"}
