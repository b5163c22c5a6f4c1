"""The response queue in a real headless Chromium, against a running server on real Redis."""
from __future__ import annotations

from urllib.parse import quote

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import make_alert, payload, sign_in

pytestmark = pytest.mark.browser


def _item(alert_id: str) -> str:
    return f'#queue li[data-alert-id="{alert_id}"]'


def test_rsp001_a_new_critical_alert_is_acknowledged_and_worked_from_the_queue(server, users, page):
    responder = users["resp-gr"]
    sign_in(page, server.url, responder, path="/queue")
    page.wait_for_selector("#queue", timeout=20_000)

    alert = make_alert(type="terrorism", severity="critical", title="Armed attack at the central market")
    send_to_stream(redis.Redis.from_url(server.redis_url), Keys(server.prefix), [payload(alert)])
    item = _item(alert["id"])
    page.wait_for_selector(item, timeout=15_000)  # no reload: the queue is pushed
    page.wait_for_function("() => /Armed attack at the central market/.test("
                           "document.querySelector('#critical-banner').innerText)", timeout=5_000)
    assert "pulse" in page.get_attribute(item, "class")
    page.wait_for_function(
        "id => { const c = document.querySelector(`#queue li[data-alert-id=\"${id}\"] .countdown`);"
        " return c && /to acknowledge/.test(c.textContent); }", arg=alert["id"], timeout=5_000)
    assert page.locator(f"{item} .sev").inner_text() == "CRITICAL"
    # Most urgent first: an unacknowledged critical alert leads the queue.
    assert page.locator("#queue li").first.get_attribute("data-alert-id") == alert["id"]

    page.click(f"{item} .ack-button")
    page.wait_for_function(
        "id => { const li = document.querySelector(`#queue li[data-alert-id=\"${id}\"]`);"
        " return li && /acknowledged by/.test(li.innerText) && !li.querySelector('.ack-button'); }",
        arg=alert["id"], timeout=10_000)
    page.wait_for_function("() => !/Armed attack/.test(document.querySelector('#critical-banner').innerText)",
                           timeout=5_000)  # the alarm cleared

    page.click(f"{item} .open-button")
    page.wait_for_selector(f'#checklist-panel .case[data-alert-id="{alert["id"]}"] .step-button', timeout=10_000)
    first_title = page.locator("#steps li").first.locator(".step-title").inner_text()
    assert first_title.startswith("Confirm and classify")
    page.fill('#steps li[data-step="1"] .note-input input', "Confirmed with GR police")
    page.click('#steps li[data-step="1"] .step-button')
    page.wait_for_selector('#steps li[data-step="1"].is-done', timeout=10_000)
    done_text = page.inner_text('#steps li[data-step="1"]')
    assert f"done by {responder.name}" in done_text and "Confirmed with GR police" in done_text

    checklist = server.api(f"/alerts/{quote(alert['id'], safe='')}/checklist", responder).json()
    assert checklist["status"] == "in_progress"
    assert checklist["acknowledged"]["by"] == responder.name
    assert (checklist["steps"][0]["done_by"], checklist["steps"][0]["note"]) == (responder.name,
                                                                                "Confirmed with GR police")


def test_rsp002_the_queue_is_usable_at_phone_width(server, users, browser):
    responder = users["resp-gr"]
    send_to_stream(redis.Redis.from_url(server.redis_url), Keys(server.prefix),
                   [payload(make_alert(severity="critical", title="A rather long alert title " * 6))])
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, server.url, responder, path="/queue")
    page.wait_for_selector("#queue li[data-alert-id] .ack-button", timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#queue li[data-alert-id] .ack-button").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 30
    first = page.locator("#queue li[data-alert-id]").first
    alert_id = first.get_attribute("data-alert-id")
    first.locator(".ack-button").click()
    page.wait_for_function(
        "id => !document.querySelector(`#queue li[data-alert-id=\"${id}\"] .ack-button`)", arg=alert_id,
        timeout=10_000)
    page.locator(f'#queue li[data-alert-id="{alert_id}"] .open-button').click()
    page.wait_for_selector("#steps .step-button", timeout=10_000)  # the checklist, with note inputs
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#steps .step-button").first.bounding_box()["x"] + 10 <= 390
    context.close()


def test_rsp003_a_role_without_the_permission_is_refused_on_the_server(server, users, page):
    """Leadership sees the queue but no Acknowledge button, and a forged click is refused."""
    alert = make_alert(severity="high", title="Leadership cannot acknowledge this")
    send_to_stream(redis.Redis.from_url(server.redis_url), Keys(server.prefix), [payload(alert)])
    sign_in(page, server.url, users["lead-hr"], path="/queue")
    page.wait_for_selector(_item(alert["id"]), timeout=15_000)
    assert page.locator(f"{_item(alert['id'])} .ack-button").count() == 0
    forged = page.evaluate(
        """async (id) => {
          const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/) || [])[1] || "");
          const trigger = {id: id, type: "ack"};
          const body = {output: "..workflow-changed.data...action-message.children..",
            outputs: [{id: "workflow-changed", property: "data"}, {id: "action-message", property: "children"}],
            inputs: [[{id: trigger, property: "n_clicks", value: 1}], [], []],
            changedPropIds: [JSON.stringify(trigger) + ".n_clicks"],
            state: [[], [], {id: "selected-case", property: "data", value: null}]};
          const r = await fetch("/_dash-update-component", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}, body: JSON.stringify(body)});
          return {status: r.status, text: await r.text()};
        }""", alert["id"])
    assert forged["status"] == 200 and "may not acknowledge" in forged["text"], forged
    checklist = server.api(f"/alerts/{quote(alert['id'], safe='')}/checklist", users["duty-rs"]).json()
    assert checklist["acknowledged"] is None


def test_rsp004_a_duty_officer_resolves_from_the_queue(server, users, page):
    duty = users["duty-rs"]
    alert = make_alert(severity="medium", title="Resolved from the queue")
    send_to_stream(redis.Redis.from_url(server.redis_url), Keys(server.prefix), [payload(alert)])
    sign_in(page, server.url, duty, path="/queue")
    item = _item(alert["id"])
    page.wait_for_selector(f"{item} .ack-button", timeout=15_000)
    page.click(f"{item} .ack-button")
    page.wait_for_function("id => !document.querySelector(`#queue li[data-alert-id=\"${id}\"] .ack-button`)",
                           arg=alert["id"], timeout=10_000)
    page.click(f"{item} .open-button")
    page.click(f'#checklist-panel .case[data-alert-id="{alert["id"]}"] .resolve-ask', timeout=10_000)
    page.click("#resolve-dialog .resolve-confirm")  # its steps are open: it asks first
    page.wait_for_selector(item, state="detached", timeout=10_000)  # closed: off the queue
    checklist = server.api(f"/alerts/{quote(alert['id'], safe='')}/checklist", duty).json()
    assert checklist["resolved"]["by"] == duty.name
