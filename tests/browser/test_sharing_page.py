"""The sharing page in a real headless Chromium: an admin releases an unrouted alert and it appears on a duty
officer's open map; the originating nation narrows an alert and it leaves another nation's open map."""
from __future__ import annotations

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.browser.test_map_live import _wait_live, _wait_on_map
from tests.conftest import make_alert, payload, sign_in, wait_for

pytestmark = pytest.mark.browser


def _pick(page, dropdown: str, text: str) -> None:
    """Choose the option matching ``text`` in a Dash 4 dropdown (its popover has a search box)."""
    page.click(dropdown)
    page.get_by_role("option").first.wait_for(timeout=15_000)  # the popover is open: typing reaches its search box
    page.keyboard.type(text)
    page.get_by_role("option", name=text).first.wait_for(timeout=15_000)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("([sel, text]) => document.querySelector(sel).innerText.includes(text)",
                           arg=[dropdown, text], timeout=15_000)


def _list_ids(page) -> list[str]:
    return page.eval_on_selector_all("#alert-list [data-alert-id]", "els => els.map(e => e.dataset.alertId)")


def test_shp001_an_admin_releases_an_unrouted_alert_and_it_appears_live(server, users, browser):
    client, keys = redis.Redis.from_url(server.redis_url), Keys(server.prefix)
    alert = make_alert(source="ZZ-PATROL", releasable_to=None, severity="critical", title="Unrouted patrol report")
    del alert["releasable_to"]
    officer_context, admin_context = browser.new_context(), browser.new_context()
    officer, admin = officer_context.new_page(), admin_context.new_page()
    try:
        sign_in(officer, server.url, users["duty-rs"])
        _wait_live(officer)
        send_to_stream(client, keys, [payload(alert)])
        sign_in(admin, server.url, users["admin-mk"], "/sharing")
        admin.wait_for_selector(f".unrouted-table [data-alert-id='{alert['id']}']", timeout=20_000)
        assert "source ZZ-PATROL" in admin.inner_text(f".unrouted-table [data-alert-id='{alert['id']}']")
        assert alert["id"] not in _list_ids(officer)

        admin.fill("#release-alert", alert["id"])
        _pick(admin, "#release-nations", "Serbia")
        admin.fill("#release-reason", "RS border police patrol")
        admin.click("#release-submit")
        admin.wait_for_selector("#release-message:has-text('Released')", timeout=15_000)
        _wait_on_map(officer, [alert["id"]])
        officer.wait_for_selector(f"#alert-list [data-alert-id='{alert['id']}']", timeout=15_000)
        admin.wait_for_selector(f".unrouted-table [data-alert-id='{alert['id']}']", state="detached",
                                timeout=20_000)
    finally:
        officer_context.close()
        admin_context.close()


def test_shp002_the_originating_nation_narrows_an_alert_and_it_leaves_another_nations_map(server, users, browser):
    client, keys = redis.Redis.from_url(server.redis_url), Keys(server.prefix)
    alert = make_alert(source="RS", releasable_to=["RS", "GR"], title="Shared then withdrawn")
    rs_context, gr_context = browser.new_context(), browser.new_context()
    rs, gr = rs_context.new_page(), gr_context.new_page()
    try:
        sign_in(gr, server.url, users["resp-gr"])
        _wait_live(gr)
        send_to_stream(client, keys, [payload(alert)])
        gr.wait_for_selector(f"#alert-list [data-alert-id='{alert['id']}']", timeout=20_000)
        gr.click(f"#alert-list [data-alert-id='{alert['id']}']")  # GR reads its details
        gr.wait_for_selector("#details-card:has-text('Shared then withdrawn')", timeout=15_000)
        sign_in(rs, server.url, users["duty-rs"], f"/sharing?alert={alert['id']}")
        assert rs.input_value("#change-alert") == alert["id"]
        _pick(rs, "#change-nations", "Serbia")
        rs.fill("#change-reason", "GR no longer involved")
        rs.click("#change-submit")
        rs.wait_for_selector("#change-message:has-text('Released to RS')", timeout=15_000)
        gr.wait_for_selector(f"#alert-list [data-alert-id='{alert['id']}']", state="detached", timeout=20_000)
        gr.wait_for_function("() => !document.querySelector('#alert-details').innerText.includes('Shared then')",
                             timeout=5_000)  # nor its details, still open on GR's screen
        wait_for(lambda: alert["id"] not in gr.evaluate(
            "() => document.querySelector('#incident-map .js-plotly-plot').data"
            ".flatMap(t => Array.from(t.customdata || []))"), what="the point gone from the GR map")
    finally:
        rs_context.close()
        gr_context.close()
